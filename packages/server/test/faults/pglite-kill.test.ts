import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openPglite } from '../../src/storage/drivers/pglite.js';
import { checkInvariants, printReport } from './invariants.js';
import { isReady, prepareWorld, sleep, startInstance, startLoad, stopInstance, until, type Acknowledged, type Instance, type World } from './support.js';

/**
 * SIGKILL of a PGlite instance during writes (issue 13 item 8): every acknowledged create and
 * revoke survives, and each restart opens the data directory without repair. Needs no
 * PostgreSQL, so it always runs.
 */
describe('SIGKILL of a PGlite instance during writes', { timeout: 600_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-faults-pglite-'));
  let instance: Instance | undefined;
  after(async () => {
    if (instance) await stopInstance(instance, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across 3 kills', async () => {
    const kills = 3;
    const env = { TESSERA_DATA_DIR: dataDir };
    instance = await startInstance(env);
    let world: World | undefined;
    const acknowledged: Acknowledged = { creates: [], exchanges: [], revokes: [] };
    const hardKills: { via: string; at: number }[] = [];
    const restartsMs: number[] = [];
    const totals = { requests: 0, ok: 0, other: 0, unavailable: 0, connectionErrors: 0 };
    const samples: string[] = [];
    for (let round = 0; round < kills; round++) {
      world ??= await prepareWorld(instance.url, { users: 2 });
      // Sessions live in the database and survive the kill; the world stays valid.
      const load = startLoad(world, () => [(instance as Instance).url], { concurrency: 6, revokeEvery: 5 });
      await sleep(3000);
      hardKills.push({ via: instance.url, at: Date.now() });
      instance.child.kill('SIGKILL');
      assert.equal(await instance.exited, 'SIGKILL');
      await load.stop();
      acknowledged.creates.push(...load.acknowledged.creates);
      acknowledged.exchanges.push(...load.acknowledged.exchanges);
      acknowledged.revokes.push(...load.acknowledged.revokes);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += load.counts[key];
      samples.push(...load.counts.otherSamples);
      const started = Date.now();
      instance = await startInstance(env);
      await until(() => isReady((instance as Instance).url), 30_000, 'ready after the kill');
      restartsMs.push(Date.now() - started);
    }
    await stopInstance(instance, 'SIGTERM');
    instance = undefined;

    const { db, pglite } = await openPglite({ dataDir: join(dataDir, 'pglite') });
    try {
      const report = await checkInvariants(async (text, values) => (await pglite.query<Record<string, unknown>>(text, values)).rows, {
        limit: (world as World).limit,
        acknowledged,
        hardKills,
      });
      printReport('PGlite SIGKILL', report, { kills, restartsMs, ...totals });
      for (const sample of samples) console.log(`#   other: ${sample}`);
      assert.ok(acknowledged.creates.length > 20, `writes were acknowledged (${acknowledged.creates.length})`);
      assert.equal(totals.other, 0, samples.join('\n'));
      assert.deepEqual(report.violations, {});
    } finally {
      await db.destroy();
    }
  });
});
