import { sql, type Kysely } from 'kysely';

/**
 * Webhooks (SPEC 9, Standard Webhooks). `webhook_messages` is the durable outbox: the audited
 * change inserts its messages in the same statement as its audit row, so a change is never
 * committed without them nor announced without being committed. One row per (event,
 * endpoint); its id is the stable `webhook-id` of every attempt. `locked_until` is the lease
 * of the instance sending it: another instance takes the message over when it passes.
 * `token_expiry_notices` makes each `token.expiring` threshold fire once per expiry instant
 * across the cluster (its primary key); a changed expiry is a new instant.
 */
const statements = [
  `CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  events text[] NOT NULL,
  secret_cipher bytea NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz
)`,
  `CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id) WHERE deleted_at IS NULL`,
  `CREATE TABLE webhook_messages (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id),
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  locked_until timestamptz,
  last_attempt_at timestamptz,
  last_status_code integer,
  last_error text,
  delivered_at timestamptz
)`,
  `CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status = 'pending'`,
  `CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, created_at DESC, id DESC)`,
  `CREATE TABLE token_expiry_notices (
  token_id text NOT NULL REFERENCES api_tokens(id),
  threshold_days integer NOT NULL,
  expires_at timestamptz NOT NULL,
  noticed_at timestamptz NOT NULL,
  PRIMARY KEY (token_id, threshold_days, expires_at)
)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
