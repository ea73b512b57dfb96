import { sql, type Kysely } from 'kysely';

/**
 * Two-factor login (TOTP, RFC 6238). One factor per user: the seed encrypted under the server's
 * secret key, `confirmed_at` null until a first code proves the authenticator has it,
 * `last_step` the newest time step accepted (a code is never accepted twice), and the keyed
 * hashes of the unused recovery codes.
 */
const statements = [
  `CREATE TABLE second_factors (
  principal_id text PRIMARY KEY REFERENCES principals(id),
  org_id text NOT NULL REFERENCES orgs(id),
  seed_cipher bytea NOT NULL,
  confirmed_at timestamptz,
  last_step bigint,
  recovery_hashes jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL
)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
