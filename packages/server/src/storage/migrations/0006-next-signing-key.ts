import { sql, type Kysely } from 'kysely';

/**
 * The next signing key is published before it signs (RFC 7517 key rollover): a resource server
 * that fetched the JWKS since the previous rotation already holds the key new tokens name, so
 * no token is refused while its cache waits out a refetch cooldown. `activated_at` is null
 * while a key is only published; at most one key is active and at most one waits.
 */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `ALTER TABLE signing_keys ADD COLUMN activated_at timestamptz`,
  `UPDATE signing_keys SET activated_at = created_at`,
  `DROP INDEX signing_keys_one_active`,
  `CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL AND activated_at IS NOT NULL`,
  `CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys ((true)) WHERE activated_at IS NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
