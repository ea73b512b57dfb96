import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createUser } from '../support/fixtures.js';
import type { TestServer } from '../support/server.js';
import { startCliWorld, type CliWorld, requestCount, type Cli } from './harness.js';

describe('tessera policy and audit, against a real server', () => {
  let ts: TestServer;
  let cli: Cli;
  let member: Cli;
  let admin: string;
  let aliceId: string;

  let world: CliWorld;
  before(async () => {
    world = await startCliWorld();
    ({ ts, cli, member, admin, aliceId } = world);
  });
  after(async () => world.close());

  it('policy show prints the settings for people, --json as the API has them', async () => {
    const human = await cli.run(['policy', 'show']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^access-token TTL\s+30m$/m);
    assert.match(human.stdout, /^renewable period\s+90D$/m);
    assert.match(human.stdout, /^max tokens per user\s+5$/m);
    assert.match(human.stdout, /^allowed IPs\s+any$/m);
    const json = (await member.run(['policy', 'show', '--json'])).json();
    assert.equal(json.max_tokens_per_service_account, 20, 'anyone may read the policy');
  });

  it('policy set changes what is given (the seeds\' set_max_api_tokens_per_user), keeping the rest', async () => {
    const seeds = await cli.run(['policy', 'set', '--max-tokens-per-user', '3']);
    assert.equal(seeds.code, 0, seeds.stderr);
    assert.match(seeds.stdout, /^max tokens per user\s+3$/m);
    assert.equal(seeds.stderr, 'The policy has been updated.\n');

    const json = await cli.run(['policy', 'set', '--max-token-lifetime', '180D', '--idle-timeout', '30D', '--allow-no-expiry', 'false', '--allow-ip', '10.0.0.0/8', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const policy = json.json();
    assert.equal(policy.max_token_lifetime_seconds, 180 * 86_400);
    assert.equal(policy.idle_timeout_seconds, 30 * 86_400);
    assert.equal(policy.allow_no_expiry, false);
    assert.deepEqual(policy.ip_allowlist, ['10.0.0.0/8']);
    assert.equal(policy.max_tokens_per_user, 3, 'left out, kept');

    const cleared = (await cli.run(['policy', 'set', '--max-token-lifetime', 'none', '--idle-timeout', 'none', '--any-ip', '--max-tokens-per-user', '5', '--json'])).json();
    assert.equal(cleared.max_token_lifetime_seconds, null);
    assert.deepEqual(cleared.ip_allowlist, []);
  });

  it('policy set refusals: nothing given or bad input (2, nothing sent), a server limit or no right (1)', async () => {
    const before = requestCount(ts);
    for (const args of [[], ['--access-token-ttl', '1.5m'], ['--allow-ip', '010.0.0.1'], ['--allow-no-expiry', 'maybe'], ['--max-tokens-per-user', '0'], ['--allow-ip', '10.0.0.1', '--any-ip']]) {
      const result = await cli.run(['policy', 'set', ...args]);
      assert.equal(result.code, 2, `policy set ${args.join(' ')}: ${result.stderr}`);
    }
    assert.equal(requestCount(ts), before, 'no request was sent');

    const tooShort = await cli.run(['policy', 'set', '--access-token-ttl', '10s']);
    assert.equal(tooShort.code, 1);
    assert.equal(tooShort.stderr, 'tessera: access_token_ttl_seconds must be a whole number of seconds from 60 (1m) to 2592000 (30D)\n');
    const forbidden = await member.run(['policy', 'set', '--max-tokens-per-user', '50', '--json']);
    assert.equal(forbidden.code, 1);
    assert.equal(JSON.parse(forbidden.stderr).error.status, 403);
  });

  it('audit list: a table, --json the page, filters by action, actor (a username) and time', async () => {
    const human = await cli.run(['audit', 'list']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^TIME\s+ACTION\s+OUTCOME\s+ACTOR\s+VIA TOKEN\s+TARGET\s+CLIENT IP\n/);
    assert.match(human.stdout, /\spolicy\.updated\s/);

    const all = (await cli.run(['audit', 'list', '--limit', '500', '--json'])).json();
    assert.ok(all.items.length > 5);
    assert.equal(all.next_cursor, null);

    const policy = (await cli.run(['audit', 'list', '--action', 'policy.*', '--json'])).json();
    assert.ok(policy.items.length >= 3);
    assert.ok(policy.items.every((e: { action: string }) => e.action.startsWith('policy.')));

    const byAlice = (await cli.run(['audit', 'list', '--actor', 'alice', '--json'])).json();
    assert.ok(byAlice.items.length >= 1, 'alice logged in and was refused a policy change');
    assert.ok(byAlice.items.every((e: { actor_principal_id: string }) => e.actor_principal_id === aliceId));

    const recent = (await cli.run(['audit', 'list', '--since', '1h', '--json'])).json();
    assert.equal(recent.items.length, Math.min(all.items.length, 50));
    const future = (await cli.run(['audit', 'list', '--since', '2099-01-01', '--json'])).json();
    assert.deepEqual(future.items, []);
    assert.equal((await cli.run(['audit', 'list', '--until', '1h'])).stdout, 'No audit events.\n');

    assert.equal((await cli.run(['audit', 'list', '--since', 'yesterday'])).code, 2);
    const forbidden = await member.run(['audit', 'list']);
    assert.equal(forbidden.code, 1, 'a member has no audit.read');
  });

  it('audit export writes JSON Lines, one event per line, the same events as the list', async () => {
    const listed = (await cli.run(['audit', 'list', '--limit', '1000', '--json'])).json();
    const result = await cli.run(['audit', 'export']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress when stderr is not a terminal');
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; action: string });
    assert.ok(lines.length >= listed.items.length);
    assert.deepEqual(
      lines.slice(lines.length - listed.items.length).map((e) => e.id),
      listed.items.map((e: { id: string }) => e.id),
      'newest first, as the list',
    );

    const filtered = await cli.run(['audit', 'export', '--action', 'policy.updated', '--json']);
    assert.ok(filtered.stdout.trimEnd().split('\n').every((line) => JSON.parse(line).action === 'policy.updated'), '--json changes nothing: JSON Lines');
    assert.equal((await cli.run(['audit', 'export', '--since', '2099-01-01'])).stdout, '');

    const forbidden = await member.run(['audit', 'export']);
    assert.equal(forbidden.code, 1);
    assert.equal(forbidden.stdout, '');
    assert.equal((await cli.run(['audit', 'export', '--follow', '--until', '1h'])).code, 2);
  });

  it('audit export --follow writes new events as they happen, each once, and stops cleanly on SIGTERM', async () => {
    const follower = cli.start(['audit', 'export', '--action', 'user.*', '--follow', '--interval', '1s']);
    try {
      await follower.waitFor(/"username":"alice"/);

      await createUser(ts, admin, 'followed', ['member']);
      await follower.waitFor(/"action":"user\.created"/);
      await createUser(ts, admin, 'followed-too', ['member']);
      await follower.waitFor(/followed-too/);
      await new Promise((resolve) => setTimeout(resolve, 2500));
    } finally {
      assert.equal(await follower.stop('SIGTERM'), 0, follower.stderr());
    }
    const events = follower.stdout().trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; action: string; details: { username?: string } });
    assert.deepEqual(
      events.map((e) => [e.action, e.details.username]),
      [['user.created', 'alice'], ['user.created', 'followed'], ['user.created', 'followed-too']],
      'the export, then new events oldest first, each once',
    );
  });
});
