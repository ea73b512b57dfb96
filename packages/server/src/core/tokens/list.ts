import { authorize } from '../authorize.js';
import type { ActorContext } from '../context.js';
import { invalid, notFound } from '../errors.js';
import type { Page } from '../model.js';
import type { TokenContext } from './context.js';
import type { TokenDetails, TokenListFilters } from './types.js';

/** Reading tokens: the filtered, sorted list and one token. */
export function createTokenReading({ deps, store, clock, ownerStanding, policyOf, details }: TokenContext) {
  return {
    async list(ctx: ActorContext, filters: TokenListFilters): Promise<Page<TokenDetails>> {
      // The directory is readable by every caller, so resolving the owner first reveals nothing.
      const owner = filters.owner === undefined ? undefined : (await store.principals.get(ctx.actor.orgId, filters.owner)) ?? (await store.principals.getByUsername(ctx.actor.orgId, filters.owner));
      const standing = filters.all && owner && owner.id !== ctx.actor.principalId ? await ownerStanding(owner.orgId, owner.id) : undefined;
      await authorize(deps, ctx, { kind: 'read_tokens', own: !filters.all || owner?.id === ctx.actor.principalId, owner: standing }, { action: 'token.list', targetType: 'token' });
      const now = clock.now();
      const policy = await policyOf(ctx.actor.orgId);
      let ownerId: string | undefined = filters.all ? undefined : ctx.actor.principalId;
      if (filters.owner !== undefined) {
        if (!filters.all && owner?.id !== ctx.actor.principalId) throw invalid('owner', 'Listing another principal\'s tokens needs all=true and the tokens.all right');
        if (!owner) return { items: [], nextCursor: null };
        ownerId = owner.id;
      }
      const page = await store.tokens.list({
        orgId: ctx.actor.orgId,
        ownerId,
        status: filters.status,
        kind: filters.kind,
        q: filters.q,
        neverUsed: filters.usage === 'never_used',
        unusedDays: filters.unusedDays,
        usedSince: filters.usedSince,
        sort: filters.sort,
        descending: filters.descending,
        limit: filters.limit,
        cursor: filters.cursor,
        now,
        idleTimeoutSeconds: policy.idleTimeoutSeconds,
      });
      return { items: page.items.map((t) => details(t, policy, now)), nextCursor: page.nextCursor };
    },

    async get(ctx: ActorContext, id: string): Promise<TokenDetails> {
      const token = await store.tokens.get(ctx.actor.orgId, id);
      const own = token?.ownerId === ctx.actor.principalId;
      const owner = token && !own ? await ownerStanding(ctx.actor.orgId, token.ownerId) : undefined;
      await authorize(deps, ctx, { kind: 'read_tokens', own: token ? own : true, owner }, { action: 'token.read', targetType: 'token', targetId: id });
      if (!token) throw notFound('token', id);
      return details(token, await policyOf(ctx.actor.orgId), clock.now());
    },
  };
}
