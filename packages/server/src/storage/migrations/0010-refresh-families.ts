import { sql, type Kysely } from 'kysely';

/**
 * Refresh-token families (RFC 9700 §4.14.2, issue 13): the keyed hashes of the secrets that
 * refresh rotation replaced, oldest first, hex-encoded, the last 32 generations. Presenting
 * any of them is a reuse and revokes the token (and so every access token minted from it).
 * Existing tokens start with an empty history; their immediately previous secret is still
 * `previous_secret_hash`.
 */
const statements = [`ALTER TABLE api_tokens ADD COLUMN retired_refresh_hashes jsonb NOT NULL DEFAULT '[]'::jsonb`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
