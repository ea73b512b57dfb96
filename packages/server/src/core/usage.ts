import type { KeyedAuditEvent, NewAuditEvent } from './model.js';
import { randomBase62, systemRandom, type Random } from './ports.js';
import type { Store, UsageCount } from './store.js';

/** One token's last use and its recent addresses (SPEC 9), as buffered until the next write. */
interface BufferedUse {
  id: string;
  at: Date;
  ip: string;
  readonly recent: Map<string, Date>;
}

/** A batch of counts taken by a write, kept as it is under its key until a write of it succeeds. */
interface CountBatch {
  readonly key: string;
  readonly counts: readonly UsageCount[];
}

/** What the recorder holds and what it had to give up, by kind (exposed at /metrics). */
export interface UsageRecorderStats {
  /** `usageCounts`: distinct (token, minute, outcome) counters, however many exchanges each holds. */
  readonly waiting: { readonly auditEvents: number; readonly lastUses: number; readonly usageCounts: number };
  readonly dropped: { readonly auditEvents: number; readonly lastUses: number; readonly usageCounts: number };
  /** Consecutive failed writes; 0 once a write succeeds. */
  readonly failures: number;
}

/** SPEC 9: a token keeps its last 5 distinct client addresses. */
const recentIpCount = 5;

function noteAddress(recent: Map<string, Date>, ip: string, at: Date): void {
  if ((recent.get(ip)?.getTime() ?? -Infinity) < at.getTime()) recent.set(ip, at);
  while (recent.size > recentIpCount) recent.delete([...recent].reduce((oldest, entry) => (entry[1] < oldest[1] ? entry : oldest))[0]);
}

/**
 * Bookkeeping that must not cost the hot path a database write per request (SPEC 8): the
 * last use of each API token, the per-minute counts of exchanges and denials per token
 * (issue 17: an exchange costs an increment here, not an audit row), and the audit events of
 * denials at the token endpoint and at introspection (reads; every state change writes its
 * audit event in its own transaction, never through here). Buffered in memory and written in
 * one transaction at most `flushMs` later.
 *
 * Durability (issue 13): a write that fails keeps its batch and is retried with exponential
 * backoff until it succeeds, and `close()` writes what is left at graceful shutdown. A write
 * is one transaction, so a failed one wrote nothing and the retry writes each entry once (audit
 * events by their write keys; counts by their batch's key, a failed batch being retried as it
 * was rather than merged into newer counts, so a commit that went through unanswered is not
 * counted twice). What
 * only a hard kill loses is what was buffered: at most one flush interval. Memory is bounded
 * by `maxWaiting` entries; only what arrives beyond it is dropped, and counted.
 */
export function createUsageRecorder(deps: {
  store: Store;
  flushMs: number;
  /** A failed write (it will be retried); `attempt` counts consecutive failures. */
  onError: (error: unknown, facts: { attempt: number; waiting: number }) => void;
  /** Buffered entries that trigger a write at once, so a burst does not wait for the timer (default 1000). */
  maxBuffered?: number;
  /** Entries held while the database is unavailable; beyond, new ones are dropped and counted (default 100 000). */
  maxWaiting?: number;
  /** First retry delay after a failed write, doubled per failure up to `retryMaxMs` (defaults 100 ms and 5 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** For the events' write keys (default the system CSPRNG). */
  random?: Random;
}) {
  const maxBuffered = deps.maxBuffered ?? 1000;
  const maxWaiting = deps.maxWaiting ?? 100_000;
  const retryMinMs = deps.retryMinMs ?? 100;
  const retryMaxMs = deps.retryMaxMs ?? 5000;
  let uses = new Map<string, BufferedUse>();
  let events: KeyedAuditEvent[] = [];
  let counts = new Map<string, { orgId: string; tokenId: string; minute: number; outcome: UsageCount['outcome']; count: number }>();
  /** Count batches taken by writes that have not succeeded yet (the one in progress included). */
  let countBatches: CountBatch[] = [];
  // Keys unique across instances and restarts: a random prefix per recorder, then a counter.
  const keyPrefix = randomBase62(deps.random ?? systemRandom, 16);
  let keys = 0;
  /** Entries taken by the write in progress: they still count against `maxWaiting`. */
  let inFlight = { auditEvents: 0, lastUses: 0 };
  const dropped = { auditEvents: 0, lastUses: 0, usageCounts: 0 };
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let queued = false;

  const batchedCounts = () => countBatches.reduce((n, batch) => n + batch.counts.length, 0);
  const waiting = () => uses.size + events.length + counts.size + batchedCounts() + inFlight.auditEvents + inFlight.lastUses;
  const retryDelay = () => Math.min(retryMaxMs, retryMinMs * 2 ** Math.max(0, failures - 1));

  const startTimer = (ms: number) => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void recorder.flush();
    }, ms);
    timer.unref();
  };

  const schedule = () => {
    // While the database is failing, the retry timer alone decides when to try again.
    if (failures > 0) return;
    if (uses.size + events.length + counts.size >= maxBuffered) {
      if (!queued) void recorder.flush();
      return;
    }
    startTimer(deps.flushMs);
  };

  /** Puts a failed batch back in front of what arrived meanwhile, keeping the later use of each token. */
  function restore(batchUses: BufferedUse[], batchEvents: KeyedAuditEvent[]): void {
    events = batchEvents.concat(events);
    for (const use of batchUses) {
      const current = uses.get(use.id);
      if (!current) {
        uses.set(use.id, use);
        continue;
      }
      if (use.at > current.at) Object.assign(current, { at: use.at, ip: use.ip });
      for (const [ip, at] of use.recent) noteAddress(current.recent, ip, at);
    }
  }

  async function writeOnce(): Promise<void> {
    queued = false;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batchUses = [...uses.values()];
    const batchEvents = events;
    if (counts.size > 0) {
      countBatches.push({ key: `${keyPrefix}.u${++keys}`, counts: [...counts.values()].map((c) => ({ ...c, minute: new Date(c.minute * 60_000) })) });
      counts = new Map();
    }
    const batchCounts = countBatches;
    if (batchUses.length === 0 && batchEvents.length === 0 && batchCounts.length === 0) return;
    uses = new Map();
    events = [];
    inFlight = { auditEvents: batchEvents.length, lastUses: batchUses.length };
    try {
      await deps.store.transaction(async (tx) => {
        await tx.tokens.recordUsage(batchUses.map((use) => ({ id: use.id, at: use.at, ip: use.ip, recentIps: [...use.recent].map(([ip, at]) => ({ ip, at })) })));
        await tx.audit.appendMany(batchEvents);
        for (const batch of batchCounts) await tx.usage.add(batch.key, batch.counts);
      });
      countBatches = countBatches.filter((batch) => !batchCounts.includes(batch));
      failures = 0;
      inFlight = { auditEvents: 0, lastUses: 0 };
      if (uses.size + events.length + counts.size > 0) schedule();
    } catch (error) {
      failures++;
      inFlight = { auditEvents: 0, lastUses: 0 };
      restore(batchUses, batchEvents);
      deps.onError(error, { attempt: failures, waiting: waiting() });
      startTimer(retryDelay());
    }
  }

  const recorder = {
    recordUse(id: string, ip: string, at: Date): void {
      let use = uses.get(id);
      if (!use) {
        if (waiting() >= maxWaiting) {
          dropped.lastUses++;
          return;
        }
        use = { id, at, ip, recent: new Map() };
        uses.set(id, use);
      } else if (use.at < at) {
        use.at = at;
        use.ip = ip;
      }
      noteAddress(use.recent, ip, at);
      schedule();
    },
    /**
     * One exchange (`success`) or denial (`denied`) of an API token at the token endpoint,
     * counted in its minute. A denial also writes its audit event through `audit`.
     */
    count(orgId: string, tokenId: string, outcome: UsageCount['outcome'], at: Date): void {
      const minute = Math.floor(at.getTime() / 60_000);
      const key = `${tokenId} ${minute} ${outcome}`;
      const counter = counts.get(key);
      if (counter) {
        counter.count++;
        return;
      }
      if (waiting() >= maxWaiting) {
        dropped.usageCounts++;
        return;
      }
      counts.set(key, { orgId, tokenId, minute, outcome, count: 1 });
      schedule();
    },
    audit(event: NewAuditEvent): void {
      if (waiting() >= maxWaiting) {
        dropped.auditEvents++;
        return;
      }
      events.push({ ...event, writeKey: `${keyPrefix}.${++keys}` });
      schedule();
    },
    /**
     * Writes everything buffered so far, once: resolves when that write has succeeded or
     * failed (a failed one stays buffered and is retried on its own).
     */
    flush(): Promise<void> {
      queued = true;
      flushing = flushing.then(writeOnce);
      return flushing;
    },
    /**
     * Graceful shutdown: writes until nothing waits, retrying with backoff for at most
     * `deadlineMs` (default 5 s); what still waits then is dropped, counted and reported.
     */
    async close(options: { deadlineMs?: number } = {}): Promise<void> {
      const deadline = Date.now() + (options.deadlineMs ?? 5000);
      for (;;) {
        await recorder.flush();
        if (waiting() === 0) break;
        const left = deadline - Date.now();
        if (left <= 0) {
          const lost = { auditEvents: events.length, lastUses: uses.size, usageCounts: counts.size + batchedCounts() };
          dropped.auditEvents += lost.auditEvents;
          dropped.lastUses += lost.lastUses;
          dropped.usageCounts += lost.usageCounts;
          events = [];
          uses = new Map();
          counts = new Map();
          countBatches = [];
          deps.onError(new Error(`usage recorder closed with ${lost.auditEvents} audit events, ${lost.lastUses} last uses and ${lost.usageCounts} usage counts unwritten`), { attempt: failures, waiting: 0 });
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, retryDelay())));
      }
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    stats(): UsageRecorderStats {
      return {
        waiting: { auditEvents: events.length + inFlight.auditEvents, lastUses: uses.size + inFlight.lastUses, usageCounts: counts.size + batchedCounts() },
        dropped: { ...dropped },
        failures,
      };
    },
  };
  return recorder;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
