import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { checkPolicy, type Policy } from '../policy.js';
import type { TokenContext } from './context.js';

/** The organization's token policy (SPEC 3.7): read and replace. */
export function createTokenPolicy({ deps, store, clock, policyOf }: TokenContext) {
  return {
    async getPolicy(ctx: ActorContext): Promise<Policy> {
      return policyOf(ctx.actor.orgId);
    },

    async setPolicy(ctx: ActorContext, policy: Policy): Promise<Policy> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'policy.update', targetType: 'policy', targetId: ctx.actor.orgId });
      checkPolicy(policy);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const before = await policyOf(ctx.actor.orgId, tx);
        await tx.policies.put(ctx.actor.orgId, policy, now);
        const diff: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of Object.keys(policy) as (keyof Policy)[]) {
          if (JSON.stringify(before[key]) !== JSON.stringify(policy[key])) diff[key] = { from: before[key], to: policy[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'policy.updated', outcome: 'success', targetType: 'policy', targetId: ctx.actor.orgId, details: { changes: diff } }));
        return policy;
      });
    },
  };
}
