import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../support/server.js';
import { cliFor, startCliWorld, type CliWorld, closedUrl, occurrences, requestCount, type Cli, type CliResult } from './harness.js';

const tokenLine = /^ApiToken with id: (\S+) has been (created|rotated), your token is: (\S+) please keep it safe\n$/;

describe('tessera token, against a real server', () => {
  let ts: TestServer;
  let cli: Cli;
  let member: Cli;
  let admin: string;
  /** Every token string the CLI printed. */
  const printed: string[] = [];

  let world: CliWorld;
  before(async () => {
    world = await startCliWorld();
    ({ ts, cli, member, admin } = world);
  });
  after(async () => world.close());

  /** Runs `token create|rotate` for people and reads the one line it prints. */
  async function secretLine(who: Cli, args: string[]): Promise<{ id: string; token: string; result: CliResult }> {
    const result = await who.run(args);
    assert.equal(result.code, 0, result.stderr);
    const match = tokenLine.exec(result.stdout);
    assert.ok(match, `stdout is exactly the token line: ${JSON.stringify(result.stdout)}`);
    const [, id, , token] = match as unknown as [string, string, string, string];
    printed.push(token);
    return { id, token, result };
  }

  const exchange = (token: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token });

  it('create prints the token once in the seeds\' sentence, and nothing else on stdout', async () => {
    const { id, token, result } = await secretLine(cli, ['token', 'create', '--name', 'ci', '--expiry-date', '180D']);
    assert.ok(token.startsWith(`tsr_${id}.`));
    assert.match(result.stderr, /shown only this once/);
    assert.equal(occurrences(result.stderr, token), 0, 'the token is never on stderr');

    const shown = await ts.request('GET', `/api/v1/tokens/${id}`, { token: admin });
    assert.equal(shown.body.name, 'ci');
    assert.equal(shown.body.owner, 'admin');
    assert.ok(Math.abs(Date.parse(shown.body.expires_at) - Date.now() - 180 * 86_400_000) < 60_000, 'expires in 180 days');
    assert.equal((await exchange(token)).status, 200, 'the printed token works at the token endpoint');

    // The seeds' defaults: no options at all names the token <owner>_api_token.
    const plain = await secretLine(member, ['token', 'create']);
    assert.equal((await ts.request('GET', `/api/v1/tokens/${plain.id}`, { token: admin })).body.name, 'alice_api_token');
  });

  it('create --json prints one JSON object carrying the token once', async () => {
    const result = await cli.run([
      'token', 'create', '--name', 'reports', '--endpoint', 'GET /reports/*', '--endpoint', '/plans',
      '--allow-ip', '10.0.0.0/8', '--allow-ip', '2001:db8::1 - 2001:db8::ffff', '--role', 'org-owner', '--expiry-date', '2099-01-31', '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const body = result.json();
    printed.push(body.token);
    assert.equal(occurrences(result.stdout, body.token), 1);
    assert.deepEqual(body.scope, { kind: 'custom', endpoints: ['GET /reports/*', '/plans'] });
    assert.deepEqual(body.ip_allowlist, ['10.0.0.0/8', '2001:db8::1 - 2001:db8::ffff']);
    assert.deepEqual(body.roles, ['org-owner']);
    assert.equal(body.expires_at, '2099-01-31T00:00:00.000Z');
    assert.equal(result.stderr, '', 'no notes for scripts beyond stdout');
  });

  it('list shows an aligned table, --json the page; filters and sorting reach the server', async () => {
    const table = await cli.run(['token', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+NAME\s+OWNER\s+SCOPE\s+STATUS\s+EXPIRES\s+LAST USED$/);
    assert.equal(rows.length, 2, 'the admin\'s own two tokens');
    const nameColumn = (header ?? '').indexOf('NAME');
    assert.ok(rows.every((row) => row.slice(nameColumn - 2, nameColumn) === '  '), 'every row starts its NAME cell under the header');

    const all = (await cli.run(['token', 'list', '--all', '--sort', 'name', '--json'])).json();
    assert.deepEqual(all.items.map((t: { name: string }) => t.name), ['alice_api_token', 'ci', 'reports']);
    assert.equal(all.next_cursor, null);

    const mine = (await member.run(['token', 'list', '--json'])).json();
    assert.deepEqual(mine.items.map((t: { owner: string }) => t.owner), ['alice']);

    const limited = await cli.run(['token', 'list', '--all', '--limit', '1']);
    assert.equal(limited.stdout.trimEnd().split('\n').length, 2);
    assert.match(limited.stderr, /Showing the first 1; use --limit to see more/);

    const searched = (await cli.run(['token', 'list', '--all', '--search', 'alice', '--status', 'active', '--json'])).json();
    assert.deepEqual(searched.items.map((t: { name: string }) => t.name), ['alice_api_token']);

    const refused = await member.run(['token', 'list', '--all']);
    assert.equal(refused.code, 1, 'a member may not list the organization\'s tokens');
    assert.match(refused.stderr, /^tessera: .+/);
    assert.equal(refused.stdout, '');

    const badStatus = await cli.run(['token', 'list', '--status', 'gone']);
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /Allowed choices are active, expired, idle, revoked/);
  });

  it('show and edit a token; nothing to change or an unknown id are refused', async () => {
    const created = (await cli.run(['token', 'create', '--name', 'editable', '--json'])).json();
    printed.push(created.token);

    const shown = await cli.run(['token', 'show', created.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^id\\s+${created.id}$`, 'm'));
    assert.match(shown.stdout, /^name\s+editable$/m);
    assert.match(shown.stdout, /^allowed IPs\s+any$/m);
    assert.equal(occurrences(shown.stdout, created.token), 0);
    const shownJson = (await cli.run(['token', 'show', created.id, '--json'])).json();
    assert.equal(shownJson.id, created.id);
    assert.equal(shownJson.token, undefined);

    const edited = await cli.run(['token', 'edit', created.id, '--name', 'edited', '--expiry-date', '30D', '--allow-ip', '192.168.0.0/16', '--json']);
    assert.equal(edited.code, 0, edited.stderr);
    assert.equal(edited.json().name, 'edited');
    assert.deepEqual(edited.json().ip_allowlist, ['192.168.0.0/16']);
    assert.ok(Math.abs(Date.parse(edited.json().expires_at) - Date.now() - 30 * 86_400_000) < 60_000);

    const human = await cli.run(['token', 'edit', created.id, '--endpoint', '/plans']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^scope\s+custom$/m);
    assert.match(human.stderr, new RegExp(`API token ${created.id} has been updated`));

    const nothing = await cli.run(['token', 'edit', created.id]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /Nothing to change/);

    const unknown = await cli.run(['token', 'show', 'AAAAAAAAAAAA']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'tessera: No token with id "AAAAAAAAAAAA" in this organization\n');
    const unknownJson = await cli.run(['token', 'show', 'AAAAAAAAAAAA', '--json']);
    assert.equal(unknownJson.code, 1);
    assert.equal(unknownJson.stdout, '');
    assert.deepEqual(JSON.parse(unknownJson.stderr).error, {
      exit_code: 1,
      message: 'No token with id "AAAAAAAAAAAA" in this organization',
      status: 404,
      code: 'NOT_FOUND',
      field: null,
      request_id: JSON.parse(unknownJson.stderr).error.request_id,
    });
  });

  it('rotate prints the new token the same way; the old one stops working (or after --grace)', async () => {
    const { id, token: old } = await secretLine(cli, ['token', 'create', '--name', 'rotating']);
    const rotated = await secretLine(cli, ['token', 'rotate', id]);
    assert.equal(rotated.id, id);
    assert.notEqual(rotated.token, old);
    assert.match(rotated.result.stdout, /has been rotated/);
    assert.match(rotated.result.stderr, /The old token no longer works/);
    assert.equal((await exchange(old)).status, 400, 'the old secret is refused at once');
    assert.equal((await exchange(rotated.token)).status, 200);

    const graceful = await cli.run(['token', 'rotate', id, '--grace', '1h', '--json']);
    assert.equal(graceful.code, 0, graceful.stderr);
    const body = graceful.json();
    printed.push(body.token);
    assert.equal(occurrences(graceful.stdout, body.token), 1);
    assert.equal((await exchange(rotated.token)).status, 200, 'the previous secret works during the grace period');

    const tooLong = await cli.run(['token', 'rotate', id, '--grace', '30D']);
    assert.equal(tooLong.code, 1, 'the server\'s maximum grace period');
    assert.match(tooLong.stderr, /^tessera: The grace period can be at most 7D\n$/);
    const badGrace = await cli.run(['token', 'rotate', id, '--grace', '1.5h']);
    assert.equal(badGrace.code, 2);
  });

  it('revoke refuses without --yes when there is no terminal (exit 2), and revokes with it', async () => {
    const created = (await cli.run(['token', 'create', '--name', 'doomed', '--json'])).json();
    printed.push(created.token);

    const unconfirmed = await cli.run(['token', 'revoke', created.id]);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /add --yes/);
    assert.equal((await ts.request('GET', `/api/v1/tokens/${created.id}`, { token: admin })).body.status, 'active', 'nothing was revoked');

    const revoked = await cli.run(['token', 'revoke', created.id, '--yes', '--reason', 'test']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `API token ${created.id} has been revoked.\n`);
    assert.equal((await exchange(created.token)).status, 400, 'a revoked token is refused');

    const again = (await cli.run(['token', 'revoke', created.id, '--yes', '--json'])).json();
    assert.equal(again.status, 'revoked');
    assert.equal(again.revoke_reason, 'test');

    const foreign = await member.run(['token', 'revoke', created.id, '--yes']);
    assert.equal(foreign.code, 1, 'a member cannot revoke the admin\'s token');
  });

  describe('bad input is refused before any request is sent, in the server\'s own words', () => {
    const cases: { args: string[]; body: Record<string, unknown> }[] = [
      { args: ['--expiry-date', '1.5D'], body: { expires: '1.5D', scope: { kind: 'all' } } },
      { args: ['--allow-ip', '010.0.0.1'], body: { ip_allowlist: ['010.0.0.1'], scope: { kind: 'all' } } },
      { args: ['--endpoint', 'plans'], body: { scope: { kind: 'custom', endpoints: ['plans'] } } },
      { args: ['--expiry-date', '2020-01-31'], body: { expires: '2020-01-31', scope: { kind: 'all' } } },
      { args: ['--allow-ip', '10.0.0.1', '--allow-ip', '1.1.1.9-1.1.1.1'], body: { ip_allowlist: ['10.0.0.1', '1.1.1.9-1.1.1.1'], scope: { kind: 'all' } } },
    ];
    for (const { args, body } of cases) {
      it(`token create ${args.join(' ')}`, async () => {
        const server = await ts.request('POST', '/api/v1/tokens', { token: admin, body });
        assert.equal(server.status, 400, server.text);

        const before = requestCount(ts);
        const result = await cli.run(['token', 'create', ...args]);
        assert.equal(requestCount(ts), before, 'no request reached the server');
        assert.equal(result.code, 2, result.stderr);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, `tessera: ${server.body.detail}\n`, 'the same words as the server');

        const json = await cli.run(['token', 'create', ...args, '--json']);
        assert.equal(json.code, 2);
        assert.equal(JSON.parse(json.stderr).error.message, server.body.detail);
        assert.equal(JSON.parse(json.stderr).error.field, server.body.field);
        assert.equal(requestCount(ts), before);
      });
    }

    it('even when the server cannot be reached, or nobody is logged in: exit 2, not 3 or 4', async () => {
      const nowhere = await closedUrl();
      const closedPort = await cli.run(['token', 'create', '--expiry-date', '1.5D', '--url', nowhere]);
      assert.equal(closedPort.code, 2, closedPort.stderr);
      const stranger = cliFor(undefined);
      try {
        for (const args of [['--expiry-date', '1.5D'], ['--allow-ip', '010.0.0.1'], ['--endpoint', 'plans']]) {
          assert.equal((await stranger.run(['token', 'create', ...args])).code, 2);
        }
        assert.equal((await stranger.run(['token', 'edit', 'AAAAAAAAAAAA', '--allow-ip', '010.0.0.1'])).code, 2);
        assert.equal((await stranger.run(['token', 'create'])).code, 4, 'valid input without a session: not logged in');
        assert.equal((await cli.run(['token', 'list', '--url', nowhere])).code, 4, 'the session is not sent to another server');
      } finally {
        stranger.cleanup();
      }
    });
  });

  it('--scope takes a preset by name; the server\'s refusals of a scope print its detail (exit 1)', async () => {
    const preset = await ts.request('POST', '/api/v1/presets', { token: admin, body: { name: 'recovery', endpoints: ['/recovery/*'], mode: 'refreshable' } });
    assert.equal(preset.status, 201, preset.text);
    const created = await member.run(['token', 'create', '--name', 'recovery', '--scope', 'recovery', '--json']);
    assert.equal(created.code, 0, created.stderr);
    printed.push(created.json().token);
    assert.deepEqual(created.json().scope, { kind: 'recovery', endpoints: ['/recovery/*'] });
    assert.equal((await member.run(['token', 'revoke', created.json().id, '--yes'])).code, 0);

    const fixed = await member.run(['token', 'create', '--scope', 'recovery', '--endpoint', '/other']);
    assert.equal(fixed.code, 1);
    assert.equal(fixed.stderr, 'tessera: The preset "recovery" fixes its endpoints; leave endpoints out\n');
    const unknown = await member.run(['token', 'create', '--scope', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^tessera: Unknown scope "nope": use all, custom or a preset \(.*recovery.*\)\n$/);
  });

  it('refusals from the server print its detail and exit 1: expiry beyond the maximum, limit reached', async () => {
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_token_lifetime_seconds: 30 * 86_400, max_tokens_per_user: 2 } });
    try {
      const tooLong = await member.run(['token', 'create', '--expiry-date', '1Y']);
      assert.equal(tooLong.code, 1);
      assert.match(tooLong.stderr, /^tessera: Expiry "1Y" is beyond the maximum token lifetime of 30D: choose 30D or less/);
      const tooLongJson = await member.run(['token', 'create', '--expiry-date', '1Y', '--json']);
      assert.equal(JSON.parse(tooLongJson.stderr).error.code, 'EXPIRY_TOO_LONG');

      await secretLine(member, ['token', 'create', '--name', 'second', '--expiry-date', '1D']);
      const limited = await member.run(['token', 'create', '--name', 'third', '--expiry-date', '1D']);
      assert.equal(limited.code, 1);
      assert.equal(limited.stdout, '');
      assert.match(limited.stderr, /^tessera: alice already has 2 active tokens, the limit of 2 for users: revoke a token first/);
    } finally {
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_token_lifetime_seconds: null, max_tokens_per_user: 5 } });
    }
  });

  it('a token is on stdout exactly once, and never on stderr, in the config directory or in the server\'s logs', () => {
    assert.ok(printed.length >= 8, `${printed.length} tokens checked`);
    const stdouts = cli.transcripts.concat(member.transcripts);
    const stored = [cli.configDir, member.configDir].flatMap((dir) => readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8'))).join('\n');
    assert.match(stored, /"session_token"/, 'the session is what is stored');
    for (const token of printed) {
      const secret = token.split('.')[1] as string;
      assert.equal(stdouts.reduce((n, t) => n + occurrences(t.stdout, token), 0), 1, 'one stdout, once');
      assert.ok(stdouts.every((t) => !t.stderr.includes(secret)), 'never on stderr');
      assert.ok(!stored.includes(secret), 'never in the stored config');
      assert.ok(!ts.logs.text.includes(secret), 'never in the server\'s logs');
    }
    const sessionToken = JSON.parse(readFileSync(join(cli.configDir, 'session.json'), 'utf8')).session_token as string;
    assert.ok(stdouts.every((t) => !t.stdout.includes(sessionToken) && !t.stderr.includes(sessionToken)), 'the session token is never printed');
    assert.ok(!ts.logs.text.includes(sessionToken));
  });
});
