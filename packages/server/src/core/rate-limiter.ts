/**
 * Fixed-window request counters kept in memory, per instance. Used to slow down guessing at
 * the token endpoint; a limit shared by all instances would cost a database write per request,
 * which the hot path must not do (SPEC 8).
 */
export function createRateLimiter(windowSeconds: number) {
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = 0;
  const sweep = (nowMs: number) => {
    for (const [k, w] of windows) if (nowMs - w.start >= windowSeconds * 1000) windows.delete(k);
    lastSweep = nowMs;
  };

  return {
    /**
     * Drops windows that have ended. `take` sweeps too, but only while requests come; the
     * container also calls this on a timer so a burst from many addresses is forgotten in a
     * quiet spell.
     */
    sweep,
    /** Windows held now (for /metrics and the soak bench). */
    size: (): number => windows.size,
    /** Counts one request for `key`; returns the seconds to wait when over `limit`. */
    take(key: string, limit: number, nowMs: number): number | undefined {
      const windowMs = windowSeconds * 1000;
      if (nowMs - lastSweep > windowMs) sweep(nowMs);
      let window = windows.get(key);
      if (!window || nowMs - window.start >= windowMs) {
        window = { start: nowMs, count: 0 };
        windows.set(key, window);
      }
      window.count++;
      return window.count > limit ? Math.max(1, Math.ceil((window.start + windowMs - nowMs) / 1000)) : undefined;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
