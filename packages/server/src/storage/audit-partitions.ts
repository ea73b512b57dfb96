import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Same key space as the job claims' advisory locks, another key: one partition change at a time cluster-wide. */
const partitionLock = sql`pg_advisory_xact_lock(hashtext('tessera.audit_events.partitions'))`;

/**
 * A partition of `audit_events` (migration 0013), its range read from its name:
 * `audit_events_<yyyymm>` holds one UTC calendar month, `audit_events_before_<yyyymm>` an
 * existing log from before partitioning (everything before that month), and
 * `audit_events_default` whatever no other partition takes.
 *
 * Why months: a query without a time bound (the audit list's first page) is planned over
 * every partition, and planning costs grow with their number (measured by bench:admin: about
 * 10 ms for 95 daily partitions on a busy machine). Months keep a year to 12 partitions, at
 * the price of retention working a month at a time.
 */
interface Partition {
  readonly name: string;
  readonly kind: 'month' | 'before' | 'default';
  readonly from: Date | null;
  readonly to: Date | null;
}

const monthName = (at: Date) => at.toISOString().slice(0, 7).replace('-', '');
const parseMonth = (digits: string) => new Date(Date.UTC(Number(digits.slice(0, 4)), Number(digits.slice(4, 6)) - 1, 1));
const startOfMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
const nextMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));

async function partitions(db: Db): Promise<Partition[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_events'::regclass`.execute(db);
  const found: Partition[] = [];
  for (const { name } of rows) {
    const month = /^audit_events_(\d{6})$/.exec(name);
    const before = /^audit_events_before_(\d{6})$/.exec(name);
    if (month?.[1]) {
      const from = parseMonth(month[1]);
      found.push({ name, kind: 'month', from, to: nextMonth(from) });
    } else if (before?.[1]) found.push({ name, kind: 'before', from: null, to: parseMonth(before[1]) });
    else if (name === 'audit_events_default') found.push({ name, kind: 'default', from: null, to: null });
  }
  return found;
}

function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : (db as Kysely<Database>).transaction().execute(work);
}

/**
 * Creates the monthly partitions covering `[from, until)` that do not exist yet; returns their
 * names. Rows the default partition already holds for a new month move into it in the same
 * transaction (the default partition is locked meanwhile, so none arrives in between).
 */
export async function createAuditPartitions(db: Db, from: Date, until: Date): Promise<string[]> {
  const created: string[] = [];
  for (let start = startOfMonth(from); start < until; start = nextMonth(start)) {
    const end = nextMonth(start);
    const name = `audit_events_${monthName(start)}`;
    const made = await inTransaction(db, async (trx) => {
      await sql`SELECT ${partitionLock}`.execute(trx);
      const existing = await partitions(trx);
      // A month an older log's partition already covers stays in it.
      if (existing.some((p) => p.name === name || (p.kind === 'before' && p.to !== null && p.to > start))) return false;
      await sql`LOCK TABLE audit_events_default IN ACCESS EXCLUSIVE MODE`.execute(trx);
      await sql.raw(`CREATE TABLE ${name} (LIKE audit_events)`).execute(trx);
      await sql`
        WITH moved AS (DELETE FROM audit_events_default WHERE occurred_at >= ${start} AND occurred_at < ${end} RETURNING *)
        INSERT INTO ${sql.table(name)} SELECT * FROM moved`.execute(trx);
      await sql.raw(`ALTER TABLE audit_events ATTACH PARTITION ${name} FOR VALUES FROM ('${start.toISOString()}') TO ('${end.toISOString()}')`).execute(trx);
      return true;
    });
    if (made) created.push(name);
  }
  return created;
}

/**
 * Retention: drops every partition wholly older than `before` (a month once all of it has
 * passed the cutoff), and deletes the older rows of the two that have no month of their own
 * (the default partition and a log from before partitioning, both small or shrinking). A
 * month that straddles the cutoff is kept whole until it is all older, so events live up to
 * one month past the retention. Returns how many events went.
 */
export async function dropAuditBefore(db: Db, before: Date): Promise<number> {
  let removed = 0;
  for (const partition of await partitions(db)) {
    if (partition.to !== null && partition.to <= before) {
      removed += await inTransaction(db, async (trx) => {
        // Dropping a partition locks the whole table: wait a little for readers, else retry at the next run.
        await sql`SET LOCAL lock_timeout = '10s'`.execute(trx);
        const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(partition.name)}`.execute(trx);
        await sql.raw(`DROP TABLE ${partition.name}`).execute(trx);
        return Number(rows[0]?.n ?? 0);
      });
    } else if (partition.kind !== 'month') {
      const result = await db.deleteFrom(partition.name as 'audit_events').where('occurred_at', '<', before).executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
  }
  return removed;
}
