import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';
import { loginAdmin } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

const day = 86_400;
const onPostgres = databaseTargets.some((target) => target.name === 'postgres');

async function auditOf(ts: TestServer, admin: string, action: string, targetId?: string): Promise<{ target_id: string; action: string }[]> {
  const response = await ts.request('GET', `/api/v1/audit-events?action=${action}&limit=100${targetId ? `&target=${targetId}` : ''}`, { token: admin });
  assert.equal(response.status, 200, response.text);
  return response.body.items;
}

async function createToken(ts: TestServer, admin: string, name: string, expires?: string): Promise<{ id: string; access_token?: string }> {
  const response = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name, scope: { kind: 'all' }, ...(expires && { expires }) } });
  assert.equal(response.status, 201, response.text);
  return response.body;
}

/** SPEC 8: expiry and idle sweeps, key rotation and retention, run by the server's job runner. */
describe('periodic jobs on one instance', () => {
  const clock = new TestClock();
  let ts: TestServer;
  let admin: string;

  before(async () => {
    ts = await startTestServer({ clock, env: { TESSERA_SIGNING_KEY_ROTATION_DAYS: '7', TESSERA_AUDIT_RETENTION_DAYS: '30' } });
    admin = await loginAdmin(ts);
    // The first run claims every job: nothing has run on this database yet.
    assert.ok((await ts.server.container.jobs.runDue()).includes('token-lapse-sweep'));
  });
  after(() => ts.close());

  it('audits each expired and each idle token exactly once, and never a live one', async () => {
    const expiring = await createToken(ts, admin, 'expiring', '2D');
    const lasting = await createToken(ts, admin, 'lasting', '365D');
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: 10 * day } });
    assert.deepEqual(await ts.server.container.jobs.runDue(), [], 'nothing is due a second time within the period');
    clock.advance(3 * day);
    // The session would be idle by now; log in again.
    admin = await loginAdmin(ts);
    clock.advance(61);
    assert.ok((await ts.server.container.jobs.runDue()).includes('token-lapse-sweep'));
    assert.deepEqual((await auditOf(ts, admin, 'token.expired')).map((e) => e.target_id), [expiring.id]);
    assert.deepEqual(await auditOf(ts, admin, 'token.idle'), []);

    clock.advance(8 * day);
    admin = await loginAdmin(ts);
    await ts.server.container.jobs.runDue();
    assert.deepEqual((await auditOf(ts, admin, 'token.idle', lasting.id)).map((e) => e.target_id), [lasting.id]);
    assert.equal((await auditOf(ts, admin, 'token.expired')).length, 1, 'the expired token is not reported again');
    const shown = await ts.request('GET', `/api/v1/tokens/${lasting.id}`, { token: admin });
    assert.equal(shown.body.status, 'idle');

    // A longer idle timeout brings the token back; a new expiry brings the expired one back.
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: null } });
    const renewed = await ts.request('PATCH', `/api/v1/tokens/${expiring.id}`, { token: admin, body: { expires: '5D' } });
    assert.equal(renewed.status, 200, renewed.text);
    clock.advance(6 * day);
    admin = await loginAdmin(ts);
    await ts.server.container.jobs.runDue();
    assert.equal((await auditOf(ts, admin, 'token.expired', expiring.id)).length, 2, 'its second expiry is audited again');
  });

  it('rotates the signing key when due; the old key stays published and new tokens carry the new kid', async () => {
    const before = decodeProtectedHeader((await createToken(ts, admin, 'before-rotation', '30D')).access_token as string).kid;
    clock.advance(8 * day);
    admin = await loginAdmin(ts);
    assert.ok((await ts.server.container.jobs.runDue()).includes('signing-key-rotation'));
    const after = decodeProtectedHeader((await createToken(ts, admin, 'after-rotation', '30D')).access_token as string).kid;
    assert.notEqual(after, before);
    const published = (await ts.request('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    assert.ok(published.includes(before) && published.includes(after), 'both keys are in the JWKS');
  });

  it('deletes audit events past the retention period, and only those, a whole month at a time (issue 17)', async () => {
    const old = await auditOf(ts, admin, 'token.created');
    assert.ok(old.length > 0);
    // The log is partitioned by month and retention drops whole months: the old events go once
    // all of their month is past the 30 days.
    const last = clock.now();
    const monthAfter = Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 1);
    clock.advance(Math.ceil((monthAfter - last.getTime()) / 1000) + 31 * day);
    admin = await loginAdmin(ts);
    const fresh = await createToken(ts, admin, 'fresh', '90D');
    await ts.server.container.jobs.runDue();
    const remaining = await auditOf(ts, admin, 'token.created');
    assert.deepEqual(remaining.map((e) => e.target_id), [fresh.id]);
  });

  it('forgets revoked access tokens once they have expired anyway', async () => {
    const token = await createToken(ts, admin, 'to-revoke', '30D');
    const jti = decodeJwt(token.access_token as string).jti as string;
    const revoked = await ts.request('POST', `/api/v1/tokens/${token.id}/revoke`, { token: admin });
    assert.equal(revoked.status, 200, revoked.text);
    await ts.server.container.store.revocations.revokeAccessToken({ jti, orgId: 'x', tokenId: token.id, revokedAt: clock.now(), expiresAt: new Date(clock.now().getTime() + 1800_000) });
    assert.equal(await ts.server.container.store.revocations.isAccessTokenRevoked(jti), true);
    clock.advance(2 * 3600);
    admin = await loginAdmin(ts);
    assert.ok((await ts.server.container.jobs.runDue()).includes('revocation-prune'));
    assert.equal(await ts.server.container.store.revocations.isAccessTokenRevoked(jti), false);
  });
});

describe('periodic jobs across three instances on one PostgreSQL', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 60_000 }, () => {
  const clock = new TestClock();
  let database: { url: string; drop(): Promise<void> };
  const instances: TestServer[] = [];
  let admin: string;

  before(async () => {
    database = await createPostgresDatabase();
    for (let i = 0; i < 3; i++) {
      instances.push(await startTestServer({ clock, config: { databaseUrl: database.url, issuer: 'http://tessera.test' }, env: { TESSERA_SIGNING_KEY_ROTATION_DAYS: '7' } }));
    }
    admin = await loginAdmin(instances[0] as TestServer);
  });
  after(async () => {
    for (const instance of instances) await instance.close().catch(() => {});
    await database?.drop();
  });

  it('the audit log has its partitions for this month and the coming week as soon as an instance starts, before any job runs', async () => {
    // Attaching a month's partition while that month's inserts are routed to the default
    // partition makes PostgreSQL refuse them: the partitions must exist before the first request.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>("select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_events'::regclass");
      const month = (at: Date) => `audit_events_${at.toISOString().slice(0, 7).replace('-', '')}`;
      const names = rows.map((row) => row.name);
      for (const at of [clock.now(), new Date(clock.now().getTime() + 7 * day * 1000)]) assert.ok(names.includes(month(at)), `${month(at)} in ${names.join(', ')}`);
    } finally {
      await client.end();
    }
  });

  it('each cluster-wide job runs on exactly one instance per period, whichever wakes first', async () => {
    const a = instances[0] as TestServer;
    const tokens = await Promise.all(['one', 'two', 'three'].map((name) => createToken(a, admin, name, '1D')));
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const keysBefore = Number((await client.query('select count(*) as n from signing_keys')).rows[0].n);
      for (let round = 0; round < 3; round++) {
        clock.advance(8 * day);
        const ran = (await Promise.all(instances.map((instance) => instance.server.container.jobs.runDue()))).flat();
        for (const job of ['signing-key-rotation', 'token-lapse-sweep', 'revocation-prune', 'audit-retention']) {
          assert.equal(ran.filter((name) => name === job).length, 1, `${job} ran once in round ${round}: ${ran.join(', ')}`);
        }
        assert.equal(ran.filter((name) => name === 'signing-key-refresh').length, 3, 'per-instance jobs run on every instance');
      }
      const keys = await client.query('select count(*) as n, count(*) filter (where retired_at is null and activated_at is not null) as active, count(*) filter (where activated_at is null) as waiting from signing_keys');
      assert.equal(Number(keys.rows[0].n), keysBefore + 3, 'one rotation per period, not one per instance');
      assert.equal(Number(keys.rows[0].active), 1);
      assert.equal(Number(keys.rows[0].waiting), 1, 'one next key, published ahead');
      const expired = await client.query("select target_id from audit_events where action = 'token.expired' order by target_id");
      assert.deepEqual(expired.rows.map((row) => row.target_id), tokens.map((t) => t.id).sort(), 'each expiry audited once');
      const runs = await client.query('select count(distinct run_by) as n from job_runs');
      assert.ok(Number(runs.rows[0].n) >= 1);
    } finally {
      await client.end();
    }
  });
});
