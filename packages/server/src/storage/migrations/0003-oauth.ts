import { sql, type Kysely } from 'kysely';

/** Signing keys, OAuth apps (clients) and revoked access tokens. */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_key jsonb NOT NULL,
  encrypted_private_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  retired_at timestamptz
)`,
  `-- At most one active key: concurrent first starts or rotations cannot both win.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL`,
  `CREATE TABLE apps (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  client_id text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  access_token_ttl_seconds integer,
  can_introspect boolean NOT NULL DEFAULT false,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  secret_rotated_at timestamptz NOT NULL,
  deleted_at timestamptz
)`,
  `CREATE UNIQUE INDEX apps_name ON apps (org_id, name) WHERE deleted_at IS NULL`,
  `CREATE INDEX apps_list ON apps (org_id, name, id) WHERE deleted_at IS NULL`,
  `CREATE TABLE app_roles (
  app_id text NOT NULL REFERENCES apps(id),
  role_id text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  PRIMARY KEY (app_id, role_id)
)`,
  `CREATE TABLE revoked_access_tokens (
  jti text PRIMARY KEY,
  org_id text NOT NULL,
  token_id text,
  revoked_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
)`,
  `CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at)`,
  `-- The revocation feed (SPEC 5.4): one row per revocation, in commit order of its sequence.
CREATE TABLE revocation_events (
  seq bigserial PRIMARY KEY,
  org_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('token', 'access_token', 'principal')),
  subject_id text NOT NULL,
  occurred_at timestamptz NOT NULL
)`,
  `CREATE INDEX revocation_events_time ON revocation_events (occurred_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
