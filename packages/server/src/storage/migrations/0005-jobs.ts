import { sql, type Kysely } from 'kysely';

/**
 * Periodic jobs that run once cluster-wide (SPEC 8).
 * - `job_runs` records when each job last ran; an instance claims a run by moving that time
 *   forward under a transaction-scoped advisory lock, so of several instances waking together
 *   exactly one runs the job per period.
 * - `lapsed_at` / `lapse_reason` mark a token the sweep has seen expire or go idle, so each
 *   lapse is audited exactly once. Status itself stays computed at read time (the clock and
 *   the policy decide it); the mark only records that the audit trail has been told.
 */
// One statement per entry: PGlite's extended protocol runs a single statement per query.
const statements = [
  `CREATE TABLE job_runs (
  name text PRIMARY KEY,
  last_run_at timestamptz NOT NULL,
  run_by text NOT NULL
)`,
  `ALTER TABLE api_tokens ADD COLUMN lapsed_at timestamptz`,
  `ALTER TABLE api_tokens ADD COLUMN lapse_reason text CHECK (lapse_reason IN ('expired', 'idle'))`,
  `-- The sweep's two questions: which live, unmarked tokens have expired, and which went idle.
CREATE INDEX api_tokens_unlapsed_expiry ON api_tokens (expires_at) WHERE revoked_at IS NULL AND lapsed_at IS NULL`,
  `CREATE INDEX api_tokens_unlapsed_activity ON api_tokens (org_id, (coalesce(last_used_at, created_at))) WHERE revoked_at IS NULL AND lapsed_at IS NULL`,
  `CREATE INDEX audit_events_time ON audit_events (occurred_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
