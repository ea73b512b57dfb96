import type { NewAuditEvent } from './model.js';
import type { Store } from './store.js';

/**
 * Bookkeeping that must not cost the hot path a database write per request (SPEC 8): the
 * last use of each API token, and the audit events of exchanges and denials at the token
 * endpoint. Buffered in memory and written in one batch at most `flushMs` later, and on close.
 */
export function createUsageRecorder(deps: {
  store: Store;
  flushMs: number;
  onError: (error: unknown) => void;
  /** Buffered entries that trigger a flush at once, so a burst never holds unbounded memory (default 1000). */
  maxBuffered?: number;
}) {
  const maxBuffered = deps.maxBuffered ?? 1000;
  let uses = new Map<string, { id: string; at: Date; ip: string }>();
  let recentIps = new Map<string, Map<string, Date>>();
  let events: NewAuditEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const schedule = () => {
    if (uses.size + events.length >= maxBuffered) {
      void recorder.flush();
      return;
    }
    timer ??= setTimeout(() => void recorder.flush(), deps.flushMs);
    timer.unref();
  };

  const recorder = {
    recordUse(id: string, ip: string, at: Date): void {
      const previous = uses.get(id);
      if (!previous || previous.at < at) uses.set(id, { id, at, ip });
      // SPEC 9 (recent_ips): the batch also keeps each token's last 5 distinct addresses.
      const recent = recentIps.get(id) ?? new Map<string, Date>();
      recentIps.set(id, recent);
      if ((recent.get(ip)?.getTime() ?? -Infinity) < at.getTime()) recent.set(ip, at);
      if (recent.size > 5) recent.delete([...recent].reduce((oldest, entry) => (entry[1] < oldest[1] ? entry : oldest))[0]);
      schedule();
    },
    audit(event: NewAuditEvent): void {
      events.push(event);
      schedule();
    },
    /** Writes everything buffered so far. */
    flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const recent = recentIps;
      const batch = [...uses.values()].map((use) => ({ ...use, recentIps: [...(recent.get(use.id) ?? [])].map(([ip, at]) => ({ ip, at })) }));
      const audit = events;
      uses = new Map();
      recentIps = new Map();
      events = [];
      if (batch.length === 0 && audit.length === 0) return flushing;
      flushing = flushing.then(async () => {
        try {
          await deps.store.transaction(async (tx) => {
            await tx.tokens.recordUsage(batch);
            await tx.audit.appendMany(audit);
          });
        } catch (error) {
          deps.onError(error);
        }
      });
      return flushing;
    },
  };
  return recorder;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
