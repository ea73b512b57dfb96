import { sql, type Kysely } from 'kysely';

/**
 * Searching principals by username: a trigram index, as the token list has on owner_username
 * (migration 0004). The token search finds the owners it matches here first (an organization
 * has far fewer principals than tokens), then their tokens by the owner index; the users and
 * service-accounts lists search the same column.
 */
const statements = [`CREATE INDEX principals_username_trgm ON principals USING gin (username gin_trgm_ops)`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
