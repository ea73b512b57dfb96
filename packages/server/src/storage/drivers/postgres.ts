import { Kysely, PostgresDialect, type DatabaseConnection, type Dialect, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import pg from 'pg';
import { TesseraError } from '../../core/errors.js';
import type { Database } from '../schema.js';

/**
 * What may be logged about a database error: its SQLSTATE (or the socket's errno code) and, for
 * connection failures only, the message, which names no data. Never the query or its
 * parameters, and never a server message about rows (`detail` may quote values).
 */
export interface DatabaseErrorFacts {
  readonly sqlstate: string | undefined;
  readonly errno: string | undefined;
  readonly message: string;
}

/** SQLSTATEs that mean "the server is not there for us now", not "this statement is wrong". */
function isUnavailableState(state: string): boolean {
  return (
    state.startsWith('08') || // connection exception
    state === '57P01' || // admin_shutdown (pg_terminate_backend, fast shutdown)
    state === '57P02' || // crash_shutdown
    state === '57P03' || // cannot_connect_now (starting up, shutting down)
    state === '57014' || // query_canceled: our statement_timeout
    state === '53300' || // too_many_connections
    state === '25P03' // idle_in_transaction_session_timeout
  );
}

const unavailableErrnos = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * pg reports a lost or never-made connection with plain Errors; their messages are the only
 * mark (pg/lib/client.js and pg-pool/index.js).
 */
const unavailableMessages = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end)/;

/** A SQLSTATE: five digits or capitals, with a digit in every one defined (an errno such as EPIPE has none). */
const sqlstateOf = (error: unknown): string | undefined => {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /[0-9]/.test(code) ? code : undefined;
};

/** Whether `error` says the database is unreachable or too slow, rather than that a statement failed. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sqlstate = sqlstateOf(error);
  if (sqlstate !== undefined) return isUnavailableState(sqlstate);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableErrnos.has(code)) return true;
  return unavailableMessages.test(error.message);
}

function factsOf(error: unknown): DatabaseErrorFacts {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  const sqlstate = sqlstateOf(error);
  return {
    sqlstate,
    errno: typeof code === 'string' && sqlstate === undefined ? code : undefined,
    message: isDatabaseUnavailable(error) ? (error as Error).message : 'database error',
  };
}

export interface PostgresOptions {
  readonly maxConnections?: number;
  /** Longest wait for a new connection or a free pooled one (pg `connectionTimeoutMillis`). */
  readonly connectTimeoutMs?: number;
  /** The server cancels any statement running longer (`statement_timeout`, SQLSTATE 57014); 0: no limit. */
  readonly statementTimeoutMs?: number;
  /** Called once per connection failure, with what may be logged about it. */
  readonly onConnectionError?: (facts: DatabaseErrorFacts) => void;
}

/**
 * Connects to a PostgreSQL server through a `pg` pool that fails closed: a lost, refused or
 * timed-out connection becomes TesseraError UNAVAILABLE (503 with Retry-After), and no error
 * event of the pool or of a client, idle or checked out, can end the process. The next query
 * opens a fresh connection, so recovery needs no restart.
 */
export function openPostgres(url: string, options: PostgresOptions = {}): Kysely<Database> {
  const report = once(options.onConnectionError ?? (() => {}));
  // A dying connection emits more than one error (the server's 57P01, then "Connection
  // terminated"): the first one tells the story.
  const broken = new WeakSet<pg.PoolClient>();
  const reportClient = (client: pg.PoolClient, error: unknown) => {
    if (broken.has(client)) return;
    broken.add(client);
    report(error);
  };
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    // 0 turns the limits off (migrations, which may wait for another instance's lock).
    ...(statementTimeoutMs > 0 && {
      statement_timeout: statementTimeoutMs,
      // A server that vanished without closing the socket (a partition) answers nothing; the
      // client gives up a little after the server would have cancelled the statement.
      query_timeout: statementTimeoutMs + 1000,
      // A transaction left open by a dead client must not hold row locks (the per-user limit's) for long.
      idle_in_transaction_session_timeout: Math.max(statementTimeoutMs * 2, 10_000),
    }),
    keepAlive: true,
    application_name: 'tessera',
  });
  // Idle clients report to the pool; a checked-out client (a transaction between two
  // statements) emits on itself only, and an unheard 'error' event ends the process.
  pool.on('error', (error, client) => reportClient(client, error));
  pool.on('connect', (client) => client.on('error', (error) => reportClient(client, error)));
  return new Kysely<Database>({ dialect: failingClosed(new PostgresDialect({ pool }), report) });
}

/** Each error object is reported once, whichever of the client event and the failed query sees it first. */
function once(onError: (facts: DatabaseErrorFacts) => void): (error: unknown) => void {
  const seen = new WeakSet<object>();
  return (error) => {
    if (typeof error === 'object' && error !== null) {
      if (seen.has(error)) return;
      seen.add(error);
    }
    try {
      onError(factsOf(error));
    } catch {
      // Logging must not turn a database error into a crash.
    }
  };
}

/**
 * Turns connection failures into UNAVAILABLE at the driver, the one boundary every query
 * crosses, so the Store, core and the error mapper see a single outage error.
 */
function failingClosed(dialect: Dialect, report: (error: unknown) => void): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new FailClosedDriver(dialect.createDriver(), report),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class FailClosedDriver implements Driver {
  readonly #inner: Driver;
  readonly #report: (error: unknown) => void;
  readonly #connections = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, report: (error: unknown) => void) {
    this.#inner = inner;
    this.#report = report;
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      // "Not queryable" follows an error already reported for that client (its error event).
      if (!(error instanceof Error && error.message.startsWith('Client has encountered a connection error'))) this.#report(error);
      throw new TesseraError('UNAVAILABLE', 'The database is unavailable; retry in a moment', { retryAfter: 1 });
    }
  }

  #unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.#connections.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return this.#guard(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#guard(() => this.#inner.acquireConnection());
    const guard = <T>(work: () => Promise<T>) => this.#guard(work);
    const outer: DatabaseConnection = {
      executeQuery: <R>(query: Parameters<DatabaseConnection['executeQuery']>[0]): Promise<QueryResult<R>> => guard(() => inner.executeQuery<R>(query)),
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
    this.#connections.set(outer, inner);
    return outer;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#guard(() => this.#inner.beginTransaction(this.#unwrap(connection), settings));
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#guard(() => this.#inner.commitTransaction(this.#unwrap(connection)));
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#guard(() => this.#inner.rollbackTransaction(this.#unwrap(connection)));
  }
  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(connection));
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

export interface PostgresListener {
  /** Whether the LISTEN is in place now (notifications can arrive). */
  connected(): boolean;
  /**
   * Runs a read on the listening connection, or answers undefined when it is not connected now
   * (the caller uses the pool instead). For a read on every hot-path request batch (the
   * revocation catch-up): it passes no pool and no query builder, costing about 40% less CPU,
   * and `name` makes it a prepared statement, parsed once per connection.
   * Rejects with UNAVAILABLE when the read times out (on the server, or with no answer at all:
   * the connection is then closed and made again); with the driver's own error otherwise, a
   * dropped connection included.
   */
  read<R>(query: { readonly name: string; readonly text: string; readonly values: readonly unknown[] }): Promise<R[]> | undefined;
  close(): Promise<void>;
}

/**
 * Listens on `channel` over a connection of its own (a pooled one would be handed back and
 * stop listening). When that connection drops it calls `onDisconnect`, reconnects with backoff,
 * and once listening again calls `onReconnect`: notifications sent meanwhile are lost, so
 * callers reload.
 * Resolves once the first LISTEN is in place.
 */
export async function listenPostgres(
  url: string,
  channel: string,
  handlers: {
    onNotification: (payload: string | undefined) => void;
    onReconnect: () => void;
    /** The connection dropped: until `onReconnect`, notifications may be missed. */
    onDisconnect?: () => void;
    onError?: (facts: DatabaseErrorFacts) => void;
  },
  options: { minDelayMs?: number; maxDelayMs?: number; connectTimeoutMs?: number; statementTimeoutMs?: number } = {},
): Promise<PostgresListener> {
  const minDelay = options.minDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5000;
  const report = once(handlers.onError ?? (() => {}));
  let client: pg.Client | undefined;
  let closed = false;
  let delay = minDelay;
  let retry: NodeJS.Timeout | undefined;
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;

  async function connect(): Promise<void> {
    const next = new pg.Client({
      connectionString: url,
      keepAlive: true,
      application_name: 'tessera-changes',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      // The same limits as the pool's, for the reads this connection serves (LISTEN is instant).
      ...(statementTimeoutMs > 0 && { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 1000 }),
    });
    // Errors surface as 'end' too; reconnecting is handled there. The first error of a connection tells the story.
    let failed = false;
    next.on('error', (error) => {
      if (!failed) report(error);
      failed = true;
    });
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotification(message.payload);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    next.on('end', () => {
      if (client === next) client = undefined;
      if (closed) return;
      handlers.onDisconnect?.();
      schedule();
    });
    client = next;
  }

  function schedule(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(
        () => {
          delay = minDelay;
          if (closed) void client?.end();
          else handlers.onReconnect();
        },
        (error) => {
          report(error);
          delay = Math.min(delay * 2, maxDelay);
          schedule();
        },
      );
    }, delay);
    retry.unref();
  }

  await connect();
  return {
    connected: () => client !== undefined,
    read<R>({ name, text, values }: { readonly name: string; readonly text: string; readonly values: readonly unknown[] }) {
      const reading = client;
      if (reading === undefined) return undefined;
      return reading.query<R & pg.QueryResultRow>({ name, text, values: [...values] }).then(
        (result) => result.rows,
        (error: unknown) => {
          const stalled = error instanceof Error && error.message.startsWith('Query read timeout');
          if (!stalled && sqlstateOf(error) !== '57014') throw error;
          report(error);
          // No answer at all (a partition): this connection may have missed notifications too.
          // Closing it makes the listener report the loss and reconnect.
          if (stalled) void reading.end().catch(() => {});
          // A timeout is not a dropped connection: the pool would wait as long again.
          throw new TesseraError('UNAVAILABLE', 'The database is unavailable; retry in a moment', { retryAfter: 1 });
        },
      );
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
