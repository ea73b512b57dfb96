import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewAuditEvent } from './model.js';
import type { Store } from './store.js';
import { createUsageRecorder } from './usage.js';

/** A Store that records what reaches it: batches of usage and audit events, one transaction each. */
function fakeStore() {
  const batches: { uses: { id: string; at: Date; ip: string }[]; events: NewAuditEvent[] }[] = [];
  let failNext = false;
  const store = {
    async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
      const batch = { uses: [] as { id: string; at: Date; ip: string }[], events: [] as NewAuditEvent[] };
      const tx = {
        tokens: { recordUsage: async (entries: { id: string; at: Date; ip: string }[]) => void batch.uses.push(...entries) },
        audit: { appendMany: async (events: readonly NewAuditEvent[]) => void batch.events.push(...events) },
      } as unknown as Store;
      if (failNext) {
        failNext = false;
        throw new Error('database unavailable');
      }
      const result = await work(tx);
      batches.push(batch);
      return result;
    },
  } as unknown as Store;
  return { store, batches, failOnce: () => (failNext = true) };
}

const event = (n: number): NewAuditEvent => ({
  orgId: 'org', occurredAt: new Date(n), action: 'token.exchanged', outcome: 'success', actorPrincipalId: null, actorTokenId: null,
  targetType: 'token', targetId: `t${n}`, clientIp: null, userAgent: null, requestId: null, details: {},
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('usage recorder (SPEC 8: no synchronous write per request)', () => {
  it('buffers uses and writes them in one batch within the delay, keeping the latest use per token', async () => {
    const { store, batches } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 30, onError: (error) => assert.fail(String(error)) });
    for (let i = 0; i < 100; i++) usage.recordUse(`tok${i % 3}`, `10.0.0.${i}`, new Date(1000 + i));
    usage.recordUse('tok0', '10.9.9.9', new Date(5)); // an older use arriving late changes nothing
    usage.audit(event(1));
    assert.equal(batches.length, 0, 'nothing written during the requests');
    await sleep(80);
    assert.equal(batches.length, 1, 'one write for all of them');
    const [batch] = batches;
    assert.deepEqual(batch?.uses.map((u) => [u.id, u.ip, u.at.getTime()]).sort(), [
      ['tok0', '10.0.0.99', 1099],
      ['tok1', '10.0.0.97', 1097],
      ['tok2', '10.0.0.98', 1098],
    ]);
    assert.equal(batch?.events.length, 1);
  });

  it('flushes at once when the buffer is full, and on close', async () => {
    const { store, batches } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 60_000, maxBuffered: 10, onError: (error) => assert.fail(String(error)) });
    for (let i = 0; i < 10; i++) usage.audit(event(i));
    await sleep(5);
    assert.equal(batches.length, 1, 'a burst does not wait for the timer');
    usage.recordUse('tok', '::1', new Date(1));
    await usage.flush();
    assert.equal(batches.length, 2);
    await usage.flush();
    assert.equal(batches.length, 2, 'nothing to write, nothing written');
  });

  it('reports a failed write and keeps going', async () => {
    const { store, batches, failOnce } = fakeStore();
    const errors: unknown[] = [];
    const usage = createUsageRecorder({ store, flushMs: 60_000, onError: (error) => errors.push(error) });
    failOnce();
    usage.recordUse('lost', '::1', new Date(1));
    await usage.flush();
    assert.equal(errors.length, 1);
    usage.recordUse('kept', '::1', new Date(2));
    await usage.flush();
    assert.deepEqual(batches.map((b) => b.uses.map((u) => u.id)), [['kept']]);
  });
});
