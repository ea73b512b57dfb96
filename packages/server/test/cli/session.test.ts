import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/program.js';
import { createOrg, loginAdmin, userPassword } from '../support/fixtures.js';
import { TestClock, adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { cliFor, closedUrl, requestCount, type Cli } from './harness.js';

describe('tessera login, logout, whoami and the conventions every command shares', () => {
  let ts: TestServer;
  let cli: Cli;
  const sessionFile = () => join(cli.configDir, 'session.json');
  const stored = () => JSON.parse(readFileSync(sessionFile(), 'utf8')) as Record<string, string>;

  before(async () => {
    ts = await startTestServer();
    cli = cliFor(ts);
  });
  after(async () => {
    cli.cleanup();
    await ts.close();
  });

  it('login reads TESSERA_PASSWORD and stores the session owner-only (file 0600, directory 0700)', async () => {
    const result = await cli.run(['login', '--url', ts.url, '--user', 'admin'], { env: { TESSERA_PASSWORD: adminPassword } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Logged in to ${ts.url} as admin.\n`);
    assert.equal(statSync(sessionFile()).mode & 0o777, 0o600);
    assert.equal(statSync(cli.configDir).mode & 0o777, 0o700);
    const session = stored();
    assert.deepEqual(Object.keys(session).sort(), ['expires_at', 'org', 'session_token', 'url', 'username']);
    assert.equal(session['url'], ts.url);
    assert.equal(session['username'], 'admin');
    assert.equal((await ts.request('GET', '/api/v1/me', { token: session['session_token'] })).status, 200, 'the stored session works');
    assert.ok(!readFileSync(sessionFile(), 'utf8').includes(adminPassword), 'the password is never stored');
    assert.ok(!result.stdout.includes(session['session_token'] as string) && !result.stderr.includes(session['session_token'] as string), 'the session token is never printed');
  });

  it('login reads the password from stdin when it is not a terminal; --json prints the session without its token', async () => {
    const result = await cli.run(['login', '--url', ts.url, '--user', 'admin', '--json'], { input: `${adminPassword}\n` });
    assert.equal(result.code, 0, result.stderr);
    const body = result.json();
    assert.equal(body.url, ts.url);
    assert.equal(body.username, 'admin');
    assert.equal(body.principal.username, 'admin');
    assert.equal(body.session_token, undefined);
    assert.ok(!result.stdout.includes(stored()['session_token'] as string));
  });

  it('login refusals: wrong password (4), no username without a terminal (2), empty password (2), bad URL (2), no server (3)', async () => {
    const before = stored();
    const wrong = await cli.run(['login', '--url', ts.url, '--user', 'admin'], { input: 'not the password\n' });
    assert.equal(wrong.code, 4);
    assert.equal(wrong.stderr, 'tessera: Invalid username or password\n');
    assert.deepEqual(stored(), before, 'a failed login keeps the session there was');

    const noUser = await cli.run(['login', '--url', ts.url], { input: `${adminPassword}\n` });
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--user/);

    const empty = await cli.run(['login', '--url', ts.url, '--user', 'admin'], { input: '\n' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /No password given/);

    const badUrl = await cli.run(['login', '--url', 'ftp://example.com', '--user', 'admin'], { input: 'x\n' });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /use http:\/\/ or https:\/\//);

    const nowhere = await closedUrl();
    const unreachable = await cli.run(['login', '--url', nowhere, '--user', 'admin'], { input: 'x\n' });
    assert.equal(unreachable.code, 3);
    assert.equal(unreachable.stderr, `tessera: Cannot reach the Tessera server at ${nowhere}: connect ECONNREFUSED ${nowhere.slice('http://'.length)}\n`);
    const unreachableJson = await cli.run(['login', '--url', nowhere, '--user', 'admin', '--json'], { input: 'x\n' });
    assert.equal(JSON.parse(unreachableJson.stderr).error.exit_code, 3);
  });

  it('login --org logs in to another organization', async () => {
    const admin = await loginAdmin(ts);
    await createOrg(ts, admin, 'faraway');
    const other = cliFor(ts);
    try {
      const result = await other.run(['login', '--url', ts.url, '--user', 'faraway-owner', '--org', 'faraway'], { env: { TESSERA_PASSWORD: userPassword } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `Logged in to ${ts.url} as faraway-owner in faraway.\n`);
      const me = (await other.run(['whoami', '--json'])).json();
      assert.equal(me.principal.username, 'faraway-owner');
      assert.ok(me.effective_roles.includes('org-owner'));
      const wrongOrg = await other.run(['login', '--url', ts.url, '--user', 'faraway-owner', '--org', 'default'], { env: { TESSERA_PASSWORD: userPassword } });
      assert.equal(wrongOrg.code, 4);
    } finally {
      other.cleanup();
    }
  });

  it('whoami shows the user, roles and rights; --json the API\'s answer', async () => {
    const human = await cli.run(['whoami']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^username\s+admin$/m);
    assert.match(human.stdout, /^roles\s+org-owner$/m);
    assert.match(human.stdout, new RegExp(`^server\\s+${ts.url.replace(/\./g, '\\.')}$`, 'm'));
    const json = (await cli.run(['whoami', '--json'])).json();
    assert.equal(json.principal.username, 'admin');
    assert.ok(json.rights.includes('tokens.own'));
    assert.equal(json.auth_method, 'pwd');
    assert.equal(json.url, ts.url);
  });

  it('the session goes only to its own server: --url or TESSERA_URL elsewhere is "not logged in" (4)', async () => {
    const before = requestCount(ts);
    const elsewhere = await cli.run(['whoami', '--url', 'http://127.0.0.1:9']);
    assert.equal(elsewhere.code, 4);
    assert.match(elsewhere.stderr, /Not logged in to http:\/\/127\.0\.0\.1:9 \(the stored session is for http/);
    const byEnv = await cli.run(['whoami'], { env: { TESSERA_URL: 'http://example.invalid:8080' } });
    assert.equal(byEnv.code, 4);
    assert.equal(requestCount(ts), before);
    assert.equal((await cli.run(['whoami'], { env: { TESSERA_URL: `${ts.url}/` } })).code, 0, 'the same server, written differently');
  });

  it('logout ends the session on the server and removes the file; afterwards commands exit 4', async () => {
    const token = stored()['session_token'] as string;
    const result = await cli.run(['logout']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Logged out of ${ts.url}.\n`);
    assert.ok(!existsSync(sessionFile()));
    assert.equal((await ts.request('GET', '/api/v1/me', { token })).status, 401, 'the session is over on the server too');

    for (const args of [['logout'], ['whoami'], ['token', 'list'], ['user', 'list'], ['policy', 'show'], ['audit', 'list']]) {
      const refused = await cli.run(args);
      assert.equal(refused.code, 4, `${args.join(' ')}: ${refused.stderr}`);
      assert.equal(refused.stderr, 'tessera: Not logged in: run `tessera login` first\n');
    }

    await cli.login('admin', adminPassword);
    const json = await cli.run(['logout', '--json']);
    assert.equal(json.code, 0);
    assert.equal(json.json().logged_out, true);
  });

  it('a session that ended on the server answers 401, reported as exit 4 with what to do', async () => {
    await cli.login('admin', adminPassword);
    const token = stored()['session_token'] as string;
    assert.equal((await ts.request('DELETE', '/api/v1/sessions/current', { token })).status, 204);
    const ended = await cli.run(['whoami']);
    assert.equal(ended.code, 4);
    assert.equal(ended.stderr, 'tessera: The stored session is no longer valid (expired, ended or revoked): run `tessera login`\n');
    const logout = await cli.run(['logout']);
    assert.equal(logout.code, 0, 'logging out of an ended session still clears it');
    assert.match(logout.stderr, /already ended/);
    assert.ok(!existsSync(sessionFile()));

    writeFileSync(sessionFile(), 'not json', { mode: 0o600 });
    assert.equal((await cli.run(['whoami'])).code, 4, 'a damaged session file is no session');
  });

  it('usage errors exit 2; help and --version exit 0', async () => {
    for (const args of [[], ['bogus'], ['token'], ['token', 'show'], ['token', 'list', '--nope'], ['token', 'list', '--limit', '0'], ['completion', 'fish'], ['role', 'create', 'x', '--right', 'everything']]) {
      const result = await cli.run(args);
      assert.equal(result.code, 2, `tessera ${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
    }
    const help = await cli.run(['token', 'create', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:\n {2}tessera token create/);
    assert.equal((await cli.run(['--version'])).stdout, '0.1.0\n');
  });

  it('every command\'s --help has examples', () => {
    let text = '';
    const sink = { write: (chunk: string) => ((text += chunk), true), isTTY: false };
    const program = createProgram({ stdin: process.stdin, stdout: sink as never, stderr: sink as never, env: {} });
    const leaves: Command[] = [];
    const visit = (command: Command) => (command.commands.length === 0 ? leaves.push(command) : command.commands.forEach(visit));
    visit(program);
    assert.ok(leaves.length >= 40, `${leaves.length} commands`);
    for (const command of leaves) {
      text = '';
      command.outputHelp();
      assert.match(text, /\nExamples:\n {2}.*\btessera\b/, `${command.parent?.name()} ${command.name()} --help shows examples`);
      assert.match(text, /--json/, `${command.name()} lists the global --json`);
    }
  });

  it('completion prints a bash script that completes commands, options and their values; zsh too', async () => {
    const bash = await cli.run(['completion', 'bash']);
    assert.equal(bash.code, 0, bash.stderr);
    const script = join(tmpdir(), `tessera-completion-${process.pid}.bash`);
    writeFileSync(script, bash.stdout);
    const complete = (...words: string[]) =>
      spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tessera_complete; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(complete('tessera', 'tok'), 'token');
    assert.equal(complete('tessera', 'token', 'r'), 'rotate revoke revoke-all');
    assert.equal(complete('tessera', 'token', 'create', '--exp'), '--expiry-date');
    assert.equal(complete('tessera', '--json', 'service-account', 'cr'), 'create');
    assert.equal(complete('tessera', 'token', 'list', '--status', ''), 'active expired idle revoked');
    assert.equal(complete('tessera', 'audit', 'export', '--fo'), '--follow');
    rmSync(script);

    const zsh = await cli.run(['completion', 'zsh']);
    assert.equal(zsh.code, 0);
    assert.match(zsh.stdout, /^#compdef tessera\n/);
    assert.match(zsh.stdout, /compdef _tessera tessera/);

    const json = (await cli.run(['completion', 'bash', '--json'])).json();
    assert.equal(json.shell, 'bash');
    assert.equal(json.script, bash.stdout);
  });
});

describe('tessera login with an expired password (SPEC 4)', () => {
  let ts: TestServer;
  let cli: Cli;
  const clock = new TestClock();

  before(async () => {
    ts = await startTestServer({ clock });
    cli = cliFor(ts);
    const admin = await loginAdmin(ts);
    const set = await ts.request('PUT', '/api/v1/policy', { token: admin, body: { password_expiry_seconds: 86_400 } });
    assert.equal(set.status, 200, set.text);
    clock.advance(2 * 86_400);
  });
  after(async () => {
    cli.cleanup();
    await ts.close();
  });

  it('without a terminal, asks for TESSERA_NEW_PASSWORD (exit 2) and then replaces the password and logs in', async () => {
    const refused = await cli.run(['login', '--url', ts.url, '--user', 'admin'], { env: { TESSERA_PASSWORD: adminPassword } });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /expired.*TESSERA_NEW_PASSWORD/);
    const renewed = 'the renewed admin passphrase';
    const result = await cli.run(['login', '--url', ts.url, '--user', 'admin'], { env: { TESSERA_PASSWORD: adminPassword, TESSERA_NEW_PASSWORD: renewed } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `Logged in to ${ts.url} as admin.\n`);
    assert.match(result.stderr, /Password changed/);
    assert.ok(!result.stdout.includes(renewed) && !result.stderr.includes(renewed), 'the new password is never printed');
    assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: renewed } })).status, 201);
    assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: adminPassword } })).status, 401);
  });
});
