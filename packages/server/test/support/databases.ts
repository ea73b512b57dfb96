import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStorage, type Storage } from '../../src/storage/database.js';

/**
 * The databases the storage-dependent suites run against: PGlite always, PostgreSQL when
 * TESSERA_TEST_DATABASE_URL is set. In CI the PostgreSQL run is mandatory: a missing URL or an
 * unreachable server fails the suite instead of quietly skipping it.
 */
export interface DatabaseTarget {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database of this kind. */
  create(): Promise<TestDatabase>;
}

export interface TestDatabase {
  readonly storage: Storage;
  /** For a PostgreSQL target, the URL of this test's own database (for servers under test). */
  readonly url: string | undefined;
  dispose(): Promise<void>;
}

const postgresUrl = process.env['TESSERA_TEST_DATABASE_URL'];
if (process.env['CI'] === 'true' && !postgresUrl) {
  throw new Error('CI=true but TESSERA_TEST_DATABASE_URL is not set: the PostgreSQL suites must run in CI');
}

let pgliteDump: Promise<Blob> | undefined;

/** One migrated PGlite per test process, dumped once and cloned for each test database. */
export function preparedPglite(): Promise<Blob> {
  pgliteDump ??= (async () => {
    const storage = await openStorage({});
    await storage.migrate();
    const dump = await storage.dump();
    await storage.close();
    return dump;
  })();
  return pgliteDump;
}

export const pgliteTarget: DatabaseTarget = {
  name: 'pglite',
  async create() {
    const storage = await openStorage({ pgliteDump: await preparedPglite() });
    await storage.migrate();
    return { storage, url: undefined, dispose: () => storage.close() };
  },
};

/** Creates a database of its own on the server named by TESSERA_TEST_DATABASE_URL. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgresUrl) throw new Error('TESSERA_TEST_DATABASE_URL is not set');
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export const postgresTarget: DatabaseTarget = {
  name: 'postgres',
  async create() {
    const database = await createPostgresDatabase();
    const storage = await openStorage({ databaseUrl: database.url });
    await storage.migrate();
    return {
      storage,
      url: database.url,
      async dispose() {
        await storage.close();
        await database.drop();
      },
    };
  },
};

/** PGlite, plus PostgreSQL when configured. */
export const databaseTargets: readonly DatabaseTarget[] = postgresUrl ? [pgliteTarget, postgresTarget] : [pgliteTarget];
