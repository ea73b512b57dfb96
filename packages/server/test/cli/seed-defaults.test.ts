import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../support/server.js';
import { startCliWorld, type Cli, type CliWorld } from './harness.js';

/** The `apitoken create` seed's line, word for word. */
const seedLine = /^ApiToken with id: (\S+) has been created, your token is: (\S+) please keep it safe\n$/;

/**
 * The `apitoken create` seed through the CLI as a process (issue 15, items 1, 2, 3, 5): its exact
 * output line; "If password expiration is not enabled, tokens do not expire unless
 * --expiry-date is set" where policy allows it; a second default-named token; 30-day access tokens.
 */
describe('tessera token create: the seed\'s defaults and its line', () => {
  let world: CliWorld;
  let ts: TestServer;
  let cli: Cli;

  before(async () => {
    world = await startCliWorld();
    ({ ts, cli } = world);
  });
  after(async () => world.close());

  async function created(args: string[]): Promise<{ id: string; token: string }> {
    const result = await cli.run(['token', 'create', ...args]);
    assert.equal(result.code, 0, result.stderr);
    const match = seedLine.exec(result.stdout);
    assert.ok(match, `stdout is exactly the seed's line: ${JSON.stringify(result.stdout)}`);
    return { id: match[1] as string, token: match[2] as string };
  }
  const show = async (id: string) => (await ts.request('GET', `/api/v1/tokens/${id}`, { token: world.admin })).body;

  it('prints the seed\'s line exactly, and a second token without a name is <owner>_api_token_2', async () => {
    const first = await created([]);
    assert.ok(first.token.startsWith(`tsr_${first.id}.`));
    assert.equal((await show(first.id)).name, 'admin_api_token');
    const second = await created([]);
    assert.equal((await show(second.id)).name, 'admin_api_token_2');
    for (const id of [first.id, second.id]) assert.equal((await cli.run(['token', 'revoke', id, '--yes'])).code, 0);
  });

  it('with the renewable period "none" (password expiry off), tokens do not expire unless --expiry-date is set', async () => {
    const refused = await cli.run(['policy', 'set', '--renewable-period', 'none']);
    assert.equal(refused.code, 1, 'refused while tokens without expiry are not allowed');
    assert.match(refused.stderr, /allow_no_expiry/);

    const set = await cli.run(['policy', 'set', '--allow-no-expiry', 'true', '--renewable-period', 'none']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /renewable period\s+none \(tokens do not expire unless given an expiry\)/);
    assert.match(set.stdout, /password expiry\s+none/);

    const plain = await created([]);
    assert.equal((await show(plain.id)).expires_at, null, 'no --expiry-date: no expiry');
    const listed = await cli.run(['token', 'show', plain.id]);
    assert.match(listed.stdout, /renewable until\s+never/);

    const dated = await created(['--name', 'AWS_TOKEN', '--expiry-date', '1D']);
    const expiresAt = (await show(dated.id)).expires_at as string;
    assert.ok(Math.abs(Date.parse(expiresAt) - Date.now() - 86_400_000) < 60_000, '--expiry-date 1D still applies');

    const back = await cli.run(['policy', 'set', '--renewable-period', '90D', '--allow-no-expiry', 'false']);
    assert.equal(back.code, 0, back.stderr);
    for (const id of [plain.id, dated.id]) await cli.run(['token', 'revoke', id, '--yes']);
  });

  it('policy set --access-token-ttl 30D gives access tokens of 2592000 seconds', async () => {
    const set = await cli.run(['policy', 'set', '--access-token-ttl', '30D', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json().access_token_ttl_seconds, 2_592_000);
    const made = await cli.run(['token', 'create', '--name', 'monthly', '--json']);
    assert.equal(made.json().expires_in, 2_592_000);
    const tooLong = await cli.run(['policy', 'set', '--access-token-ttl', '31D']);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /2592000 \(30D\)/);
    await cli.run(['policy', 'set', '--access-token-ttl', '30m']);
  });
});
