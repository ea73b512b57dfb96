import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { ChangeFeed } from '../core/changes.js';
import type { Store } from '../core/store.js';
import { changeChannel, createChangeHub, type ChangeHub } from './changes.js';
import { openPglite } from './drivers/pglite.js';
import { TesseraError } from '../core/errors.js';
import type { RevocationEventRepository } from '../core/revocations.js';
import { isDatabaseUnavailable, listenPostgres, openPostgres, type DatabaseErrorFacts, type PostgresListener } from './drivers/postgres.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { withReadCache } from './cached-store.js';
import { compileRevocationFeedRead, createRevocationEventRepository, toRevocationEvent } from './sql-oauth.js';
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
  /** PostgreSQL: a connection failed (lost, refused, timed out); reported once per failure, without query or parameters. */
  readonly onConnectionError?: ((facts: DatabaseErrorFacts & { readonly connection: 'pool' | 'listener' }) => void) | undefined;
  /** PostgreSQL: longest wait for a connection, in milliseconds. */
  readonly connectTimeoutMs?: number | undefined;
  /** PostgreSQL: longest statement, in milliseconds. */
  readonly statementTimeoutMs?: number | undefined;
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
  /** Entries held by each read cache (for /metrics and the soak bench). */
  cacheSizes(): Record<string, number>;
}

/** Opens the configured database. Nothing outside `storage/` knows which driver runs. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const changes = createChangeHub(options.onChangeFeedError);
  if (options.databaseUrl !== undefined) {
    const url = options.databaseUrl;
    const onConnectionError = options.onConnectionError;
    const db = openPostgres(url, {
      connectTimeoutMs: options.connectTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      ...(onConnectionError && { onConnectionError: (facts) => onConnectionError({ ...facts, connection: 'pool' }) }),
    });
    let listener: Awaited<ReturnType<typeof listenPostgres>>;
    try {
      listener = await listenPostgres(
        url,
        changeChannel,
        {
          onNotification: (payload) => changes.deliver(payload),
          onReconnect: () => changes.reconnected(),
          // Caches kept exact by notifications cannot be trusted while none can arrive: they are
          // dropped at once (and again on reconnect), so an outage is answered 503, not from memory.
          onDisconnect: () => changes.disconnected(),
          ...(onConnectionError && { onError: (facts) => onConnectionError({ ...facts, connection: 'listener' }) }),
        },
        { connectTimeoutMs: options.connectTimeoutMs, statementTimeoutMs: options.statementTimeoutMs },
      );
    } catch (error) {
      await db.destroy();
      throw error;
    }
    // Migrations run without the statement timeout: one instance may wait on another's migration lock.
    const migrationDb = () => openPostgres(url, { maxConnections: 1, connectTimeoutMs: options.connectTimeoutMs, statementTimeoutMs: 0 });
    return storage(db, 'postgres', changes, {
      stopListening: () => listener.close(),
      dump: async () => {
        throw new Error('dump is only available on PGlite');
      },
      migrationDb,
      live: () => listener.connected(),
      readRevocationsAfter: revocationsOverListener(db, listener),
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
  return storage(db, 'pglite', changes, { stopListening: unlisten, dump });
}

/**
 * The revocation catch-up's read (storage/cached-store.ts) over the listening connection, and
 * through the pool while that connection is down or dropped during the read (one terminated
 * backend need not fail a request the pool can serve). The catch-up runs about once per 12
 * hot-path requests under load (bench:floor); as a prepared statement on a connection of its
 * own it skips the pool, Kysely and the server's parse and plan: PostgreSQL's CPU per
 * introspection went from 8-10 to 4-5 µs (issue 17). The guarantee is the same: a query that
 * starts after the caller asked.
 */
function revocationsOverListener(db: Kysely<Database>, listener: PostgresListener): RevocationEventRepository['after'] {
  const pooled = createRevocationEventRepository(db);
  const { sql: text } = compileRevocationFeedRead(db);
  return async (seq, limit) => {
    const rows = listener.read<Parameters<typeof toRevocationEvent>[0]>({ name: 'tessera_revocations_after', text, values: [seq, limit] });
    if (rows !== undefined) {
      try {
        return (await rows).map(toRevocationEvent);
      } catch (error) {
        if (error instanceof TesseraError || !isDatabaseUnavailable(error)) throw error;
      }
    }
    return pooled.after(seq, limit);
  };
}

interface DriverParts {
  readonly stopListening: () => Promise<void>;
  readonly dump: Storage['dump'];
  /** A connection for migrations, when they need other settings than the pool's. */
  readonly migrationDb?: () => Kysely<Database>;
  /** Whether notifications can arrive now (PGlite: always). */
  readonly live?: () => boolean;
  /** How the read cache's revocation catch-up reads the feed, when not through the store. */
  readonly readRevocationsAfter?: RevocationEventRepository['after'];
}

function storage(db: Kysely<Database>, driver: Storage['driver'], changes: ChangeHub, parts: DriverParts): Storage {
  const { stopListening, dump, migrationDb } = parts;
  // The token endpoint's hot path reads through this cache; writes through it invalidate on every instance.
  const cached = withReadCache(createSqlStore(db), changes, {
    ...(parts.live && { live: parts.live }),
    ...(parts.readRevocationsAfter && { readRevocationsAfter: parts.readRevocationsAfter }),
    sharedDatabase: driver === 'postgres',
  });
  return {
    store: cached.store,
    cacheSizes: () => cached.sizes(),
    driver,
    changes,
    async migrate() {
      const migrating = migrationDb?.() ?? db;
      try {
        const migrator = new Migrator({ db: migrating, provider: migrationProvider, migrationTableName: 'tessera_migrations', migrationLockTableName: 'tessera_migrations_lock' });
        const { error, results } = await migrator.migrateToLatest();
        if (error) throw error instanceof Error ? error : new Error(String(error));
        return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      } finally {
        if (migrating !== db) await migrating.destroy();
      }
    },
    async close() {
      cached.close();
      await stopListening();
      await db.destroy();
    },
    dump,
  };
}
