import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../support/server.js';
import { startCliWorld, type Cli, type CliWorld } from './harness.js';

describe('tessera token identify / revoke --value-stdin / revoke-all, as a process', () => {
  let world: CliWorld;
  let ts: TestServer;
  let cli: Cli;
  let member: Cli;
  const values: string[] = [];

  before(async () => {
    world = await startCliWorld();
    ({ ts, cli, member } = world);
  });
  after(async () => world.close());

  const createFor = async (owner: string, name: string) => {
    const response = await ts.request('POST', '/api/v1/tokens', { token: world.admin, body: { name, owner, scope: { kind: 'all' } } });
    assert.equal(response.status, 201, response.text);
    values.push(response.body.token);
    return response.body as { id: string; token: string };
  };
  const works = async (value: string) => (await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: value })).status === 200;

  it('identifies a token read from standard input', async () => {
    const made = await createFor('alice', 'leaky');
    const shown = await cli.run(['token', 'identify'], { input: `\n  ${made.token}  \n` });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(made.id));
    assert.match(shown.stdout, /alice/);
    const json = await cli.run(['token', 'identify', '--json'], { input: made.token });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.json().id, made.id);
    assert.equal(json.json().token, undefined);
  });

  it('refuses an unknown value (exit 1), empty input and a value given as an argument (exit 2)', async () => {
    const made = await createFor('alice', 'leaky-2');
    const unknown = await cli.run(['token', 'identify'], { input: made.token.slice(0, -1) + (made.token.endsWith('a') ? 'b' : 'a') });
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /No token of this organization has this value/);
    const empty = await cli.run(['token', 'identify'], { input: '\n\n' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /No token on standard input/);
    const argument = await cli.run(['token', 'identify', made.token]);
    assert.equal(argument.code, 2, 'the value is never an argument');
    const both = await cli.run(['token', 'revoke', made.id, '--value-stdin', '--yes'], { input: made.token });
    assert.equal(both.code, 2);
    const forbidden = await member.run(['token', 'identify'], { input: made.token });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /tokens\.all/);
    assert.ok(await works(made.token), 'nothing changed');
  });

  it('revokes by value, asking for --yes when there is no terminal', async () => {
    const made = await createFor('alice', 'leaky-3');
    const unconfirmed = await cli.run(['token', 'revoke', '--value-stdin'], { input: made.token });
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /--yes/);
    assert.ok(await works(made.token));
    const revoked = await cli.run(['token', 'revoke', '--value-stdin', '--yes', '--reason', 'pasted in chat'], { input: `${made.token}\n` });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`API token ${made.id} "leaky-3" of alice has been revoked`));
    assert.ok(!(await works(made.token)));
    const shown = await ts.request('GET', `/api/v1/tokens/${made.id}`, { token: world.admin });
    assert.equal(shown.body.revoke_reason, 'pasted in chat');
  });

  it('revoke-all for a principal, with confirmation', async () => {
    const one = await createFor('alice', 'all-1');
    const two = await createFor('alice', 'all-2');
    const unconfirmed = await cli.run(['token', 'revoke-all', '--owner', 'alice']);
    assert.equal(unconfirmed.code, 2);
    assert.ok(await works(one.token));
    const bad = await cli.run(['token', 'revoke-all', '--owner', 'alice', '--issued-before', 'someday', '--yes']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--issued-before/);
    const done = await cli.run(['token', 'revoke-all', '--owner', 'alice', '--yes', '--json']);
    assert.equal(done.code, 0, done.stderr);
    assert.ok(done.json().revoked >= 2);
    assert.ok(!(await works(one.token)) && !(await works(two.token)));
    const after = await createFor('alice', 'all-3');
    assert.ok(await works(after.token), 'a token created after the cutoff works');
    const human = await cli.run(['token', 'revoke-all', '--owner', 'alice', '--issued-before', '1D', '--yes']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^0 API tokens have been revoked \(issued before /);
    assert.ok(await works(after.token));
  });

  it('token show lists the recent client addresses', async () => {
    const made = await createFor('alice', 'used-one');
    assert.ok(await works(made.token));
    let shown = await cli.run(['token', 'show', made.id]);
    for (let i = 0; i < 40 && !/recent addresses/.test(shown.stdout); i++) {
      await new Promise((r) => setTimeout(r, 250));
      shown = await cli.run(['token', 'show', made.id]);
    }
    assert.match(shown.stdout, /recent addresses\s+(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1) \(/);
    const json = await cli.run(['token', 'show', made.id, '--json']);
    assert.equal(json.json().recent_ips.length, 1);
  });

  it('never prints a token value', () => {
    for (const transcript of [...cli.transcripts, ...member.transcripts]) {
      for (const value of values) assert.ok(!transcript.stdout.includes(value) && !transcript.stderr.includes(value), transcript.args.join(' '));
    }
  });
});
