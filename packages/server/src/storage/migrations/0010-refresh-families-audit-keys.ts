import { sql, type Kysely } from 'kysely';

/**
 * Issue 13, items 3 and 4.
 *
 * Refresh-token families (RFC 9700 §4.14.2): `api_tokens.retired_refresh_hashes` holds the keyed
 * hashes of the secrets refresh rotation replaced, oldest first, hex-encoded, the last 32
 * generations. Presenting any of them is a reuse and revokes the token (and so every access
 * token minted from it). Existing tokens start with an empty history; their immediately
 * previous secret is still `previous_secret_hash`.
 *
 * Batched audit events written once: `audit_events.write_key` is set by the usage recorder on
 * each buffered exchange and denial event. A write whose COMMIT succeeded but whose answer was
 * lost (the connection died) is retried; the unique key makes the retry insert nothing twice.
 * Events written in their change's own transaction carry none.
 */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `ALTER TABLE api_tokens ADD COLUMN retired_refresh_hashes jsonb NOT NULL DEFAULT '[]'::jsonb`,
  `ALTER TABLE audit_events ADD COLUMN write_key text`,
  `CREATE UNIQUE INDEX audit_events_write_key ON audit_events (write_key) WHERE write_key IS NOT NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
