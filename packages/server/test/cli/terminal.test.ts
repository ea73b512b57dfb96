import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loginAdmin } from '../support/fixtures.js';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { cliFor, haveScript, onTerminal as runOnTerminal, type Cli, type TerminalAnswer } from './harness.js';

describe('tessera on a terminal: prompts without echo, confirmations, colour', { skip: !haveScript && 'needs util-linux script' }, () => {
  let ts: TestServer;
  let cli: Cli;
  let admin: string;

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    cli = cliFor(ts);
    await cli.login('admin', adminPassword);
  });
  after(async () => {
    cli.cleanup();
    await ts.close();
  });

  const onTerminal = (args: readonly string[], answers: readonly TerminalAnswer[] = [], env: Record<string, string> = {}) => runOnTerminal(cli.configDir, args, answers, env);

  it('login asks for the username and the password, and the password is not echoed', async () => {
    const result = await onTerminal(['login', '--url', ts.url], [
      { when: /Username: /, send: 'admin\r' },
      { when: /Password for admin at \S+: $/, send: `${adminPassword}\r` },
    ]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Logged in to \S+ as admin\./);
    assert.ok(!result.output.includes(adminPassword), 'the password never appears on the terminal');
  });

  it('Ctrl-C at the password prompt stops with exit 130', async () => {
    const result = await onTerminal(['login', '--url', ts.url, '--user', 'admin'], [{ when: /Password for admin/, send: '\u0003' }]);
    assert.equal(result.code, 130, result.output);
  });

  it('a new password is typed twice; two different ones change nothing', async () => {
    const result = await onTerminal(['user', 'create', 'typo'], [
      { when: /New password for typo: $/, send: 'first long password\r' },
      { when: /Repeat it: $/, send: 'second long password\r' },
    ]);
    assert.equal(result.code, 2, result.output);
    assert.match(result.output, /The two passwords differ; nothing was changed/);
    assert.ok(!result.output.includes('long password'));
  });

  it('revoke asks first: "no" keeps the token (exit 1), "y" revokes it', async () => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'asked', scope: { kind: 'all' } } });
    const id = created.body.id as string;
    const declined = await onTerminal(['token', 'revoke', id], [{ when: /\[y\/N\] /, send: 'n\r' }]);
    assert.equal(declined.code, 1, declined.output);
    assert.match(declined.output, new RegExp(`Revoke token ${id} "asked" of admin\\? This cannot be undone\\. \\[y/N\\]`));
    assert.match(declined.output, /Nothing was revoked\./);
    assert.equal((await ts.request('GET', `/api/v1/tokens/${id}`, { token: admin })).body.status, 'active');

    const confirmed = await onTerminal(['token', 'revoke', id], [{ when: /\[y\/N\] /, send: 'y\r' }]);
    assert.equal(confirmed.code, 0, confirmed.output);
    assert.match(confirmed.output, new RegExp(`API token ${id} has been revoked\\.`));
    assert.equal((await ts.request('GET', `/api/v1/tokens/${id}`, { token: admin })).body.status, 'revoked');
  });

  it('colour on a terminal, none with NO_COLOR; the export\'s count only on a terminal', async () => {
    const doomed = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'red', scope: { kind: 'all' } } });
    await ts.request('POST', `/api/v1/tokens/${doomed.body.id}/revoke`, { token: admin });
    const coloured = await onTerminal(['token', 'list', '--all']);
    assert.equal(coloured.code, 0, coloured.output);
    assert.ok(coloured.output.includes('\u001b[1mID'), 'a bold header');
    assert.ok(coloured.output.includes('\u001b[31mrevoked'), 'revoked in red');

    const plain = await onTerminal(['token', 'list', '--all'], [], { NO_COLOR: '1' });
    assert.equal(plain.code, 0);
    assert.ok(!plain.output.includes('\u001b['), 'no escape sequences with NO_COLOR');

    const exported = await onTerminal(['audit', 'export']);
    assert.equal(exported.code, 0, exported.output);
    assert.match(exported.output, /Exported \d+ events\./);
  });
});
