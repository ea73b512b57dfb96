import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PGliteDialect, type DatabaseConnection, type Dialect, type Driver, type TransactionSettings } from 'kysely';
import type { Database } from '../schema.js';

/**
 * Serialises use of PGlite's single connection. Kysely's PGlite driver hands every caller the
 * same connection, so two concurrent transactions (or a query issued while a transaction is
 * open) would interleave on it. Holding a mutex from acquire to release gives each transaction
 * the connection to itself, as a pool of one would.
 */
class SerializedDriver implements Driver {
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#release = release;
    return this.inner.acquireConnection();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(connection);
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

function serialized(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new SerializedDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

export interface PgliteDatabase {
  readonly db: Kysely<Database>;
  readonly pglite: PGlite;
}

/**
 * Opens the embedded PostgreSQL (PGlite, in WebAssembly). With `dataDir` undefined the
 * database lives in memory (tests); otherwise in that directory. `loadDataDir` starts from a
 * dump, which is several times faster than creating and migrating a fresh database.
 */
export async function openPglite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<PgliteDatabase> {
  // One options object: PGlite ignores a second argument when the first (the data directory) is
  // undefined, which silently dropped `loadDataDir` for in-memory databases.
  const pglite = new PGlite({
    ...(options.dataDir !== undefined && { dataDir: options.dataDir }),
    ...(options.loadDataDir !== undefined && { loadDataDir: options.loadDataDir }),
    // Trigram indexes serve the token search (migration 0004).
    extensions: { pg_trgm },
  });
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: serialized(new PGliteDialect({ pglite })) });
  return { db, pglite };
}
