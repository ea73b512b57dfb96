import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TesseraError } from '../../src/core/errors.js';
import { openStorage, type Storage } from '../../src/storage/database.js';
import { clusterUnavailable, createCluster, type Cluster } from './cluster.js';
import { checkInvariants, printReport } from './invariants.js';
import { isReady, prepareWorld, secretKey, sleep, startFleet, startLoad, stopFleet, until, type Instance } from './support.js';

const skip = clusterUnavailable();

/** Ends every backend of Tessera's (pool and listener), as an operator's pg_terminate_backend or a failover would. */
async function terminate(cluster: Cluster, database: string, where = `application_name LIKE 'tessera%'`): Promise<number> {
  // Materialized first: in one WHERE the planner may call pg_terminate_backend before the filters.
  const rows = await cluster.query<{ ended: boolean }>(
    `WITH chosen AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND ${where})
     SELECT pg_terminate_backend(pid) AS ended FROM chosen`,
    [database],
  );
  return rows.filter((row) => row.ended).length;
}

/**
 * Issue 13 item 1: no database error ends the process. A backend terminated under a pooled
 * idle client, under a client checked out by a transaction between two statements, and under
 * the LISTEN connection; then every connection of three `tessera serve` processes, repeatedly,
 * under load.
 */
describe('terminated database connections', { skip, timeout: 300_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await createCluster();
  });
  after(() => cluster?.destroy());

  describe('one storage, each kind of connection', () => {
    let storage: Storage;
    const logged: { sqlstate?: string | undefined; errno?: string | undefined; connection: string; message: string }[] = [];
    before(async () => {
      await cluster.query('CREATE DATABASE single');
      storage = await openStorage({ databaseUrl: cluster.urlOf('single'), onConnectionError: (facts) => logged.push(facts) });
      await storage.migrate();
    });
    after(() => storage?.close());

    it('survives the loss of an idle pooled connection and uses a fresh one', async () => {
      await storage.store.ping();
      assert.ok((await terminate(cluster, 'single', `application_name = 'tessera'`)) >= 1);
      await sleep(100);
      await storage.store.ping();
      assert.ok(logged.some((facts) => facts.connection === 'pool' && facts.sqlstate === '57P01'), JSON.stringify(logged));
    });

    it('fails a transaction whose connection is lost between two statements with UNAVAILABLE, and recovers', async () => {
      logged.length = 0;
      const failure = await storage.store
        .transaction(async (tx) => {
          await tx.ping();
          // Checked out and idle in the transaction: pg emits 'error' on this client alone.
          assert.ok((await terminate(cluster, 'single', `application_name = 'tessera' AND state = 'idle in transaction'`)) >= 1);
          await sleep(200);
          await tx.ping();
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(failure instanceof TesseraError && failure.code === 'UNAVAILABLE' && failure.retryAfter === 1, String(failure));
      await storage.store.ping();
      // One line per failure: the client's error event and the failed statement carry the same error.
      assert.deepEqual(logged, [{ sqlstate: '57P01', errno: undefined, message: 'terminating connection due to administrator command', connection: 'pool' }]);
    });

    it('reconnects the LISTEN connection with backoff and tells subscribers what they missed', async () => {
      let missed = 0;
      const seen: string[] = [];
      const unsubscribe = storage.changes.subscribe({ change: (change) => seen.push(change.key), missed: () => missed++ });
      try {
        const started = Date.now();
        assert.equal(await terminate(cluster, 'single', `application_name = 'tessera-changes'`), 1);
        const ms = await until(async () => missed > 0, 10_000, 'listener reconnect');
        console.log(`# LISTEN connection back after ${Date.now() - started} ms (observed ${ms} ms)`);
        await storage.store.transaction((tx) => tx.changes.publish('tokens', 'after-reconnect'));
        await until(async () => seen.includes('after-reconnect'), 5000, 'notification after reconnect');
        assert.ok(logged.some((facts) => facts.connection === 'listener'), JSON.stringify(logged));
      } finally {
        unsubscribe();
      }
    });
  });

  describe('three tessera serve processes under load', () => {
    const instances: Instance[] = [];
    const rounds = 6;
    before(async () => {
      await cluster.query('CREATE DATABASE served');
      const env = { TESSERA_DATABASE_URL: cluster.urlOf('served'), TESSERA_SECRET_KEY: secretKey };
      instances.push(...(await startFleet(env)));
    });
    after(() => stopFleet(instances));

    it(`every connection terminated ${rounds} times: no process exits, every failed answer is a 503 with Retry-After, nothing acknowledged is lost`, async () => {
      const world = await prepareWorld((instances[0] as Instance).url);
      const load = startLoad(world, () => instances.map((instance) => instance.url));
      const recoveries: number[] = [];
      let terminated = 0;
      try {
        await sleep(2000);
        for (let round = 0; round < rounds; round++) {
          terminated += await terminate(cluster, 'served');
          const start = Date.now();
          await Promise.all(instances.map((instance) => until(() => isReady(instance.url), 10_000, 'ready after termination')));
          recoveries.push(Date.now() - start);
          await sleep(1500);
        }
      } finally {
        await load.stop();
      }
      // Exchange audit events are written in batches: give the last one its flush interval.
      await sleep(1500);
      const exits = instances.filter((instance) => !instance.alive()).length;
      const report = await checkInvariants((text, values) => cluster.queryIn('served', text, values), { limit: world.limit, acknowledged: load.acknowledged });
      printReport('terminate all connections', report, { rounds, terminated, exits, recoveryMs: recoveries, ...load.counts, otherSamples: undefined });
      for (const sample of load.counts.otherSamples) console.log(`#   other: ${sample}`);
      assert.equal(exits, 0, instances.map((instance) => instance.output()).join('\n---\n'));
      assert.equal(load.counts.other, 0, load.counts.otherSamples.join('\n'));
      assert.equal(load.counts.connectionErrors, 0);
      assert.ok(load.counts.ok > 100, `the load ran (${load.counts.ok} answered)`);
      const logs = instances.map((instance) => instance.output()).join('\n');
      assert.match(logs, /"sqlstate":"57P01"/, 'the terminations are logged with their SQLSTATE');
      assert.doesNotMatch(logs, /tsr_[A-Za-z0-9]/, 'no token secret (a query parameter) reaches the logs');
      assert.deepEqual(report.violations, {});
    });
  });
});
