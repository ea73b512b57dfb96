import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { clusterUnavailable, createCluster, type Cluster } from './cluster.js';
import { checkInvariants, printReport } from './invariants.js';
import { basic, call, isOutageAnswer, isReady, prepareWorld, secretKey, sleep, startFleet, startLoad, stopFleet, until, type Instance, type World } from './support.js';

const skip = clusterUnavailable();

/**
 * Issue 13 item 2: while the database is down or too slow, every answer is a 503 with
 * Retry-After (temporarily_unavailable on OAuth endpoints), given within the connect or
 * statement timeout; when it is back, the instances recover without a restart.
 */
describe('database outages', { skip, timeout: 300_000 }, () => {
  let cluster: Cluster;
  const instances: Instance[] = [];
  let world: World;
  before(async () => {
    cluster = await createCluster();
    await cluster.query('CREATE DATABASE outage');
    const env = {
      TESSERA_DATABASE_URL: cluster.urlOf('outage'),
      TESSERA_SECRET_KEY: secretKey,
      TESSERA_DATABASE_CONNECT_TIMEOUT_MS: '1000',
      TESSERA_DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    };
    instances.push(...(await startFleet(env)));
    world = await prepareWorld((instances[0] as Instance).url);
  });
  after(() => stopFleet(instances, cluster));
  const urls = () => instances.map((instance) => instance.url);

  it('pg_ctl stop -m immediate, 3 s down, start: 503s with Retry-After only, bounded, then recovery without restart', async () => {
    const load = startLoad(world, urls);
    const downtimes: number[] = [];
    const recoveries: number[] = [];
    let outageProbe: { api: number; oauth: string; retryAfter: string | null; ms: number } | undefined;
    try {
      await sleep(2000);
      for (let round = 0; round < 2; round++) {
        cluster.stop('immediate');
        const down = Date.now();
        await sleep(1000);
        // What a client sees while the database is down, on both surfaces.
        const started = Date.now();
        const api = await call(urls()[0] as string, 'GET', '/api/v1/tokens', { token: world.users[0]?.session });
        const oauth = await call(urls()[1] as string, 'POST', '/oauth/token', { form: { grant_type: 'client_credentials' }, authorization: basic(world.introspector.clientId, world.introspector.clientSecret) });
        outageProbe = { api: api.status, oauth: String(oauth.body['error']), retryAfter: oauth.headers.get('retry-after'), ms: Date.now() - started };
        assert.ok(isOutageAnswer(api), `REST API during the outage: ${api.status} ${JSON.stringify(api.body)}`);
        assert.equal(api.headers.get('content-type')?.split(';')[0], 'application/problem+json');
        assert.ok(isOutageAnswer(oauth) && oauth.body['error'] === 'temporarily_unavailable', `token endpoint during the outage: ${oauth.status} ${JSON.stringify(oauth.body)}`);
        for (const url of urls()) assert.equal((await call(url, 'GET', '/readyz')).status, 503);
        await sleep(2000);
        cluster.start();
        downtimes.push(Date.now() - down);
        const back = Date.now();
        await Promise.all(urls().map((url) => until(() => isReady(url), 20_000, 'ready after restart')));
        recoveries.push(Date.now() - back);
        await sleep(2000);
      }
    } finally {
      await load.stop();
    }
    await sleep(1500);
    const exits = instances.filter((instance) => !instance.alive()).length;
    const report = await checkInvariants((text, values) => cluster.queryIn('outage', text, values), { limit: world.limit, acknowledged: load.acknowledged });
    printReport('stop -m immediate', report, { exits, downtimeMs: downtimes, recoveryMs: recoveries, probe: outageProbe, ...load.counts, otherSamples: undefined });
    for (const sample of load.counts.otherSamples) console.log(`#   other: ${sample}`);
    assert.equal(exits, 0);
    assert.equal(load.counts.other, 0, load.counts.otherSamples.join('\n'));
    assert.equal(load.counts.connectionErrors, 0);
    assert.ok(load.counts.unavailable > 0, 'the outage was seen');
    // Connect timeout 1 s: an answer never waits much longer than that.
    assert.ok(load.counts.slowestUnavailableMs < 3000, `slowest 503 took ${load.counts.slowestUnavailableMs} ms`);
    assert.deepEqual(report.violations, {});
  });

  it('a statement held up past the statement timeout answers 503 with Retry-After, and the next one succeeds', async () => {
    const locker = new pg.Client({ connectionString: cluster.urlOf('outage') });
    await locker.connect();
    const user = world.users[0] as World['users'][number];
    try {
      await locker.query('BEGIN');
      // Creating a token locks its owner's principal row (the per-user limit): a held lock stalls it.
      await locker.query('SELECT 1 FROM principals WHERE id = $1 FOR UPDATE', [user.id]);
      const started = Date.now();
      const stalled = await call(urls()[0] as string, 'POST', '/api/v1/tokens', { token: user.session, json: { name: 'stalled', scope: { kind: 'all' } } });
      const ms = Date.now() - started;
      console.log(`# statement timeout 1000 ms: answered ${stalled.status} after ${ms} ms`);
      assert.ok(isOutageAnswer(stalled), `${stalled.status} ${JSON.stringify(stalled.body)}`);
      assert.ok(ms < 2500, `answered after ${ms} ms`);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const after = await call(urls()[0] as string, 'POST', '/api/v1/tokens', { token: user.session, json: { name: 'unstalled', scope: { kind: 'all' } } });
    assert.equal(after.status, 201, JSON.stringify(after.body));
    assert.match(instances[0]?.output() ?? '', /"sqlstate":"57014"/, 'the timeout is logged with its SQLSTATE');
  });
});
