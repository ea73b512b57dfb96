import { sql, type Kysely } from 'kysely';

/** Organizations, principals, roles, groups, sessions, login throttling and the audit log. */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `CREATE TABLE orgs (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  display_name text NOT NULL,
  created_at timestamptz NOT NULL
)`,
  `CREATE TABLE principals (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  kind text NOT NULL CHECK (kind IN ('user', 'service_account')),
  username text NOT NULL,
  display_name text NOT NULL,
  email text,
  password_hash text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  instance_admin boolean NOT NULL DEFAULT false,
  ip_allowlist jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  password_changed_at timestamptz,
  deleted_at timestamptz,
  CHECK (kind = 'user' OR password_hash IS NULL)
)`,
  `-- A deleted principal keeps its row for the audit trail but frees its username.
CREATE UNIQUE INDEX principals_username ON principals (org_id, username) WHERE deleted_at IS NULL`,
  `CREATE INDEX principals_list ON principals (org_id, kind, username, id) WHERE deleted_at IS NULL`,
  `CREATE TABLE roles (
  id text PRIMARY KEY,
  org_id text REFERENCES orgs(id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  rights jsonb NOT NULL,
  builtin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
)`,
  `CREATE UNIQUE INDEX roles_name ON roles (coalesce(org_id, ''), name)`,
  `CREATE TABLE principal_roles (
  principal_id text NOT NULL REFERENCES principals(id),
  role_id text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  PRIMARY KEY (principal_id, role_id)
)`,
  `CREATE TABLE groups (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  UNIQUE (org_id, name)
)`,
  `CREATE TABLE group_members (
  group_id text NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  principal_id text NOT NULL REFERENCES principals(id),
  PRIMARY KEY (group_id, principal_id)
)`,
  `CREATE INDEX group_members_principal ON group_members (principal_id)`,
  `CREATE TABLE group_roles (
  group_id text NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  role_id text NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, role_id)
)`,
  `CREATE TABLE sessions (
  id text PRIMARY KEY,
  org_id text NOT NULL REFERENCES orgs(id),
  principal_id text NOT NULL REFERENCES principals(id),
  secret_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  client_ip text,
  user_agent text
)`,
  `CREATE INDEX sessions_principal ON sessions (principal_id) WHERE ended_at IS NULL`,
  `CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures integer NOT NULL,
  window_start timestamptz NOT NULL
)`,
  `CREATE TABLE audit_events (
  seq bigserial PRIMARY KEY,
  org_id text,
  occurred_at timestamptz NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  actor_principal_id text,
  actor_token_id text,
  target_type text,
  target_id text,
  client_ip text,
  user_agent text,
  request_id text,
  details jsonb NOT NULL DEFAULT '{}'
)`,
  `CREATE INDEX audit_events_org ON audit_events (org_id, seq DESC)`,
  `CREATE INDEX audit_events_action ON audit_events (org_id, action, seq DESC)`,
  `CREATE INDEX audit_events_actor ON audit_events (org_id, actor_principal_id, seq DESC)`,
  `CREATE INDEX audit_events_target ON audit_events (org_id, target_id, seq DESC)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
