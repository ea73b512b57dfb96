import { sql, type Kysely } from 'kysely';

/**
 * Where a token was used (SPEC 9): the last 5 distinct client addresses with the last time each
 * was seen, `[{"ip", "at"}]` newest first, kept up to date by the batched usage write.
 */
const statements = [`ALTER TABLE api_tokens ADD COLUMN recent_ips jsonb NOT NULL DEFAULT '[]'::jsonb`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
