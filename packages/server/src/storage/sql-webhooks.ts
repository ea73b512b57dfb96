import { sql, type Kysely, type Transaction } from 'kysely';
import type { DueWebhookMessage, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEventType, WebhookRepository } from '../core/webhook-model.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

interface EndpointRow {
  id: string;
  org_id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_type: string;
  created_at: Date;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

const endpointColumns = sql.raw('id, org_id, url, description, events, enabled, created_by, created_at, updated_at');
const deliveryColumns = sql.raw('id, endpoint_id, event_type, created_at, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at');

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    orgId: row.org_id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  const at = (value: Date | null) => (value === null ? null : new Date(value));
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    createdAt: new Date(row.created_at),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? new Date(row.next_attempt_at) : null,
    lastAttemptAt: at(row.last_attempt_at),
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: at(row.delivered_at),
  };
}

/** A keyset cursor over (created_at, id); returns the SQL condition for rows after it. */
function after(cursor: string | undefined, descending: boolean) {
  if (cursor === undefined) return sql`true`;
  const [at, id] = decodeCursor(cursor, 2) as [string, string];
  if (Number.isNaN(Date.parse(String(at)))) decodeCursor('', 2);
  return descending ? sql`(created_at, id) < (${String(at)}::timestamptz, ${String(id)})` : sql`(created_at, id) > (${String(at)}::timestamptz, ${String(id)})`;
}

function pageOf<R extends { created_at: Date; id: string }, T>(rows: R[], limit: number, map: (row: R) => T) {
  const more = rows.length > limit;
  const last = rows[limit - 1];
  return {
    items: (more ? rows.slice(0, limit) : rows).map(map),
    nextCursor: more && last ? encodeCursor([new Date(last.created_at).toISOString(), last.id]) : null,
  };
}

/**
 * The audit insert of a webhook event, with its outbox messages in the same statement (a
 * data-modifying CTE): one message per enabled, subscribed endpoint of the organization. The
 * payload follows Standard Webhooks (`type`, `timestamp`, `data`) and names the token, its
 * owner and the actor; audit details never hold a secret, so neither does the payload. The
 * message id is the audit row's sequence number and the endpoint, stable across attempts.
 */
export function insertAuditWithOutbox(db: Db, row: Record<string, unknown>) {
  const event = row as { org_id: string | null } & Record<string, unknown>;
  return sql<Record<string, unknown>>`
    WITH ev AS (
      INSERT INTO audit_events (org_id, occurred_at, action, outcome, actor_principal_id, actor_token_id, target_type, target_id, client_ip, user_agent, request_id, details)
      VALUES (${event.org_id}, ${row.occurred_at}, ${row.action}, ${row.outcome}, ${row.actor_principal_id}, ${row.actor_token_id}, ${row.target_type},
        ${row.target_id}, ${row.client_ip}, ${row.user_agent}, ${row.request_id}, ${row.details})
      RETURNING *
    ), outbox AS (
      INSERT INTO webhook_messages (id, org_id, endpoint_id, event_type, payload, created_at, next_attempt_at)
      SELECT 'msg_' || ev.seq || '_' || e.id, ev.org_id, e.id, ev.action,
        jsonb_build_object(
          'type', ev.action,
          'timestamp', to_char(ev.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object(
            'token', CASE WHEN t.id IS NULL THEN jsonb_build_object('id', ev.target_id) ELSE jsonb_build_object(
              'id', t.id, 'name', t.name, 'mode', t.mode, 'scope', t.scope_kind,
              'expires_at', to_char(t.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'revoke_reason', t.revoke_reason,
              'owner', jsonb_build_object('id', o.id, 'username', o.username, 'kind', o.kind)) END,
            'actor', CASE WHEN a.id IS NULL THEN NULL ELSE jsonb_build_object('id', a.id, 'username', a.username, 'kind', a.kind) END,
            'details', ev.details)),
        -- Due at once; a clock ahead of the database's (a sweep run for a future instant) must not postpone it.
        ev.occurred_at, least(ev.occurred_at, now())
      FROM ev
      JOIN webhook_endpoints AS e ON e.org_id = ev.org_id AND e.deleted_at IS NULL AND e.enabled AND ev.action = ANY (e.events)
      LEFT JOIN api_tokens AS t ON t.id = ev.target_id AND t.org_id = ev.org_id
      LEFT JOIN principals AS o ON o.id = t.owner_id
      LEFT JOIN principals AS a ON a.id = ev.actor_principal_id
    )
    SELECT * FROM ev`.execute(db);
}

export function createWebhookRepository(db: Db): WebhookRepository {
  const endpointWhere = (orgId: string, id: string) => sql`org_id = ${orgId} AND id = ${id} AND deleted_at IS NULL`;

  async function getEndpoint(orgId: string, id: string) {
    const { rows } = await sql<EndpointRow>`SELECT ${endpointColumns} FROM webhook_endpoints WHERE ${endpointWhere(orgId, id)}`.execute(db);
    return rows[0] && toEndpoint(rows[0]);
  }

  return {
    async create(endpoint, secretCipher) {
      await sql`
        INSERT INTO webhook_endpoints (id, org_id, url, description, events, secret_cipher, enabled, created_by, created_at, updated_at)
        VALUES (${endpoint.id}, ${endpoint.orgId}, ${endpoint.url}, ${endpoint.description}, ${[...endpoint.events]}::text[], ${secretCipher},
          ${endpoint.enabled}, ${endpoint.createdBy}, ${endpoint.createdAt}, ${endpoint.updatedAt})`.execute(db);
    },
    get: getEndpoint,
    async list(orgId, query) {
      const { rows } = await sql<EndpointRow>`
        SELECT ${endpointColumns} FROM webhook_endpoints
        WHERE org_id = ${orgId} AND deleted_at IS NULL AND ${after(query.cursor, false)}
        ORDER BY created_at, id LIMIT ${query.limit + 1}`.execute(db);
      return pageOf(rows, query.limit, toEndpoint);
    },
    async update(orgId, id, patch) {
      const sets = [sql`updated_at = ${patch.updatedAt}`];
      if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`);
      if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`);
      if (patch.events !== undefined) sets.push(sql`events = ${[...patch.events]}::text[]`);
      if (patch.enabled !== undefined) sets.push(sql`enabled = ${patch.enabled}`);
      const { rows } = await sql<EndpointRow>`
        UPDATE webhook_endpoints SET ${sql.join(sets)} WHERE ${endpointWhere(orgId, id)} RETURNING ${endpointColumns}`.execute(db);
      return rows[0] && toEndpoint(rows[0]);
    },
    async remove(orgId, id, at) {
      const { rows } = await sql<{ id: string }>`UPDATE webhook_endpoints SET deleted_at = ${at} WHERE ${endpointWhere(orgId, id)} RETURNING id`.execute(db);
      if (rows.length === 0) return false;
      await sql`UPDATE webhook_messages SET status = 'cancelled', locked_until = NULL WHERE endpoint_id = ${id} AND status = 'pending'`.execute(db);
      return true;
    },
    async deliveries(orgId, endpointId, query) {
      const { rows } = await sql<DeliveryRow>`
        SELECT ${deliveryColumns} FROM webhook_messages
        WHERE org_id = ${orgId} AND endpoint_id = ${endpointId} AND ${after(query.cursor, true)}
        ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}`.execute(db);
      return pageOf(rows, query.limit, toDelivery);
    },
    async redeliver(orgId, endpointId, id, at) {
      const { rows } = await sql<DeliveryRow>`
        UPDATE webhook_messages SET status = 'pending', next_attempt_at = ${at}, locked_until = NULL
        WHERE org_id = ${orgId} AND endpoint_id = ${endpointId} AND id = ${id}
          AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)
        RETURNING ${deliveryColumns}`.execute(db);
      return rows[0] && toDelivery(rows[0]);
    },
    async claimDue(now, limit, leaseSeconds) {
      const { rows } = await sql<{ id: string; org_id: string; endpoint_id: string; url: string; secret_cipher: Uint8Array; payload: Record<string, unknown>; created_at: Date; attempts: number }>`
        WITH due AS (
          SELECT m.id FROM webhook_messages AS m
          WHERE m.status = 'pending' AND m.next_attempt_at <= ${now} AND (m.locked_until IS NULL OR m.locked_until <= ${now})
          ORDER BY m.next_attempt_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE webhook_messages AS m SET locked_until = ${now}::timestamptz + make_interval(secs => ${leaseSeconds})
        FROM due, webhook_endpoints AS e
        WHERE m.id = due.id AND e.id = m.endpoint_id
        RETURNING m.id, m.org_id, m.endpoint_id, e.url, e.secret_cipher, m.payload, m.created_at, m.attempts`.execute(db);
      return rows.map(
        (row): DueWebhookMessage => ({
          id: row.id,
          orgId: row.org_id,
          endpointId: row.endpoint_id,
          url: row.url,
          secretCipher: Buffer.from(row.secret_cipher),
          payload: row.payload,
          createdAt: new Date(row.created_at),
          attempts: row.attempts,
        }),
      );
    },
    async recordAttempt(id, outcome) {
      const status = outcome.delivered ? 'delivered' : outcome.retryAt === null ? 'failed' : 'pending';
      // Only a message still pending is updated: a redelivery or cancellation in between wins.
      await sql`
        UPDATE webhook_messages SET status = ${status}, attempts = attempts + 1, last_attempt_at = ${outcome.at},
          last_status_code = ${outcome.statusCode}, last_error = ${outcome.error}, locked_until = NULL,
          next_attempt_at = coalesce(${outcome.retryAt}::timestamptz, next_attempt_at),
          delivered_at = CASE WHEN ${outcome.delivered} THEN ${outcome.at}::timestamptz ELSE delivered_at END
        WHERE id = ${id} AND status = 'pending'`.execute(db);
    },
    async noteExpiring(now, thresholdsDays, limit) {
      const largest = Math.max(...thresholdsDays);
      const thresholds = [...thresholdsDays].sort((a, b) => a - b);
      // For each live token expiring within the largest threshold: the smallest threshold it is
      // within. A notice is due unless one exists for that threshold or a smaller one at this
      // expiry instant (a token created 3 days before expiry gets the 7-day notice only).
      const { rows } = await sql<{ token_id: string; org_id: string; owner_id: string; threshold_days: number; expires_at: Date }>`
        WITH candidates AS (
          SELECT t.id, t.org_id, t.owner_id, t.expires_at,
            (SELECT min(d) FROM unnest(${thresholds}::int[]) AS d WHERE t.expires_at <= ${now}::timestamptz + make_interval(days => d)) AS threshold_days
          FROM api_tokens AS t
          WHERE t.revoked_at IS NULL AND t.expires_at > ${now} AND t.expires_at <= ${now}::timestamptz + make_interval(days => ${largest})
        ), due AS (
          SELECT c.* FROM candidates AS c
          WHERE NOT EXISTS (
            SELECT 1 FROM token_expiry_notices AS n
            WHERE n.token_id = c.id AND n.expires_at = c.expires_at AND n.threshold_days <= c.threshold_days)
          ORDER BY c.expires_at LIMIT ${limit}
        )
        INSERT INTO token_expiry_notices (token_id, threshold_days, expires_at, noticed_at)
        SELECT id, threshold_days, expires_at, ${now} FROM due
        ON CONFLICT DO NOTHING
        RETURNING token_id, threshold_days, expires_at,
          (SELECT org_id FROM api_tokens WHERE id = token_id) AS org_id,
          (SELECT owner_id FROM api_tokens WHERE id = token_id) AS owner_id`.execute(db);
      return rows.map((row) => ({ tokenId: row.token_id, orgId: row.org_id, ownerId: row.owner_id, thresholdDays: row.threshold_days, expiresAt: new Date(row.expires_at) }));
    },
  };
}
