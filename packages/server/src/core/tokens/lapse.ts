import { auditOf } from '../context.js';
import type { TokenContext } from './context.js';

/** The periodic sweep that audits tokens that expired or went idle. */
export function createTokenLapseSweep({ store }: TokenContext) {
  return {
    /**
     * The expiry and idle sweep (SPEC 8): audits each token that has expired or gone idle
     * since the last sweep, once, with the mark and the event in one transaction. Status is
     * computed at read time, so a token is refused the moment it lapses; the sweep only tells
     * the audit trail. Returns how many tokens lapsed, by reason.
     */
    async sweepLapsed(now: Date, batchSize = 500): Promise<{ expired: number; idle: number }> {
      const counts = { expired: 0, idle: 0 };
      for (;;) {
        const lapsed = await store.transaction(async (tx) => {
          const found = await tx.tokens.markLapsed(now, batchSize);
          for (const token of found) {
            await tx.audit.append(
              auditOf({ clientIp: null, userAgent: null, requestId: null, actor: null }, now, {
                orgId: token.orgId,
                action: token.reason === 'expired' ? 'token.expired' : 'token.idle',
                outcome: 'success',
                targetType: 'token',
                targetId: token.id,
                details: { owner_id: token.ownerId },
              }),
            );
          }
          return found;
        });
        for (const token of lapsed) counts[token.reason]++;
        if (lapsed.length < batchSize) return counts;
      }
    },
  };
}
