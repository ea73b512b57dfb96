import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AuditEvent, NewAuditEvent } from '../core/model.js';
import type { Store } from '../core/store.js';
import { isWebhookEventType } from '../core/webhook-model.js';
import { decodeCursor } from './cursor.js';
import { escapeLike, json, page } from './sql-helpers.js';
import type { Database } from './schema.js';
import { insertAuditWithOutbox } from './sql-webhooks.js';
import { createAuditPartitions, dropAuditBefore } from './audit-partitions.js';

type Db = Kysely<Database> | Transaction<Database>;

function auditRow(event: NewAuditEvent) {
  return {
    org_id: event.orgId,
    occurred_at: event.occurredAt,
    action: event.action,
    outcome: event.outcome,
    actor_principal_id: event.actorPrincipalId,
    actor_token_id: event.actorTokenId,
    target_type: event.targetType,
    target_id: event.targetId,
    client_ip: event.clientIp,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: json(event.details),
  };
}

function toAuditEvent(row: Selectable<Database['audit_events']>): AuditEvent {
  return {
    id: String(row.seq),
    orgId: row.org_id,
    occurredAt: row.occurred_at,
    action: row.action,
    outcome: row.outcome as AuditEvent['outcome'],
    actorPrincipalId: row.actor_principal_id,
    actorTokenId: row.actor_token_id,
    targetType: row.target_type,
    targetId: row.target_id,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
  };
}

export function createAuditRepository(db: Db): Store['audit'] {
  return {
    async append(event) {
      if (event.orgId !== null && isWebhookEventType(event.action)) {
        const { rows } = await insertAuditWithOutbox(db, auditRow(event));
        return toAuditEvent(rows[0] as Selectable<Database['audit_events']>);
      }
      const row = await db.insertInto('audit_events').values(auditRow(event)).returningAll().executeTakeFirstOrThrow();
      return toAuditEvent(row);
    },
    async appendMany(events) {
      if (events.length === 0) return;
      // One JSON parameter for the whole batch: thousands of bind parameters cost more to
      // build and to parse than the rows cost to insert. The function scan yields the rows in
      // array order, so sequence numbers follow the order the events happened in.
      const rows = events.map((event) => ({ ...auditRow(event), occurred_at: event.occurredAt.toISOString(), details: event.details, write_key: event.writeKey ?? null }));
      // A retry of a batch whose commit went through unanswered meets its own keys: skipped.
      await sql`
        INSERT INTO audit_events (org_id, occurred_at, action, outcome, actor_principal_id, actor_token_id, target_type, target_id, client_ip, user_agent, request_id, details, write_key)
        SELECT org_id, occurred_at, action, outcome, actor_principal_id, actor_token_id, target_type, target_id, client_ip, user_agent, request_id, details, write_key
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(org_id text, occurred_at timestamptz, action text, outcome text, actor_principal_id text,
          actor_token_id text, target_type text, target_id text, client_ip text, user_agent text, request_id text, details jsonb, write_key text)
        ON CONFLICT (write_key, occurred_at) WHERE write_key IS NOT NULL DO NOTHING`.execute(db);
    },
    async list(q) {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .where('org_id', '=', q.orgId)
        // Newest first by time, then sequence: the partitions' key leads, so every filter below
        // reads one index range per partition (migration 0013).
        .orderBy('occurred_at', 'desc')
        .orderBy('seq', 'desc')
        .limit(q.limit + 1);
      if (q.action) {
        // `token.*` style prefixes select a family of events; a family (the action up to its
        // first dot) has an index of its own, other prefixes are filtered.
        const prefix = q.action.endsWith('*') ? q.action.slice(0, -1) : undefined;
        const family = prefix === undefined ? undefined : /^([a-z_]+)\.$/.exec(prefix)?.[1];
        if (prefix === undefined) query = query.where('action', '=', q.action);
        else {
          query = query.where('action', 'like', `${escapeLike(prefix)}%`);
          if (family !== undefined) query = query.where(sql<string>`split_part(action, '.', 1)`, '=', family);
        }
      }
      if (q.actorPrincipalId) query = query.where('actor_principal_id', '=', q.actorPrincipalId);
      if (q.targetId) query = query.where('target_id', '=', q.targetId);
      if (q.since) query = query.where('occurred_at', '>=', q.since);
      if (q.until) query = query.where('occurred_at', '<', q.until);
      if (q.cursor) {
        const [at, seq] = decodeCursor(q.cursor, 2) as [string, string];
        const time = new Date(at);
        if (!/^[0-9]{1,19}$/.test(seq) || Number.isNaN(time.getTime())) decodeCursor('', 2);
        // The plain bound prunes newer partitions; the row comparison is the keyset.
        query = query.where('occurred_at', '<=', time).where(sql<boolean>`(occurred_at, seq) < (${time}, ${seq}::bigint)`);
      }
      return page(await query.execute(), q.limit, toAuditEvent, (row) => [new Date(row.occurred_at).toISOString(), String(row.seq)]);
    },
    pruneBefore: (before) => dropAuditBefore(db, before),
    preparePartitions: (from, until) => createAuditPartitions(db, from, until),
  };
}
