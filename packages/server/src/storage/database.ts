import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { ChangeFeed } from '../core/changes.js';
import type { Store } from '../core/store.js';
import { changeChannel, createChangeHub, type ChangeHub } from './changes.js';
import { openPglite } from './drivers/pglite.js';
import { listenPostgres, openPostgres } from './drivers/postgres.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { withReadCache } from './cached-store.js';
import { createSqlStore } from './sql-store.js';

export interface StorageOptions {
  /** PostgreSQL URL; when absent the embedded PGlite is used. */
  readonly databaseUrl?: string | undefined;
  /** PGlite data directory; absent means in memory. */
  readonly dataDir?: string | undefined;
  /** Start PGlite from this dump instead of an empty database (tests). */
  readonly pgliteDump?: Blob | undefined;
  /** Problems of the change listener that do not stop it (a dropped connection, a failing subscriber). */
  readonly onChangeFeedError?: ((error: unknown) => void) | undefined;
}

export interface Storage {
  readonly store: Store;
  readonly driver: 'pglite' | 'postgres';
  /** Changes made through any instance on this database, this one's included (SPEC 8). */
  readonly changes: ChangeFeed;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
  /**
   * PGlite only: a tar of the whole data directory (gzipped on request), for cloning in tests
   * and for `tessera backup`. Taken between two transactions after a checkpoint, so it holds
   * every committed change and no half-done one.
   */
  dump(compression?: 'none' | 'gzip'): Promise<Blob>;
}

/** Opens the configured database. Nothing outside `storage/` knows which driver runs. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const changes = createChangeHub(options.onChangeFeedError);
  if (options.databaseUrl !== undefined) {
    const db = openPostgres(options.databaseUrl);
    let listener: Awaited<ReturnType<typeof listenPostgres>>;
    try {
      listener = await listenPostgres(options.databaseUrl, changeChannel, {
        onNotification: (payload) => changes.deliver(payload),
        onReconnect: () => changes.reconnected(),
        onError: options.onChangeFeedError,
      });
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return storage(db, 'postgres', changes, () => listener.close(), async () => {
      throw new Error('dump is only available on PGlite');
    });
  }
  const { db, pglite } = await openPglite({
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.pgliteDump !== undefined && { loadDataDir: options.pgliteDump }),
  });
  // Before anything else uses the connection: a LISTEN inside someone's transaction would share its fate.
  const unlisten = await pglite.listen(changeChannel, (payload) => changes.deliver(payload));
  // Holding Kysely's connection (SerializedDriver) waits for the transaction in progress and
  // holds off the next: PGlite's own lock covers single queries, not a Kysely transaction's
  // several. The checkpoint writes every committed change into the data files.
  const dump = (compression: 'none' | 'gzip' = 'none') =>
    db.connection().execute(async () => {
      await pglite.exec('CHECKPOINT');
      return pglite.dumpDataDir(compression);
    });
  return storage(db, 'pglite', changes, unlisten, dump);
}

function storage(db: Kysely<Database>, driver: Storage['driver'], changes: ChangeHub, stopListening: () => Promise<void>, dump: Storage['dump']): Storage {
  // The token endpoint's hot path reads through this cache; writes through it invalidate on every instance.
  const cached = withReadCache(createSqlStore(db), changes);
  return {
    store: cached.store,
    driver,
    changes,
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'tessera_migrations', migrationLockTableName: 'tessera_migrations_lock' });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async close() {
      cached.close();
      await stopListening();
      await db.destroy();
    },
    dump,
  };
}
