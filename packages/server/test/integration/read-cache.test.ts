import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';
import { basic, createApp, createUser, loginAdmin } from '../support/fixtures.js';
import { startTestServer, testSecretKey, type TestServer } from '../support/server.js';
import { formatToken, generateSecret } from '@tessera/rules';
import pg from 'pg';
import { hashSecret } from '../../src/core/secrets.js';

const onPostgres = databaseTargets.some((target) => target.name === 'postgres');

/**
 * The token endpoint and introspection answer from an in-memory read cache (storage/cached-store).
 * Whatever changes a token, its owner, the policy or an app must be honoured at once by the
 * instance that made the change and, through PostgreSQL notifications, by every other one —
 * never after a cache lifetime. Each scenario warms the cache on the checking instance first.
 */
function scenarios(pair: () => { writer: TestServer; reader: TestServer; deadlineMs: number }) {
  let admin: string;
  let readerAdmin: string;
  let api: { clientId: string; clientSecret: string; id: string };

  const refresh = (ts: TestServer, token: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token });
  const introspect = (ts: TestServer, token: string, client = api) =>
    ts.form('/oauth/introspect', { token }, { authorization: basic(client.clientId, client.clientSecret) });

  /** Polls until `check` holds; returns how long it took. The same instance must need no wait at all. */
  async function within(check: () => Promise<boolean>, what: string): Promise<number> {
    const { deadlineMs } = pair();
    const start = Date.now();
    for (;;) {
      if (await check()) return Date.now() - start;
      if (Date.now() - start > deadlineMs) throw new Error(`${what}: not honoured within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  before(async () => {
    const { writer, reader } = pair();
    admin = await loginAdmin(writer);
    readerAdmin = writer === reader ? admin : await loginAdmin(reader);
    api = await createApp(writer, admin, { name: `api-${Date.now()}`, can_introspect: true });
  });

  it('a revoked API token is refused at once at the token endpoint', async () => {
    const { writer, reader } = pair();
    const created = await writer.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'revoke-me', scope: { kind: 'all' } } });
    assert.equal((await refresh(reader, created.body.token)).status, 200, 'warm');
    await writer.request('POST', `/api/v1/tokens/${created.body.id}/revoke`, { token: admin });
    const ms = await within(async () => (await refresh(reader, created.body.token)).status === 400, 'revocation');
    console.log(`# revocation honoured after ${ms} ms`);
  });

  it('a disabled owner stops its tokens and their access tokens at once', async () => {
    const { writer, reader } = pair();
    const user = await createUser(writer, admin, `owner-${Date.now()}`);
    const created = await writer.request('POST', '/api/v1/tokens', { token: user.token, body: { name: 'mine', scope: { kind: 'all' } } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await refresh(reader, created.body.token)).status, 200, 'warm');
    assert.equal((await introspect(reader, created.body.access_token)).body.active, true, 'warm');
    const disabled = await writer.request('PATCH', `/api/v1/users/${user.id}`, { token: admin, body: { status: 'disabled' } });
    assert.equal(disabled.status, 200, disabled.text);
    await within(async () => (await refresh(reader, created.body.token)).status === 400, 'owner disabled (grant)');
    await within(async () => (await introspect(reader, created.body.access_token)).text === '{"active":false}', 'owner disabled (introspection)');
  });

  it('an organization allowlist set by policy applies at once', async () => {
    const { writer, reader } = pair();
    const created = await writer.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'policy-probe', scope: { kind: 'all' } } });
    assert.equal((await refresh(reader, created.body.token)).status, 200, 'warm');
    const set = await writer.request('PUT', '/api/v1/policy', { token: admin, body: { ip_allowlist: ['203.0.113.0/24'] } });
    assert.equal(set.status, 200, set.text);
    try {
      await within(async () => (await refresh(reader, created.body.token)).status === 400, 'policy allowlist');
    } finally {
      await writer.request('PUT', '/api/v1/policy', { token: admin, body: { ip_allowlist: [] } });
    }
    await within(async () => (await refresh(reader, created.body.token)).status === 200, 'policy allowlist lifted');
  });

  it('a regenerated app secret, or introspection turned off, stops the old credentials at once', async () => {
    const { writer, reader } = pair();
    const created = await writer.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'introspected', scope: { kind: 'all' } } });
    const caller = await createApp(writer, admin, { name: `caller-${Date.now()}`, can_introspect: true });
    assert.equal((await introspect(reader, created.body.access_token, caller)).status, 200, 'warm');
    const regenerated = await writer.request('POST', `/api/v1/apps/${caller.id}/secret`, { token: admin });
    assert.equal(regenerated.status, 200, regenerated.text);
    await within(async () => (await introspect(reader, created.body.access_token, caller)).status === 401, 'old secret');
    const fresh = { ...caller, clientSecret: regenerated.body.client_secret as string };
    assert.equal((await introspect(reader, created.body.access_token, fresh)).status, 200);
    await writer.request('PATCH', `/api/v1/apps/${caller.id}`, { token: admin, body: { can_introspect: false } });
    await within(async () => (await introspect(reader, created.body.access_token, fresh)).status === 401, 'introspection turned off');
  });

  it('a revoked access token is inactive at once', async () => {
    const { writer, reader } = pair();
    const created = await writer.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'jti-probe', scope: { kind: 'all' } } });
    assert.equal((await introspect(reader, created.body.access_token)).body.active, true, 'warm');
    assert.equal((await writer.form('/oauth/revoke', { token: created.body.access_token })).status, 200);
    await within(async () => (await introspect(reader, created.body.access_token)).text === '{"active":false}', 'access token revocation');
    // The API token itself is untouched.
    assert.equal((await refresh(reader, created.body.token)).status, 200);
    void readerAdmin;
  });
}

describe('read cache on one instance: changes are honoured with no wait', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());
  scenarios(() => ({ writer: ts, reader: ts, deadlineMs: 0 }));
});

describe('read cache across two instances on one PostgreSQL', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 60_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  const instances: TestServer[] = [];
  before(async () => {
    database = await createPostgresDatabase();
    for (let i = 0; i < 2; i++) instances.push(await startTestServer({ config: { databaseUrl: database.url, issuer: 'http://tessera.test' } }));
  });
  after(async () => {
    for (const instance of instances) await instance.close().catch(() => {});
    await database?.drop();
  });
  // Notifications arrive in milliseconds; the cache lifetime (10 s) is far beyond this bound.
  scenarios(() => ({ writer: instances[0] as TestServer, reader: instances[1] as TestServer, deadlineMs: 1000 }));
});

/**
 * Between another instance's commit and the notification reaching this one, the cache may be
 * a moment behind. A refusal it would cause is confirmed against the database first, so a
 * client using the secret another instance just rotated to is not turned away. Simulated
 * deterministically by changing the row behind the cache's back (no notification at all).
 */
describe('read cache: a refusal is confirmed against the database', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 60_000 }, () => {
  let ts: TestServer;
  let client: pg.Client;
  before(async () => {
    ts = await startTestServer({ driver: 'postgres' });
    client = new pg.Client({ connectionString: (ts.server.container.config.databaseUrl as string) });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await ts?.close();
  });

  it('accepts the secret a rotation elsewhere just set, and refuses the one it replaced', async () => {
    const admin = await loginAdmin(ts);
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'behind', scope: { kind: 'all' } } });
    const refresh = (token: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token });
    assert.equal((await refresh(created.body.token)).status, 200, 'warm: the record is cached');
    const secret = generateSecret();
    const rotated = formatToken('tsr', created.body.id, secret);
    await client.query('UPDATE api_tokens SET secret_hash = $1 WHERE id = $2', [hashSecret(testSecretKey, secret), created.body.id]);
    assert.equal((await refresh(rotated)).status, 200, 'the new secret works at once');
    assert.equal((await refresh(created.body.token)).status, 400, 'the replaced one does not');
  });
});
