import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { NewAuditEvent } from '../../src/core/model.js';
import { createUsageRecorder } from '../../src/core/usage.js';
import { openStorage, type Storage } from '../../src/storage/database.js';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';
import { loginAdmin } from '../support/fixtures.js';
import { startTestServer } from '../support/server.js';

const onPostgres = databaseTargets.some((target) => target.name === 'postgres');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 13 item 3 on a real PostgreSQL: the database refuses every connection for a while
 * (its connections terminated, new ones not allowed), then comes back. Exchange and denial
 * events buffered before and during the outage are all written after it, each exactly once.
 */
describe('batched audit events through a database outage', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 60_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  let storage: Storage;
  let admin: pg.Client;
  let name: string;

  before(async () => {
    database = await createPostgresDatabase();
    name = new URL(database.url).pathname.slice(1);
    storage = await openStorage({ databaseUrl: database.url, onChangeFeedError: () => {} });
    await storage.migrate();
    admin = new pg.Client({ connectionString: process.env['TESSERA_TEST_DATABASE_URL'] });
    await admin.connect();
  });
  after(async () => {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin.end();
    await storage.close();
    await database.drop();
  });

  const event = (n: number): NewAuditEvent => ({
    orgId: 'org_outage', occurredAt: new Date(), action: n % 2 ? 'token.denied' : 'token.exchanged', outcome: n % 2 ? 'denied' : 'success',
    actorPrincipalId: null, actorTokenId: null, targetType: 'token', targetId: `tok_${n}`, clientIp: '10.0.0.1', userAgent: null, requestId: `req_${n}`, details: {},
  });

  it('keeps what it could not write and writes every event once the database is back', async () => {
    const failures: string[] = [];
    const usage = createUsageRecorder({ store: storage.store, flushMs: 20, retryMinMs: 20, retryMaxMs: 200, onError: (error) => failures.push((error as { code?: string }).code ?? String(error)) });
    // Exchange counts (issue 17) beside the events: 3 tokens, counted in the same minutes.
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    for (let n = 0; n < 100; n++) {
      usage.audit(event(n));
      usage.count('org_outage', `tok_c${n % 3}`, 'success', minute);
    }
    await usage.flush();
    // The outage: no new connection is allowed, and the open ones are cut.
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    for (let n = 100; n < 300; n++) {
      usage.audit(event(n));
      usage.count('org_outage', `tok_c${n % 3}`, 'success', minute);
      if (n % 50 === 0) await sleep(50);
    }
    await sleep(400);
    assert.ok(usage.stats().failures >= 2, `writes were tried and failed during the outage (${usage.stats().failures})`);
    assert.equal(usage.stats().waiting.auditEvents, 200, 'nothing written, nothing lost');
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    const back = Date.now();
    while (usage.stats().waiting.auditEvents + usage.stats().waiting.usageCounts > 0 && Date.now() - back < 10_000) await sleep(20);
    console.log(`# outage: ${failures.length} failed writes (${[...new Set(failures)].join(', ')}); the backlog was written ${Date.now() - back} ms after the database came back`);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ target_id: string; n: string }>(`SELECT target_id, count(*) AS n FROM audit_events WHERE org_id = 'org_outage' GROUP BY target_id`);
      assert.equal(rows.length, 300, 'every event written');
      assert.deepEqual(rows.filter((row) => row.n !== '1'), [], 'none written twice');
      const counted = await client.query<{ n: string }>(`SELECT sum(count) AS n FROM token_usage WHERE org_id = 'org_outage'`);
      assert.equal(Number(counted.rows[0]?.n), 300, 'every exchange counted, once');
    } finally {
      await client.end();
    }
    assert.deepEqual(usage.stats().dropped, { auditEvents: 0, lastUses: 0, usageCounts: 0 });
    await usage.close();
  });

  it('writes the exchanges still buffered when the server shuts down gracefully', async () => {
    const ts = await startTestServer({ config: { databaseUrl: database.url } });
    const admin = await loginAdmin(ts);
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'shutdown-probe', scope: { kind: 'all' } } });
    assert.equal(created.status, 201, created.text);
    const exchanges = 25;
    for (let i = 0; i < exchanges; i++) assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token })).status, 200);
    // Issue 17: an exchange is a count in the token's usage, not an audit row of its own.
    assert.ok(ts.server.container.usage.stats().waiting.usageCounts > 0, 'still buffered when the shutdown begins');
    await ts.close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string | null }>(`SELECT sum(count) AS n FROM token_usage WHERE outcome = 'success' AND token_id = $1`, [created.body.id]);
      assert.equal(Number(rows[0]?.n), exchanges, 'every exchange counted, once');
      const audited = await client.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE action = 'token.exchanged' AND target_id = $1`, [created.body.id]);
      assert.equal(Number(audited.rows[0]?.n), 0, 'and none audited one by one (no rotation: a read)');
      const used = await client.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_tokens WHERE id = $1', [created.body.id]);
      assert.ok(used.rows[0]?.last_used_at, 'and the last use written');
    } finally {
      await client.end();
    }
  });
});
