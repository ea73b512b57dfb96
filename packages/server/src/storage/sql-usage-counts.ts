import { sql, type Kysely, type Transaction } from 'kysely';
import type { Store, UsageCount } from '../core/store.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** `token_usage` and `usage_writes` (migration 0013): the exchange rollups. */
export function createUsageCountRepository(db: Db): Store['usage'] {
  return {
    async add(writeKey, counts) {
      if (counts.length === 0) return true;
      const newest = counts.reduce((at, c) => (c.minute > at ? c.minute : at), counts[0]!.minute);
      // One statement: the key's insert gates the upsert, so both happen or neither. Rows go in
      // key order, so two instances adding to the same tokens lock them in the same order.
      const rows = counts.map((c) => ({ token_id: c.tokenId, minute: c.minute.toISOString(), outcome: c.outcome, org_id: c.orgId, count: c.count }));
      const { rows: written } = await sql<{ fresh: boolean }>`
        WITH fresh AS (
          INSERT INTO usage_writes (write_key, written_at) VALUES (${writeKey}, ${newest}) ON CONFLICT (write_key) DO NOTHING RETURNING 1
        ), added AS (
          INSERT INTO token_usage (token_id, minute, outcome, org_id, count)
          SELECT x.token_id, x.minute, x.outcome, x.org_id, x.count
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(token_id text, minute timestamptz, outcome text, org_id text, count bigint), fresh
          ORDER BY x.token_id, x.minute, x.outcome
          ON CONFLICT (token_id, minute, outcome) DO UPDATE SET count = token_usage.count + excluded.count
          RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM fresh) AS fresh, (SELECT count(*) FROM added) AS n`.execute(db);
      return written[0]?.fresh === true;
    },
    async list(orgId, tokenId, since, until) {
      const { rows } = await sql<{ org_id: string; token_id: string; minute: Date; outcome: 'success' | 'denied'; count: string }>`
        SELECT org_id, token_id, minute, outcome, count FROM token_usage
        WHERE token_id = ${tokenId} AND org_id = ${orgId} AND minute >= ${since} AND minute < ${until}
        ORDER BY minute, outcome`.execute(db);
      return rows.map((r): UsageCount => ({ orgId: r.org_id, tokenId: r.token_id, minute: new Date(r.minute), outcome: r.outcome, count: Number(r.count) }));
    },
    async pruneBefore(before, keysBefore) {
      await sql`DELETE FROM usage_writes WHERE written_at < ${keysBefore}`.execute(db);
      if (before === null) return 0;
      const result = await sql`DELETE FROM token_usage WHERE minute < ${before}`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },
  };
}
