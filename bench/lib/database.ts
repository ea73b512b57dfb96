import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A benchmark's own PostgreSQL database: its URL, its name, and an admin connection beside it. */
export interface BenchDatabase {
  readonly url: string;
  readonly name: string;
  readonly admin: pg.Client;
  /** The PostgreSQL backends serving the database now, to read their CPU time. */
  readonly backends: () => Promise<number[]>;
}

/** Creates a database of its own on `adminUrl`, runs `body` with it, and drops it at the end whatever happens. */
export async function withBenchDatabase<T>(adminUrl: string, body: (database: BenchDatabase) => Promise<T>): Promise<T> {
  const name = `tessera_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const backends = async () => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((row) => row.pid);
    return await body({ url: url.toString(), name, admin, backends });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
