import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Store } from '../core/store.js';
import { openPglite } from './drivers/pglite.js';
import { openPostgres } from './drivers/postgres.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { createSqlStore } from './sql-store.js';

export interface StorageOptions {
  /** PostgreSQL URL; when absent the embedded PGlite is used. */
  readonly databaseUrl?: string | undefined;
  /** PGlite data directory; absent means in memory. */
  readonly dataDir?: string | undefined;
  /** Start PGlite from this dump instead of an empty database (tests). */
  readonly pgliteDump?: Blob | undefined;
}

export interface Storage {
  readonly store: Store;
  readonly driver: 'pglite' | 'postgres';
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
  /** PGlite only: a dump of the whole database, for cloning in tests. */
  dump(): Promise<Blob>;
}

/** Opens the configured database. Nothing outside `storage/` knows which driver runs. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.databaseUrl !== undefined) {
    const db = openPostgres(options.databaseUrl);
    return storage(db, 'postgres', async () => {
      throw new Error('dump is only available on PGlite');
    });
  }
  const { db, pglite } = await openPglite({
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.pgliteDump !== undefined && { loadDataDir: options.pgliteDump }),
  });
  return storage(db, 'pglite', () => pglite.dumpDataDir('none'));
}

function storage(db: Kysely<Database>, driver: Storage['driver'], dump: () => Promise<Blob>): Storage {
  return {
    store: createSqlStore(db),
    driver,
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'tessera_migrations', migrationLockTableName: 'tessera_migrations_lock' });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    close: () => db.destroy(),
    dump,
  };
}
