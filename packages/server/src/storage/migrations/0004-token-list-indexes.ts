import { sql, type Kysely } from 'kysely';

/**
 * The admin token list at scale (SPEC 3.8): an index for every sort and filter.
 * - The owner's username is kept on the token (usernames never change; a deleted owner's tokens
 *   keep the name they were listed under), so sorting by owner is an index scan, not a join
 *   and a sort of every token of the organization.
 * - Search is a substring match on name and owner: trigram indexes (pg_trgm, a trusted
 *   extension since PostgreSQL 13, bundled with PGlite).
 * - Status and usage filters are written as range predicates that these partial indexes serve.
 * Sorting by status stays a computed sort: status depends on the clock and the policy.
 */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `ALTER TABLE api_tokens ADD COLUMN owner_username text`,
  `UPDATE api_tokens AS t SET owner_username = p.username FROM principals AS p WHERE p.id = t.owner_id`,
  `ALTER TABLE api_tokens ALTER COLUMN owner_username SET NOT NULL`,
  `CREATE INDEX api_tokens_org_owner ON api_tokens (org_id, owner_username, id)`,
  `CREATE INDEX api_tokens_name_trgm ON api_tokens USING gin (name gin_trgm_ops)`,
  `CREATE INDEX api_tokens_owner_trgm ON api_tokens USING gin (owner_username gin_trgm_ops)`,
  `-- status expired (and the expiry half of active): revoked tokens are out of every other status.
CREATE INDEX api_tokens_org_live_expiry ON api_tokens (org_id, expires_at) WHERE revoked_at IS NULL`,
  `-- status idle, and the idle half of active: last activity is the last use, else the creation.
CREATE INDEX api_tokens_org_live_activity ON api_tokens (org_id, (coalesce(last_used_at, created_at))) WHERE revoked_at IS NULL`,
  `CREATE INDEX api_tokens_org_never_used ON api_tokens (org_id, created_at, id) WHERE last_used_at IS NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
