import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterUnavailable, createCluster, type Cluster } from './cluster.js';
import { checkInvariants, printReport } from './invariants.js';
import { call, isReady, prepareWorld, secretKey, sleep, startFleet, startInstance, startLoad, stopFleet, until, type Instance, type World } from './support.js';

const skip = clusterUnavailable();

/**
 * Three `tessera serve` processes on one throwaway cluster: replay of older refresh
 * generations, SIGKILL of one under load, and a rolling SIGTERM restart behind a client that
 * retries a connection error or a 503 once (issue 13 items 4, 5 and 8).
 */
describe('three instances: replay, SIGKILL, rolling restart', { skip, timeout: 600_000 }, () => {
  let cluster: Cluster;
  const instances: Instance[] = [];
  let world: World;
  let env: Record<string, string>;
  before(async () => {
    cluster = await createCluster();
    await cluster.query('CREATE DATABASE three');
    env = { TESSERA_DATABASE_URL: cluster.urlOf('three'), TESSERA_SECRET_KEY: secretKey, TESSERA_SHUTDOWN_DRAIN_SECONDS: '2' };
    instances.push(...(await startFleet(env)));
    world = await prepareWorld((instances[0] as Instance).url);
  });
  after(() => stopFleet(instances, cluster));
  const urls = () => instances.map((instance) => instance.url);
  const check = () => (text: string, values?: unknown[]) => cluster.queryIn('three', text, values);

  it('replaying an older generation (T0 -> S1 -> S2, then T0) revokes the family: S2 stops working (RFC 9700 §4.14.2)', async () => {
    const rounds = 10;
    let familiesAlive = 0;
    let concurrentSuccessors = 0;
    const user = world.users[0] as World['users'][number];
    for (let round = 0; round < rounds; round++) {
      const [a, b, c] = urls() as [string, string, string];
      const created = await call(a, 'POST', '/api/v1/tokens', { token: user.session, json: { name: `family-${round}`, scope: { kind: 'all' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const t0 = created.body['token'] as string;
      const first = await call(b, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: t0 } });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const s1 = first.body['refresh_token'] as string;
      const second = await call(c, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: s1 } });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const s2 = second.body['refresh_token'] as string;
      const replay = await call(a, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: t0 } });
      assert.equal(replay.status, 400, 'the replayed T0 is refused');
      const after = await call(b, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: s2 } });
      if (after.status === 200) familiesAlive++;
      // Concurrent use of one current secret still yields one successor at most.
      const fresh = await call(c, 'POST', '/api/v1/tokens', { token: user.session, json: { name: `race-${round}`, scope: { kind: 'all' } } });
      const racing = await Promise.all(urls().flatMap((url) => [url, url]).map((url) => call(url, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: fresh.body['token'] as string } })));
      const successors = new Set(racing.filter((r) => r.status === 200).map((r) => r.body['refresh_token']));
      if (successors.size > 1) concurrentSuccessors++;
    }
    await sleep(1500);
    const report = await checkInvariants(check(), { limit: world.limit });
    printReport('refresh replay', report, { rounds, familiesAliveAfterOlderReplay: familiesAlive, roundsWithTwoConcurrentSuccessors: concurrentSuccessors });
    assert.equal(concurrentSuccessors, 0, 'one current secret never yields two successors');
    assert.equal(familiesAlive, 0, `after T0 was replayed, S2 still worked in ${familiesAlive} of ${rounds} rounds (issue 13 item 4)`);
    assert.deepEqual(report.violations, {});
  });

  it('SIGKILL of one instance under load: the others never fail, nothing acknowledged is lost', async () => {
    const targets = [...urls()];
    const load = startLoad(world, () => targets);
    const kills: { via: string; at: number }[] = [];
    const survivorsExited: string[] = [];
    try {
      await sleep(3000);
      const victim = instances[1] as Instance;
      kills.push({ via: victim.url, at: Date.now() });
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      // The balancer notices (here: at once) and stops routing to it.
      targets.splice(targets.indexOf(victim.url), 1);
      await sleep(3000);
      const replacement = await startInstance(env);
      instances[1] = replacement;
      targets.push(replacement.url);
      await sleep(3000);
    } finally {
      await load.stop();
    }
    await sleep(1500);
    for (const instance of [instances[0], instances[2]] as Instance[]) if (!instance.alive()) survivorsExited.push(instance.url);
    const report = await checkInvariants(check(), { limit: world.limit, acknowledged: load.acknowledged, hardKills: kills });
    printReport('SIGKILL one of three', report, { survivorsExited: survivorsExited.length, ...load.counts, otherSamples: undefined });
    for (const sample of load.counts.otherSamples) console.log(`#   other: ${sample}`);
    assert.deepEqual(survivorsExited, []);
    assert.equal(load.counts.other, 0, load.counts.otherSamples.join('\n'));
    assert.equal(load.counts.unavailable, 0);
    assert.deepEqual(report.violations, {});
  });

  it('rolling SIGTERM restart of all three behind a client that retries once: 0 failed requests', async () => {
    // A balancer: routes to instances whose /readyz answered 200 at its last probe (every 100 ms).
    const ready = new Set(urls());
    let probing = true;
    const prober = (async () => {
      while (probing) {
        await Promise.all(
          instances.map(async (instance) => {
            const ok = instance.alive() && (await isReady(instance.url).catch(() => false));
            if (ok) ready.add(instance.url);
            else ready.delete(instance.url);
          }),
        );
        await sleep(100);
      }
    })();
    const load = startLoad(world, () => [...ready], { retry: true });
    const restarts: { drainAndExitMs: number; exit: number | string }[] = [];
    try {
      await sleep(2000);
      for (let i = 0; i < instances.length; i++) {
        const old = instances[i] as Instance;
        const signalled = Date.now();
        old.child.kill('SIGTERM');
        const exit = await old.exited;
        restarts.push({ drainAndExitMs: Date.now() - signalled, exit });
        const fresh = await startInstance(env);
        instances[i] = fresh;
        await until(async () => ready.has(fresh.url), 10_000, 'the new instance is routed to');
        await sleep(1000);
      }
    } finally {
      await load.stop();
      probing = false;
      await prober;
    }
    await sleep(1500);
    const report = await checkInvariants(check(), { limit: world.limit, acknowledged: load.acknowledged });
    printReport('rolling restart', report, { restarts, ...load.counts, otherSamples: undefined });
    for (const sample of load.counts.otherSamples) console.log(`#   other: ${sample}`);
    for (const restart of restarts) assert.equal(restart.exit, 0, 'each instance exits 0 after its drain');
    const failed = load.counts.other + load.counts.connectionErrors + load.counts.unavailable;
    assert.equal(failed, 0, `failed requests: ${JSON.stringify({ ...load.counts, otherSamples: undefined })}\n${load.counts.otherSamples.join('\n')}`);
    assert.ok(load.counts.ok > 200, `the load ran (${load.counts.ok})`);
    assert.deepEqual(report.violations, {});
  });
});
