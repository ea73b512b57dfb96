import { sql, type Kysely } from 'kysely';

/**
 * Audit at scale (issue 17 item 3).
 *
 * - `token_usage`: exchanges at the token endpoint are counted per token, per minute and per
 *   outcome instead of writing one audit row each (at 5,000 exchanges a second that was 430
 *   million rows a day). The usage recorder upserts its buffered counts; `usage_writes` holds
 *   the key of each written batch for a day, so a retry of a batch whose commit went through
 *   unanswered does not count it twice. State changes and denials keep one audit row each.
 * - `audit_events` becomes partitioned by `occurred_at` (one partition per UTC month, created
 *   ahead by the `audit-partitions` job; see storage/audit-partitions.ts for why months), so
 *   retention drops whole partitions instead of deleting rows. A default partition takes what
 *   falls outside the created months (a clock far off, a month not yet created); creating a
 *   month moves its rows out of it. An existing log is kept as one partition
 *   `audit_events_before_<yyyymm>` for everything before the month after its newest event (an
 *   empty one is dropped), so nothing is copied; attaching it builds the new indexes on it.
 * - Indexes lead with the organization and end with the list's order (newest first by time,
 *   then sequence), so each filter of the audit list reads one bounded index range per
 *   partition; the sequence no longer needs an index of its own.
 */
const columns = `
  seq bigint NOT NULL DEFAULT nextval('audit_events_seq_seq'),
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
  details jsonb NOT NULL DEFAULT '{}',
  write_key text`;

const indexes = [
  `CREATE INDEX audit_events_org ON audit_events (org_id, occurred_at DESC, seq DESC)`,
  `CREATE INDEX audit_events_action ON audit_events (org_id, action, occurred_at DESC, seq DESC)`,
  // `token.*`: a family is the action up to its first dot.
  `CREATE INDEX audit_events_family ON audit_events (org_id, split_part(action, '.', 1), occurred_at DESC, seq DESC)`,
  `CREATE INDEX audit_events_actor ON audit_events (org_id, actor_principal_id, occurred_at DESC, seq DESC)`,
  `CREATE INDEX audit_events_target ON audit_events (org_id, target_id, occurred_at DESC, seq DESC)`,
  // A unique index of a partitioned table includes the partition key; a retried event has the same time.
  `CREATE UNIQUE INDEX audit_events_write_key ON audit_events (write_key, occurred_at) WHERE write_key IS NOT NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`CREATE TABLE token_usage (
  token_id text NOT NULL,
  minute timestamptz NOT NULL,
  outcome text NOT NULL,
  org_id text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (token_id, minute, outcome)
)`);
  await run(`CREATE INDEX token_usage_minute ON token_usage (minute)`);
  await run(`CREATE TABLE usage_writes (write_key text PRIMARY KEY, written_at timestamptz NOT NULL)`);

  for (const name of ['org', 'action', 'actor', 'target', 'time', 'write_key']) await run(`ALTER INDEX audit_events_${name} RENAME TO audit_events_old_${name}`);
  await run(`ALTER TABLE audit_events RENAME CONSTRAINT audit_events_pkey TO audit_events_old_pkey`);
  await run(`ALTER TABLE audit_events RENAME TO audit_events_old`);
  await run(`CREATE TABLE audit_events (${columns},
  PRIMARY KEY (seq, occurred_at)
) PARTITION BY RANGE (occurred_at)`);
  await run(`ALTER TABLE audit_events_old ALTER COLUMN seq DROP DEFAULT`);
  await run(`ALTER SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq`);
  await run(`CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT`);
  for (const index of indexes) await run(index);

  const { rows } = await sql<{ newest: Date | null }>`SELECT max(occurred_at) AS newest FROM audit_events_old`.execute(db);
  const newest = rows[0]?.newest ?? null;
  if (newest === null) {
    await run(`DROP TABLE audit_events_old`);
    return;
  }
  const end = new Date(Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() + 1, 1));
  const name = `audit_events_before_${end.toISOString().slice(0, 7).replace('-', '')}`;
  // The retention job deletes from this partition by time until all of it has aged out.
  await run(`ALTER INDEX audit_events_old_time RENAME TO ${name}_time`);
  await run(`ALTER TABLE audit_events_old RENAME TO ${name}`);
  // Its own key and indexes give way to the partitioned table's, built on it by the attach.
  for (const index of ['org', 'action', 'actor', 'target', 'write_key']) await run(`DROP INDEX audit_events_old_${index}`);
  await run(`ALTER TABLE ${name} DROP CONSTRAINT audit_events_old_pkey`);
  await run(`ALTER TABLE audit_events ATTACH PARTITION ${name} FOR VALUES FROM (MINVALUE) TO ('${end.toISOString()}')`);
}
