import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { TesseraError } from '../../src/core/errors.js';
import { openStorage, type Storage } from '../../src/storage/database.js';
import { createPostgresDatabase } from '../support/databases.js';

/**
 * The revocation catch-up on PostgreSQL (issue 13 item 6) reads the feed over the listening
 * connection (issue 17: no pool, no query builder, a prepared statement), and through the
 * pool when that connection is lost. Revocations are inserted here without a notification, so
 * only the catch-up's own read can bring them to the cache.
 */
const postgresUrl = process.env['TESSERA_TEST_DATABASE_URL'];

describe('revocation catch-up over the listening connection (PostgreSQL)', { skip: postgresUrl === undefined && 'TESSERA_TEST_DATABASE_URL is not set' }, () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let admin: pg.Client;
  let name: string;
  // One instance at a time, so the database has one listening session to watch.
  let opened: Storage[] = [];

  before(async () => {
    database = await createPostgresDatabase();
    name = new URL(database.url).pathname.slice(1);
    const migrating = await openStorage({ databaseUrl: database.url });
    await migrating.migrate();
    await migrating.close();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  afterEach(async () => {
    for (const storage of opened) await storage.close();
    opened = [];
  });
  after(async () => {
    await admin.end();
    await database.drop();
  });

  async function open(options: { statementTimeoutMs?: number } = {}): Promise<Storage> {
    const storage = await openStorage({ databaseUrl: database.url, ...options });
    opened.push(storage);
    await storage.store.revocations.catchUp(); // the first look: where the feed stands
    return storage;
  }

  /** A token verification cached as "unknown", then revoked behind the cache's back. */
  async function cachedThenRevoked(storage: Storage, id: string): Promise<void> {
    await storage.store.tokens.getForVerify(id);
    assert.equal(storage.cacheSizes()['tokens'], 1);
    await admin.query(`INSERT INTO revocation_events (org_id, kind, subject_id, occurred_at) VALUES ('org', 'token', $1, now())`, [id]);
  }

  /** What each of this database's sessions is doing: the listener is `tessera-changes`, the pool `tessera`. */
  async function sessions(): Promise<{ pid: number; application_name: string; query: string; wait_event_type: string | null }[]> {
    const { rows } = await admin.query('SELECT pid, application_name, query, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return rows;
  }
  const listenerSession = async () => (await sessions()).find((s) => s.application_name === 'tessera-changes');

  /** The catch-up fails as an outage, after between `atLeastMs` and `underMs`. */
  async function assertUnavailableWithin(storage: Storage, atLeastMs: number, underMs: number): Promise<void> {
    const started = Date.now();
    const error = await storage.store.revocations.catchUp().then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(error instanceof TesseraError && error.code === 'UNAVAILABLE', String(error));
    assert.ok(elapsed >= atLeastMs && elapsed < underMs, `answered after ${elapsed} ms`);
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('reads the feed on the listening connection, and drops what a revocation names', async () => {
    const storage = await open();
    await cachedThenRevoked(storage, 'tok_listener');
    await storage.store.revocations.catchUp();
    assert.equal(storage.cacheSizes()['tokens'], 0, 'the revoked token is no longer answered from the cache');
    const listener = await listenerSession();
    assert.match(listener?.query ?? '', /from "revocation_events" where "seq" > \$1/, 'the last statement of the listening session is the feed read');
  });

  it('keeps reading after a newer version adds a column to the feed (a rolling upgrade)', async () => {
    const storage = await open();
    await storage.store.revocations.catchUp(); // prepared on the listening connection
    await admin.query('ALTER TABLE revocation_events ADD COLUMN added_by_a_later_version text');
    try {
      await cachedThenRevoked(storage, 'tok_upgrade');
      await storage.store.revocations.catchUp();
      assert.equal(storage.cacheSizes()['tokens'], 0);
    } finally {
      await admin.query('ALTER TABLE revocation_events DROP COLUMN added_by_a_later_version');
    }
  });

  it('falls back to the pool when the listening connection drops during the read, and listens again', async () => {
    const storage = await open();
    await cachedThenRevoked(storage, 'tok_dropped');
    // Holds the read where it can be watched: it waits for the lock on the feed.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    let blocked: { pid: number };
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE revocation_events IN ACCESS EXCLUSIVE MODE');
      const caughtUp = storage.store.revocations.catchUp();
      blocked = await until('the listener to wait for the lock', async () => {
        const listener = await listenerSession();
        return listener?.wait_event_type === 'Lock' && listener;
      });
      await admin.query('SELECT pg_terminate_backend($1)', [blocked.pid]);
      await until('the pool to take the read over', async () => (await sessions()).some((s) => s.application_name === 'tessera' && s.wait_event_type === 'Lock'));
      await locker.query('COMMIT');
      await caughtUp; // answered through the pool, not failed
    } finally {
      await locker.end();
    }
    const again = await until('the listener to reconnect', async () => {
      const listener = await listenerSession();
      return listener !== undefined && listener.pid !== blocked.pid && listener;
    });
    await cachedThenRevoked(storage, 'tok_after_reconnect');
    await storage.store.revocations.catchUp();
    assert.equal(storage.cacheSizes()['tokens'], 0);
    assert.match((await listenerSession())?.query ?? '', /from "revocation_events"/, `the reconnected listener (pid ${again.pid}) serves the read again`);
  });

  it('answers a read that times out as UNAVAILABLE once, without waiting on the pool as long again', async () => {
    const storage = await open({ statementTimeoutMs: 1000 });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE revocation_events IN ACCESS EXCLUSIVE MODE');
      // The server cancels at 1 s; a second wait through the pool would end near 2 s.
      await assertUnavailableWithin(storage, 900, 1800);
      assert.ok(!(await sessions()).some((s) => s.application_name === 'tessera' && /"seq" > \$1/.test(s.query)), 'the pool never ran the read');
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    // The connection itself was fine: it still listens and reads.
    await cachedThenRevoked(storage, 'tok_after_timeout');
    await storage.store.revocations.catchUp();
    assert.equal(storage.cacheSizes()['tokens'], 0);
  });

  it('gives up on a listening connection that stops answering (a partition), and makes a new one', async () => {
    const storage = await open({ statementTimeoutMs: 300 });
    const stalled = await until('the listening session', listenerSession);
    // A stopped backend answers nothing and closes nothing, as a server behind a partition.
    process.kill(stalled.pid, 'SIGSTOP');
    try {
      // The client's own limit: the statement timeout and one second more.
      await assertUnavailableWithin(storage, 1200, 2500);
    } finally {
      process.kill(stalled.pid, 'SIGCONT');
    }
    await until('a new listening session', async () => {
      const listener = await listenerSession();
      return listener !== undefined && listener.pid !== stalled.pid && listener;
    });
    await cachedThenRevoked(storage, 'tok_after_partition');
    await storage.store.revocations.catchUp();
    assert.equal(storage.cacheSizes()['tokens'], 0);
  });
});
