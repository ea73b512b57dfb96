import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { openPglite } from '../../src/storage/drivers/pglite.js';
import { openPostgres } from '../../src/storage/drivers/postgres.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import type { Database } from '../../src/storage/schema.js';
import { createSqlStore } from '../../src/storage/sql-store.js';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';

/**
 * Migration 0013 (issue 17) on a database that already has an audit log: the old table becomes
 * the partition `audit_events_before_<month after its newest event>` (no row copied), sequence
 * numbers go on from where they were, new months get partitions of their own, and retention
 * deletes from the old partition until all of it is older, then drops it. On both drivers.
 */
const drivers: { name: string; open(): Promise<{ db: Kysely<Database>; close(): Promise<void> }> }[] = [
  {
    name: 'pglite',
    async open() {
      const { db } = await openPglite();
      return { db, close: () => db.destroy() };
    },
  },
];
if (databaseTargets.some((target) => target.name === 'postgres')) {
  drivers.push({
    name: 'postgres',
    async open() {
      const database = await createPostgresDatabase();
      const db = openPostgres(database.url);
      return {
        db,
        close: async () => {
          await db.destroy();
          await database.drop();
        },
      };
    },
  });
}

for (const driver of drivers) {
  describe(`migration 0013 on ${driver.name}`, { timeout: 120_000 }, () => {
    it('keeps an existing audit log as one partition and partitions what comes after by month', async () => {
      const { db, close } = await driver.open();
      try {
        const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'tessera_migrations', migrationLockTableName: 'tessera_migrations_lock' });
        const upTo12 = await migrator.migrateTo('0012-second-factors');
        assert.equal(upTo12.error, undefined);
        // The old log: 40 events over January and February 2026, two of them batched with keys.
        await sql`
          INSERT INTO audit_events (org_id, occurred_at, action, outcome, target_id, details, write_key)
          SELECT 'org_m', timestamptz '2026-01-01T00:00:00Z' + i * interval '1 day 12 hours', 'token.created', 'success', 't' || i, '{}'::jsonb,
                 CASE WHEN i < 2 THEN 'old.' || i END
          FROM generate_series(0, 39) AS i`.execute(db);
        const latest = await migrator.migrateToLatest();
        assert.equal(latest.error, undefined, String(latest.error));
        const { rows: parts } = await sql<{ name: string }>`
          SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass ORDER BY 1`.execute(db);
        // The newest event is on 2026-02-28 (day 58.5): everything before March is the old partition.
        assert.deepEqual(parts.map((p) => p.name), ['audit_events_before_202603', 'audit_events_default']);

        const store = createSqlStore(db);
        const probe = { orgId: 'org_m', action: 'token.created', outcome: 'success' as const, actorPrincipalId: null, actorTokenId: null, targetType: 'token', clientIp: null, userAgent: null, requestId: null, details: {} };
        // March is the old partition's upper bound: its own month is created, February is not (the old one holds it).
        assert.deepEqual(await store.audit.preparePartitions(new Date('2026-02-15T00:00:00Z'), new Date('2026-03-02T00:00:00Z')), ['audit_events_202603']);
        const next = await store.audit.append({ ...probe, occurredAt: new Date('2026-03-10T00:00:00Z'), targetId: 'after' });
        assert.ok(Number(next.id) > 40, `sequence numbers go on (${next.id})`);
        // A retried batch meets the old partition's keys.
        await store.audit.appendMany([{ ...probe, occurredAt: new Date('2026-01-01T00:00:00Z'), targetId: 't0', writeKey: 'old.0' }]);
        const all = await store.audit.list({ orgId: 'org_m', limit: 100 });
        assert.equal(all.items.length, 41);
        assert.equal(all.items[0]?.targetId, 'after');
        assert.equal(all.items[40]?.targetId, 't0');

        // Retention before all of the old partition is older: its rows are deleted by time.
        assert.equal(await store.audit.pruneBefore(new Date('2026-02-01T00:00:00Z')), 21);
        assert.equal((await store.audit.list({ orgId: 'org_m', limit: 100 })).items.length, 20);
        // Once all of it is older: dropped, with what was left in it.
        assert.equal(await store.audit.pruneBefore(new Date('2026-03-01T00:00:00Z')), 19);
        const { rows: left } = await sql<{ name: string }>`
          SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass ORDER BY 1`.execute(db);
        assert.deepEqual(left.map((p) => p.name), ['audit_events_202603', 'audit_events_default']);
        assert.deepEqual((await store.audit.list({ orgId: 'org_m', limit: 100 })).items.map((e) => e.targetId), ['after']);
      } finally {
        await close();
      }
    });

    it('drops an empty old log instead of keeping it as a partition', async () => {
      const { db, close } = await driver.open();
      try {
        const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'tessera_migrations', migrationLockTableName: 'tessera_migrations_lock' });
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const { rows } = await sql<{ name: string }>`
          SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass`.execute(db);
        assert.deepEqual(rows.map((p) => p.name), ['audit_events_default']);
      } finally {
        await close();
      }
    });
  });
}
