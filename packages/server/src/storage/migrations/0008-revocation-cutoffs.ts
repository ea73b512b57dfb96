import { sql, type Kysely } from 'kysely';

/**
 * The revocation feed carries cutoffs (SPEC 9, revoke before a cutoff): one event refuses every
 * access token of an organization, or of one owner, issued before `cutoff_before`. The event's
 * `occurred_at` stays the time it was written, so the catch-up window (by `occurred_at`) keeps
 * following the sequence order.
 */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `ALTER TABLE revocation_events DROP CONSTRAINT revocation_events_kind_check`,
  `ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_kind_check CHECK (kind IN ('token', 'access_token', 'principal', 'cutoff'))`,
  `ALTER TABLE revocation_events ADD COLUMN cutoff_before timestamptz`,
  `ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_cutoff_has_time CHECK ((kind = 'cutoff') = (cutoff_before IS NOT NULL))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
