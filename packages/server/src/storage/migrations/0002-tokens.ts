import { sql, type Kysely } from 'kysely';

/** API tokens, organization policies, presets and saved searches (SPEC 3, 4). */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  owner_id text NOT NULL REFERENCES principals(id),
  created_by text NOT NULL,
  name text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('refreshable', 'direct')),
  scope_kind text NOT NULL,
  endpoints jsonb NOT NULL DEFAULT '[]',
  roles jsonb NOT NULL DEFAULT '[]',
  ip_allowlist jsonb NOT NULL DEFAULT '[]',
  secret_hash bytea NOT NULL,
  previous_secret_hash bytea,
  previous_valid_until timestamptz,
  previous_from_refresh boolean NOT NULL DEFAULT false,
  expires_at timestamptz,
  last_used_at timestamptz,
  last_used_ip text,
  revoked_at timestamptz,
  revoked_by text,
  revoke_reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
)`,
  `-- Names are unique per owner among tokens that are not revoked.
CREATE UNIQUE INDEX api_tokens_owner_name ON api_tokens (owner_id, name) WHERE revoked_at IS NULL`,
  `CREATE INDEX api_tokens_owner ON api_tokens (owner_id, created_at DESC, id)`,
  `-- One index per admin-list sort (keyset pagination on (column, id)).
CREATE INDEX api_tokens_org_created ON api_tokens (org_id, created_at, id)`,
  `CREATE INDEX api_tokens_org_name ON api_tokens (org_id, name, id)`,
  `-- Nullable sort columns sort through a sentinel, so keyset comparisons never meet NULL.
CREATE INDEX api_tokens_org_expires ON api_tokens (org_id, (coalesce(expires_at, 'infinity'::timestamptz)), id)`,
  `CREATE INDEX api_tokens_org_last_used ON api_tokens (org_id, (coalesce(last_used_at, '-infinity'::timestamptz)), id)`,
  `CREATE INDEX api_tokens_org_kind ON api_tokens (org_id, scope_kind, created_at, id)`,
  `CREATE INDEX api_tokens_org_revoked ON api_tokens (org_id, revoked_at)`,
  `CREATE TABLE policies (
  org_id text PRIMARY KEY REFERENCES orgs(id),
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL
)`,
  `CREATE TABLE presets (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  endpoints jsonb NOT NULL,
  mode text NOT NULL CHECK (mode IN ('refreshable', 'direct')),
  scope_locked boolean NOT NULL DEFAULT false,
  default_lifetime_seconds integer,
  created_at timestamptz NOT NULL,
  UNIQUE (org_id, name)
)`,
  `CREATE TABLE saved_searches (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  owner_id text NOT NULL,
  name text NOT NULL,
  query jsonb NOT NULL,
  shared boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  UNIQUE (owner_id, name)
)`,
  `CREATE INDEX saved_searches_org ON saved_searches (org_id, shared)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
