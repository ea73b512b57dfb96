import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';

/** Connects to a PostgreSQL server through a `pg` pool. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export interface PostgresListener {
  close(): Promise<void>;
}

/**
 * Listens on `channel` over a connection of its own (a pooled one would be handed back and
 * stop listening). When that connection drops it reconnects with backoff, and once listening
 * again calls `onReconnect`: notifications sent meanwhile are lost, so callers reload.
 * Resolves once the first LISTEN is in place.
 */
export async function listenPostgres(
  url: string,
  channel: string,
  handlers: { onNotification: (payload: string | undefined) => void; onReconnect: () => void; onError?: (error: unknown) => void },
  options: { minDelayMs?: number; maxDelayMs?: number } = {},
): Promise<PostgresListener> {
  const minDelay = options.minDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5000;
  let client: pg.Client | undefined;
  let closed = false;
  let delay = minDelay;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: url, keepAlive: true, application_name: 'tessera-changes' });
    // Errors surface as 'end' too; reconnecting is handled there.
    next.on('error', (error) => handlers.onError?.(error));
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
      if (!closed) schedule();
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
          handlers.onError?.(error);
          delay = Math.min(delay * 2, maxDelay);
          schedule();
        },
      );
    }, delay);
    retry.unref();
  }

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
