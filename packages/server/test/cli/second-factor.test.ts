import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { totp } from '../support/totp.js';
import { cliFor, haveScript, onTerminal as runOnTerminal, type Cli, type TerminalAnswer } from './harness.js';

/** `tessera login` with two-factor login (issue 15 item 6): --otp, TESSERA_OTP, the prompt, and enrolment at login. */
describe('tessera login with a second factor', { skip: !haveScript && 'needs util-linux script' }, () => {
  let ts: TestServer;
  let cli: Cli;
  let admin: string;
  let recovery: string[] = [];

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    cli = cliFor(ts);
    const mona = await createUser(ts, admin, 'mona', ['member']);
    const started = await ts.request('POST', '/api/v1/me/second-factor', { token: mona.token });
    const confirmed = await ts.request('POST', '/api/v1/me/second-factor/confirm', { token: mona.token, body: { code: totp(started.body.secret, new Date()) } });
    assert.equal(confirmed.status, 200, confirmed.text);
    recovery = confirmed.body.recovery_codes;
  });
  after(async () => {
    cli.cleanup();
    await ts.close();
  });

  const onTerminal = (args: readonly string[], answers: readonly TerminalAnswer[]) => runOnTerminal(cli.configDir, args, answers);

  it('without a terminal, says how to give the code (exit 2); --otp and TESSERA_OTP log in', async () => {
    const refused = await cli.run(['login', '--url', ts.url, '--user', 'mona'], { env: { TESSERA_PASSWORD: userPassword } });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /give the code with --otp CODE or TESSERA_OTP/);
    const wrong = await cli.run(['login', '--url', ts.url, '--user', 'mona', '--otp', 'zzzz-zzzz-zzzz'], { env: { TESSERA_PASSWORD: userPassword } });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /authentication code is not valid/);
    const flag = await cli.run(['login', '--url', ts.url, '--user', 'mona', '--otp', recovery[0] as string], { env: { TESSERA_PASSWORD: userPassword } });
    assert.equal(flag.code, 0, flag.stderr);
    const env = await cli.run(['login', '--url', ts.url, '--user', 'mona'], { env: { TESSERA_PASSWORD: userPassword, TESSERA_OTP: recovery[1] as string } });
    assert.equal(env.code, 0, env.stderr);
  });

  it('on a terminal, asks for the code after the password', async () => {
    const result = await onTerminal(['login', '--url', ts.url, '--user', 'mona'], [
      { when: /Password for mona at \S+: $/, send: () => `${userPassword}\r` },
      { when: /Authentication code: /, send: () => `${recovery[2]}\r` },
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Logged in to \S+ as mona\./);
  });

  it('where the policy requires it, enrols an authenticator at login and shows the recovery codes once', async () => {
    assert.equal((await ts.request('PUT', '/api/v1/policy', { token: admin, body: { require_second_factor: true } })).status, 200);
    await createUser(ts, admin, 'nora', ['member']).catch(() => undefined);
    const result = await onTerminal(['login', '--url', ts.url, '--user', 'nora'], [
      { when: /Password for nora at \S+: $/, send: () => `${userPassword}\r` },
      { when: /Authentication code: /, send: (output) => `${totp(/secret: ([A-Z2-7]+)/.exec(output)?.[1] ?? '', new Date())}\r` },
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /requires two-factor login/);
    assert.match(result.output, /otpauth:\/\/totp\//);
    assert.match(result.output, /Recovery codes \(each works once/);
    assert.match(result.output, /Logged in to \S+ as nora\./);
  });
});
