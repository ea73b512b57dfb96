import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewAuditEvent } from './model.js';
import type { Store, UsageCount } from './store.js';
import { createUsageRecorder } from './usage.js';

/**
 * A Store that records what reaches it: batches of usage and audit events, one transaction
 * each. `failTimes(n)` makes the next n transactions fail before anything is written, as a
 * database outage does (a failed transaction writes nothing).
 */
function fakeStore() {
  type Use = { id: string; at: Date; ip: string; recentIps?: readonly { ip: string; at: Date }[] };
  const batches: { uses: Use[]; events: NewAuditEvent[]; counts: { key: string; counts: readonly UsageCount[] }[] }[] = [];
  let failing = 0;
  let lostAnswers = 0;
  let attempts = 0;
  const store = {
    async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
      attempts++;
      const batch = { uses: [] as Use[], events: [] as NewAuditEvent[], counts: [] as { key: string; counts: readonly UsageCount[] }[] };
      const tx = {
        tokens: { recordUsage: async (entries: Use[]) => void batch.uses.push(...entries) },
        audit: { appendMany: async (events: readonly NewAuditEvent[]) => void batch.events.push(...events) },
        usage: { add: async (key: string, counts: readonly UsageCount[]) => void batch.counts.push({ key, counts }) },
      } as unknown as Store;
      const result = await work(tx);
      if (failing > 0) {
        failing--;
        throw new Error('database unavailable');
      }
      batches.push(batch);
      if (lostAnswers > 0) {
        // Committed, but the connection died before the answer: the recorder sees a failure.
        lostAnswers--;
        throw new Error('connection terminated');
      }
      return result;
    },
  } as unknown as Store;
  return { store, batches, failTimes: (n: number) => (failing = n), loseAnswers: (n: number) => (lostAnswers = n), attempts: () => attempts };
}

const event = (n: number): NewAuditEvent => ({
  orgId: 'org', occurredAt: new Date(n), action: 'token.exchanged', outcome: 'success', actorPrincipalId: null, actorTokenId: null,
  targetType: 'token', targetId: `t${n}`, clientIp: null, userAgent: null, requestId: null, details: {},
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('usage recorder (SPEC 8: no synchronous write per request)', () => {
  it('counts exchanges and denials per token, minute and outcome: an increment each, one row per counter (issue 17)', async () => {
    const { store, batches } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 10_000, onError: (error) => assert.fail(String(error)) });
    for (let i = 0; i < 1000; i++) usage.count('org', `tok${i % 2}`, 'success', new Date(60_000 * (i < 500 ? 5 : 6) + (i % 60) * 1000));
    usage.count('org', 'tok0', 'denied', new Date(60_000 * 5));
    assert.equal(usage.stats().waiting.usageCounts, 5, 'two tokens over two minutes, and one denial counter');
    await usage.flush();
    const counts = batches.flatMap((b) => b.counts.flatMap((c) => c.counts));
    const summary = counts.map((c) => `${c.tokenId} ${c.minute.toISOString()} ${c.outcome} ${c.count}`).sort();
    assert.deepEqual(summary, [
      'tok0 1970-01-01T00:05:00.000Z denied 1',
      'tok0 1970-01-01T00:05:00.000Z success 250',
      'tok0 1970-01-01T00:06:00.000Z success 250',
      'tok1 1970-01-01T00:05:00.000Z success 250',
      'tok1 1970-01-01T00:06:00.000Z success 250',
    ]);
    assert.equal(batches[0]?.events.length, 0, 'no audit row for an exchange');
    assert.equal(usage.stats().waiting.usageCounts, 0);
  });

  it('retries a batch of counts as it was, under its own key, and never merges it into newer counts', async () => {
    const { store, batches, loseAnswers } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 10_000, retryMinMs: 5, retryMaxMs: 5, onError: () => {} });
    usage.count('org', 'tok', 'success', new Date(0));
    usage.count('org', 'tok', 'success', new Date(1));
    // The commit goes through, its answer is lost: the recorder must retry with the same key.
    loseAnswers(1);
    await usage.flush();
    usage.count('org', 'tok', 'success', new Date(2));
    await usage.flush();
    assert.equal(batches.length, 2);
    const [first, second] = batches;
    assert.deepEqual(first?.counts.map((c) => [c.key, c.counts.map((n) => n.count)]), [[first?.counts[0]?.key, [2]]]);
    assert.equal(second?.counts.length, 2, 'the old batch again and the new one, apart');
    assert.equal(second?.counts[0]?.key, first?.counts[0]?.key, 'the retry carries the same key (the store skips keys it holds)');
    assert.deepEqual(second?.counts.map((c) => c.counts.map((n) => n.count)), [[2], [1]]);
    assert.notEqual(second?.counts[1]?.key, second?.counts[0]?.key);
    await usage.close();
  });

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

  it('keeps a batch whose write failed, retries it with backoff, and writes every entry exactly once', async () => {
    const { store, batches, failTimes, attempts } = fakeStore();
    const errors: { attempt: number; waiting: number }[] = [];
    const usage = createUsageRecorder({ store, flushMs: 10, retryMinMs: 20, retryMaxMs: 40, onError: (_error, facts) => errors.push(facts) });
    failTimes(3);
    for (let i = 0; i < 50; i++) usage.audit(event(i));
    usage.recordUse('tok', '10.0.0.1', new Date(10));
    await sleep(30);
    // Arriving during the outage: joins the batch that waits, behind it.
    for (let i = 50; i < 60; i++) usage.audit(event(i));
    usage.recordUse('tok', '10.0.0.2', new Date(20));
    usage.recordUse('tok', '10.0.0.0', new Date(5)); // older: moves nothing
    const start = Date.now();
    while (batches.length === 0 && Date.now() - start < 2000) await sleep(10);
    assert.equal(attempts(), 4, 'three failures, then one write');
    assert.deepEqual(errors.map((e) => e.attempt), [1, 2, 3]);
    assert.equal(errors[2]?.waiting, 61, 'the failure reports what waits');
    await usage.flush();
    const written = batches.flatMap((b) => b.events.map((e) => e.targetId));
    assert.deepEqual(written, Array.from({ length: 60 }, (_, i) => `t${i}`), 'every event once, in order');
    const uses = batches.flatMap((b) => b.uses);
    assert.equal(uses.length, 1);
    assert.deepEqual([uses[0]?.ip, uses[0]?.at.getTime()], ['10.0.0.2', 20], 'the latest use wins across the retry');
    assert.deepEqual(uses[0]?.recentIps?.map((r) => r.ip).sort(), ['10.0.0.0', '10.0.0.1', '10.0.0.2']);
    assert.deepEqual(usage.stats(), { waiting: { auditEvents: 0, lastUses: 0, usageCounts: 0 }, dropped: { auditEvents: 0, lastUses: 0, usageCounts: 0 }, failures: 0 });
  });

  it('retries a batch with the same write keys, so a commit whose answer was lost is not written twice', async () => {
    const { store, batches, loseAnswers } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 60_000, retryMinMs: 10, onError: () => {} });
    for (let i = 0; i < 3; i++) usage.audit(event(i));
    loseAnswers(1);
    await usage.flush();
    usage.audit(event(3));
    await usage.close();
    const [first, retry] = batches.map((b) => b.events.map((e) => (e as { writeKey?: string }).writeKey));
    assert.equal(first?.length, 3);
    assert.deepEqual(retry?.slice(0, 3), first, 'the retry carries the same keys (the store skips keys it holds)');
    assert.equal(new Set(retry).size, 4, 'every event its own key');
  });

  it('backs off between retries instead of writing per event while the database is down', async () => {
    const { store, failTimes, attempts } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 5, maxBuffered: 2, retryMinMs: 50, retryMaxMs: 50, onError: () => {} });
    failTimes(1_000);
    for (let i = 0; i < 200; i++) {
      usage.audit(event(i));
      if (i % 20 === 0) await sleep(2);
    }
    await sleep(120);
    assert.ok(attempts() <= 6, `${attempts()} attempts in about 150 ms with a 50 ms backoff`);
    assert.equal(usage.stats().waiting.auditEvents, 200);
    failTimes(0);
    await usage.close();
  });

  it('holds at most maxWaiting entries during an outage and counts only what arrives beyond', async () => {
    const { store, batches, failTimes } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 60_000, maxWaiting: 5, retryMinMs: 10, onError: () => {} });
    failTimes(1);
    for (let i = 0; i < 4; i++) usage.audit(event(i));
    usage.recordUse('a', '::1', new Date(1));
    await usage.flush();
    usage.audit(event(99));
    usage.recordUse('b', '::1', new Date(2));
    usage.recordUse('a', '::1', new Date(3)); // a token already waiting takes no room
    assert.deepEqual(usage.stats().dropped, { auditEvents: 1, lastUses: 1, usageCounts: 0 });
    assert.deepEqual(usage.stats().waiting, { auditEvents: 4, lastUses: 1, usageCounts: 0 });
    await usage.close();
    assert.deepEqual(batches.flatMap((b) => b.events.map((e) => e.targetId)), ['t0', 't1', 't2', 't3']);
    assert.deepEqual(batches.flatMap((b) => b.uses.map((u) => [u.id, u.at.getTime()])), [['a', 3]]);
  });

  it('writes what is left on close, retrying through a short outage', async () => {
    const { store, batches, failTimes } = fakeStore();
    const usage = createUsageRecorder({ store, flushMs: 60_000, retryMinMs: 10, onError: () => {} });
    for (let i = 0; i < 3; i++) usage.audit(event(i));
    failTimes(2);
    await usage.close();
    assert.deepEqual(batches.flatMap((b) => b.events.map((e) => e.targetId)), ['t0', 't1', 't2']);
    assert.equal(usage.stats().dropped.auditEvents, 0);
  });

  it('gives up on close after its deadline, and counts and reports what it could not write', async () => {
    const { store, batches, failTimes } = fakeStore();
    const errors: string[] = [];
    const usage = createUsageRecorder({ store, flushMs: 60_000, retryMinMs: 10, onError: (error) => errors.push(String(error)) });
    usage.audit(event(1));
    usage.recordUse('tok', '::1', new Date(1));
    failTimes(1_000);
    const start = Date.now();
    await usage.close({ deadlineMs: 100 });
    assert.ok(Date.now() - start < 1000);
    assert.equal(batches.length, 0);
    assert.deepEqual(usage.stats().dropped, { auditEvents: 1, lastUses: 1, usageCounts: 0 });
    assert.match(errors.at(-1) ?? '', /1 audit events, 1 last uses and 0 usage counts unwritten/);
  });
});
