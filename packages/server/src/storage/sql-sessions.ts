import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Session } from '../core/model.js';
import type { Store } from '../core/store.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

function toSession(row: Selectable<Database['sessions']>): Session {
  return {
    id: row.id,
    orgId: row.org_id,
    principalId: row.principal_id,
    secretHash: Buffer.from(row.secret_hash),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
  };
}

export function createSessionRepository(db: Db): Store['sessions'] {
  return {
    async create(s) {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          org_id: s.orgId,
          principal_id: s.principalId,
          secret_hash: s.secretHash,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          ended_at: s.endedAt,
          client_ip: s.clientIp,
          user_agent: s.userAgent,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toSession(row);
    },
    async touch(id, at) {
      await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async end(id, at) {
      await db.updateTable('sessions').set({ ended_at: at }).where('id', '=', id).where('ended_at', 'is', null).execute();
    },
    async endAllFor(principalId, at, exceptId) {
      let query = db
        .updateTable('sessions')
        .set({ ended_at: at })
        .where('principal_id', '=', principalId)
        .where('ended_at', 'is', null);
      if (exceptId) query = query.where('id', '!=', exceptId);
      await query.execute();
    },
  };
}

/** Failed logins per key (SPEC: login throttling), shared by every instance. */
export function createThrottleRepository(db: Db): Store['throttle'] {
  return {
    async get(key) {
      const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      return row && { failures: row.failures, windowStart: row.window_start };
    },
    async recordFailure(key, now, windowSeconds) {
      // One statement, so concurrent failures on several instances all count.
      const windowFloor = new Date(now.getTime() - windowSeconds * 1000);
      const row = await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, window_start: now })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql`CASE WHEN login_throttle.window_start <= ${windowFloor} THEN 1 ELSE login_throttle.failures + 1 END`,
            window_start: sql`CASE WHEN login_throttle.window_start <= ${windowFloor} THEN ${now} ELSE login_throttle.window_start END`,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return { failures: row.failures, windowStart: row.window_start };
    },
    async clear(key) {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
  };
}
