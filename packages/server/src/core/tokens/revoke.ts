import { auditOf, type ActorContext, type RequestContext } from '../context.js';
import { notFound } from '../errors.js';
import type { TokenContext } from './context.js';
import type { TokenDetails } from './types.js';

/** Revocation by a principal, and by the system (reuse detection) or the token's holder (RFC 7009). */
export function createTokenRevocation({ store, clock, policyOf, details, loadForChange }: TokenContext) {
  return {
    /** Irreversible and idempotent: revoking a revoked token answers its revoked state. */
    async revoke(ctx: ActorContext, id: string, reason: string | undefined): Promise<TokenDetails> {
      await loadForChange(ctx, id, 'token.revoke');
      const now = clock.now();
      const result = await store.transaction(async (tx) => {
        const revoked = await tx.tokens.revoke(ctx.actor.orgId, id, ctx.actor.principalId, reason ?? null, now);
        if (!revoked) throw notFound('token', id);
        if (revoked.changed) {
          await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'token', subjectId: id, occurredAt: now });
          await tx.audit.append(auditOf(ctx, now, { action: 'token.revoked', outcome: 'success', targetType: 'token', targetId: id, details: { reason: reason ?? null } }));
        }
        return revoked.token;
      });
      return details(result, await policyOf(ctx.actor.orgId), now);
    },

    /** Revokes without an acting principal: reuse detection, or RFC 7009 by the token's holder. */
    async revokeBySystem(id: string, reason: 'reuse' | 'holder', context: RequestContext, facts: { generationsBack?: number | undefined } = {}): Promise<void> {
      const found = await store.tokens.getForVerify(id);
      if (!found) return;
      const now = clock.now();
      await store.transaction(async (tx) => {
        const revoked = await tx.tokens.revoke(found.token.orgId, id, reason === 'reuse' ? 'system:reuse-detection' : 'holder', reason === 'reuse' ? 'refresh token reuse detected' : 'revoked by its holder (RFC 7009)', now);
        if (!revoked?.changed) return;
        await tx.revocationEvents.append({ orgId: found.token.orgId, kind: 'token', subjectId: id, occurredAt: now });
        await tx.audit.append(
          auditOf({ ...context, actor: null }, now, {
            orgId: found.token.orgId,
            action: reason === 'reuse' ? 'token.reuse_detected' : 'token.revoked',
            outcome: reason === 'reuse' ? 'denied' : 'success',
            targetType: 'token',
            targetId: id,
            details: reason === 'reuse' ? { reason: 'reuse', ...(facts.generationsBack !== undefined && { generations_back: facts.generationsBack }) } : { reason: 'holder' },
          }),
        );
      });
    },
  };
}
