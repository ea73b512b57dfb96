import { TesseraError } from '../errors.js';
import type { ActorContext } from '../context.js';
import type { Clock } from '../ports.js';
import type { Store, UsageCount } from '../store.js';
import type { TokenService } from './index.js';

/** One token's exchanges and denials per minute over a window (issue 17). */
export interface TokenUsage {
  readonly tokenId: string;
  readonly since: Date;
  readonly until: Date;
  readonly totals: { readonly success: number; readonly denied: number };
  readonly minutes: readonly UsageCount[];
}

/** Seven days of minutes, two outcomes each: at most 20,160 counts in one answer. */
const maxWindowMs = 7 * 86_400_000;
const defaultWindowMs = 86_400_000;

/**
 * The token endpoint's use of an API token, as the per-minute rollups the usage recorder
 * writes in place of one audit row per exchange (denials also keep their audit events).
 * Whoever may read the token may read its usage: the token's own read check decides.
 */
export function createTokenUsageService(deps: { store: Store; clock: Clock; tokens: Pick<TokenService, 'get'> }) {
  return {
    async get(ctx: ActorContext, id: string, window: { since?: Date | undefined; until?: Date | undefined }): Promise<TokenUsage> {
      await deps.tokens.get(ctx, id);
      const until = window.until ?? (window.since ? new Date(window.since.getTime() + defaultWindowMs) : deps.clock.now());
      const since = window.since ?? new Date(until.getTime() - defaultWindowMs);
      if (since >= until) throw new TesseraError('VALIDATION_FAILED', 'since must be before until', { field: 'since' });
      if (until.getTime() - since.getTime() > maxWindowMs) {
        throw new TesseraError('VALIDATION_FAILED', 'The window is at most 7 days: narrow since and until', { field: 'until' });
      }
      // The minute `since` falls in counts whole: counts are per minute.
      const minutes = await deps.store.usage.list(ctx.actor.orgId, id, new Date(Math.floor(since.getTime() / 60_000) * 60_000), until);
      const totals = { success: 0, denied: 0 };
      for (const m of minutes) totals[m.outcome] += m.count;
      return { tokenId: id, since, until, totals, minutes };
    },
  };
}

export type TokenUsageService = ReturnType<typeof createTokenUsageService>;
