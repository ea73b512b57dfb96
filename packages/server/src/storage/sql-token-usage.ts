import { sql, type Kysely, type Transaction } from 'kysely';
import type { TokenRepository } from '../core/store.js';
import { json } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Writes of the verification path and the periodic sweep: last use, recent addresses, lapses. */
export function createTokenUsage(db: Db): Pick<TokenRepository, 'recordUsage' | 'markLapsed'> {
  return {
    async recordUsage(entries) {
      if (entries.length === 0) return;
      // One statement for the whole batch; a later use never moves last_used_at backwards.
      await sql`
        UPDATE api_tokens AS t SET last_used_at = u.at, last_used_ip = u.ip,
          -- a token used again (its organization lengthened the idle timeout) is no longer idle
          lapsed_at = CASE WHEN t.lapse_reason = 'idle' THEN NULL ELSE t.lapsed_at END,
          lapse_reason = CASE WHEN t.lapse_reason = 'idle' THEN NULL ELSE t.lapse_reason END
        FROM (SELECT DISTINCT ON (id) * FROM jsonb_to_recordset(${json(entries.map((e) => ({ id: e.id, at: e.at.toISOString(), ip: e.ip })))}::jsonb)
              AS x(id text, at timestamptz, ip text) ORDER BY id, at DESC) AS u
        WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`.execute(db);
      const batch = json(entries.flatMap((e) => (e.recentIps ?? [{ ip: e.ip, at: e.at }]).map((r) => ({ id: e.id, at: r.at.toISOString(), ip: r.ip }))));
      // SPEC 9: the last 5 distinct addresses, each with its latest time, merged with what is stored.
      await sql`
        UPDATE api_tokens AS t SET recent_ips = (
          SELECT coalesce(jsonb_agg(jsonb_build_object('ip', m.ip, 'at', m.at) ORDER BY m.at DESC), '[]'::jsonb)
          FROM (
            SELECT a.ip, max(a.at) AS at FROM (
              SELECT e->>'ip' AS ip, (e->>'at')::timestamptz AS at FROM jsonb_array_elements(t.recent_ips) AS e
              UNION ALL
              SELECT x.ip, x.at FROM jsonb_to_recordset(${batch}::jsonb) AS x(id text, at timestamptz, ip text) WHERE x.id = t.id
            ) AS a
            GROUP BY a.ip ORDER BY max(a.at) DESC LIMIT 5
          ) AS m)
        WHERE t.id IN (SELECT x.id FROM jsonb_to_recordset(${batch}::jsonb) AS x(id text))`.execute(db);
    },
    async markLapsed(now, limit) {
      // Expiry first: a token both expired and idle is reported as expired. SKIP LOCKED keeps a
      // sweep from waiting on rows a request is updating; they are picked up next time.
      const expired = await sql<{ id: string; org_id: string; owner_id: string }>`
        UPDATE api_tokens SET lapsed_at = ${now}, lapse_reason = 'expired'
        WHERE id IN (
          SELECT id FROM api_tokens
          WHERE revoked_at IS NULL AND lapsed_at IS NULL AND expires_at <= ${now}
          ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id, org_id, owner_id`.execute(db);
      const room = limit - expired.rows.length;
      const idle =
        room <= 0
          ? { rows: [] }
          : await sql<{ id: string; org_id: string; owner_id: string }>`
        UPDATE api_tokens SET lapsed_at = ${now}, lapse_reason = 'idle'
        WHERE id IN (
          SELECT t.id FROM api_tokens AS t JOIN policies AS p ON p.org_id = t.org_id
          WHERE t.revoked_at IS NULL AND t.lapsed_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > ${now})
            AND jsonb_typeof(p.settings -> 'idleTimeoutSeconds') = 'number'
            AND coalesce(t.last_used_at, t.created_at) <= ${now}::timestamptz - make_interval(secs => (p.settings ->> 'idleTimeoutSeconds')::double precision)
          LIMIT ${room} FOR UPDATE OF t SKIP LOCKED)
        RETURNING id, org_id, owner_id`.execute(db);
      return [
        ...expired.rows.map((row) => ({ id: row.id, orgId: row.org_id, ownerId: row.owner_id, reason: 'expired' as const })),
        ...idle.rows.map((row) => ({ id: row.id, orgId: row.org_id, ownerId: row.owner_id, reason: 'idle' as const })),
      ];
    },
  };
}
