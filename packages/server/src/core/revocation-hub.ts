import type { Clock } from './ports.js';
import type { RevocationEvent, RevocationEventRepository } from './revocations.js';

export type RevocationListener = (event: RevocationEvent) => void;

/**
 * Fans the revocation feed out to this instance's followers. One poll of the database per
 * interval serves every follower, whichever instance wrote the revocation, so all instances
 * serve the same feed (SPEC 5.4). `wake()` polls at once (used after local revocations and on
 * PostgreSQL notifications).
 */
export function createRevocationHub(deps: { events: RevocationEventRepository; clock: Clock; pollMs: number; retentionSeconds: number; onError: (error: unknown) => void }) {
  const { events, clock } = deps;
  const listeners = new Set<RevocationListener>();
  const internal = new Set<RevocationListener>();
  let cursor: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  async function poll(): Promise<void> {
    cursor ??= await events.lastBefore(new Date(clock.now().getTime()));
    for (;;) {
      const batch = await events.after(cursor, 500);
      for (const event of batch) {
        cursor = event.seq;
        for (const listener of listeners) listener(event);
      }
      if (batch.length < 500) return;
    }
  }

  const wake = (): Promise<void> => {
    polling ??= poll()
      .catch(deps.onError)
      .finally(() => (polling = undefined));
    return polling;
  };

  return {
    start(): void {
      timer ??= setInterval(() => void wake(), deps.pollMs);
      timer.unref();
      void wake();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    wake,
    /** Events a new follower needs: after its cursor, or from the retention window when it has none. */
    async backlog(after: string | undefined): Promise<RevocationEvent[]> {
      const since = after ?? (await events.lastBefore(new Date(clock.now().getTime() - deps.retentionSeconds * 1000)));
      const all: RevocationEvent[] = [];
      let position = since;
      for (;;) {
        const batch = await events.after(position, 1000);
        all.push(...batch);
        if (batch.length < 1000) return all;
        position = (batch[batch.length - 1] as RevocationEvent).seq;
      }
    },
    /**
     * `internal` marks a listener inside this process (forward-auth's revocation set), which is
     * not a resource server following the feed and so is not counted by followers().
     */
    subscribe(listener: RevocationListener, options: { internal?: boolean } = {}): () => void {
      listeners.add(listener);
      if (options.internal) internal.add(listener);
      return () => {
        listeners.delete(listener);
        internal.delete(listener);
      };
    },
    /** How many followers this instance is streaming to (for /metrics). */
    followers(): number {
      return listeners.size - internal.size;
    },
  };
}

export type RevocationHub = ReturnType<typeof createRevocationHub>;
