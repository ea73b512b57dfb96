import { sql, type Kysely, type Transaction } from 'kysely';
import type { Store } from '../core/store.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** First key of the two-key advisory locks periodic jobs take (the second is the job's name hash). */
const jobLockSpace = 7_262_002;

export function createJobRepository(db: Db): Store['jobs'] {
  return {
    async claim(name, now, everySeconds, runBy) {
      const work = async (trx: Transaction<Database>): Promise<boolean> => {
        // The lock makes the read-then-write below one step across instances; it is
        // released at commit, and an instance that does not get it simply skips this tick.
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${jobLockSpace}, hashtext(${name})) as locked`.execute(trx);
        if (rows[0]?.locked !== true) return false;
        const last = await trx.selectFrom('job_runs').select('last_run_at').where('name', '=', name).executeTakeFirst();
        if (last && now.getTime() - last.last_run_at.getTime() < everySeconds * 1000) return false;
        await trx
          .insertInto('job_runs')
          .values({ name, last_run_at: now, run_by: runBy })
          .onConflict((oc) => oc.column('name').doUpdateSet({ last_run_at: now, run_by: runBy }))
          .execute();
        return true;
      };
      return db.isTransaction ? work(db as Transaction<Database>) : (db as Kysely<Database>).transaction().execute(work);
    },
  };
}
