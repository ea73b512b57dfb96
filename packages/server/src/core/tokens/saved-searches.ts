import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { notFound } from '../errors.js';
import type { SavedSearch } from '../model.js';
import { newId } from '../ports.js';
import type { TokenContext } from './context.js';

/** Saved token-list searches, one's own and the shared ones. */
export function createSavedSearches({ deps, store, clock, random }: TokenContext) {
  return {
    listSavedSearches(ctx: ActorContext): Promise<SavedSearch[]> {
      return store.savedSearches.listVisible(ctx.actor.orgId, ctx.actor.principalId);
    },

    async createSavedSearch(ctx: ActorContext, input: { name: string; query: Record<string, string>; shared: boolean }): Promise<SavedSearch> {
      await authorize(deps, ctx, { kind: 'write_saved_search', own: true }, { action: 'saved_search.create', targetType: 'saved_search' });
      const now = clock.now();
      const search: SavedSearch = { id: newId(random, 'srch'), orgId: ctx.actor.orgId, ownerId: ctx.actor.principalId, name: input.name, query: input.query, shared: input.shared, createdAt: now };
      await store.transaction(async (tx) => {
        await tx.savedSearches.create(search);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.created', outcome: 'success', targetType: 'saved_search', targetId: search.id, details: { name: search.name, shared: search.shared } }));
      });
      return search;
    },

    async updateSavedSearch(ctx: ActorContext, id: string, changes: { name?: string | undefined; query?: Record<string, string> | undefined; shared?: boolean | undefined }): Promise<SavedSearch> {
      const existing = await store.savedSearches.get(ctx.actor.orgId, id);
      if (!existing || (existing.ownerId !== ctx.actor.principalId && !existing.shared)) throw notFound('saved search', id);
      await authorize(deps, ctx, { kind: 'write_saved_search', own: existing.ownerId === ctx.actor.principalId }, { action: 'saved_search.update', targetType: 'saved_search', targetId: id });
      const now = clock.now();
      return store.transaction(async (tx) => {
        const updated = await tx.savedSearches.update(ctx.actor.orgId, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.query !== undefined && { query: changes.query }),
          ...(changes.shared !== undefined && { shared: changes.shared }),
        });
        if (!updated) throw notFound('saved search', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.updated', outcome: 'success', targetType: 'saved_search', targetId: id }));
        return updated;
      });
    },

    async deleteSavedSearch(ctx: ActorContext, id: string): Promise<void> {
      const existing = await store.savedSearches.get(ctx.actor.orgId, id);
      if (!existing || (existing.ownerId !== ctx.actor.principalId && !existing.shared)) throw notFound('saved search', id);
      await authorize(deps, ctx, { kind: 'write_saved_search', own: existing.ownerId === ctx.actor.principalId }, { action: 'saved_search.delete', targetType: 'saved_search', targetId: id });
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.savedSearches.remove(ctx.actor.orgId, id);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.deleted', outcome: 'success', targetType: 'saved_search', targetId: id }));
      });
    },
  };
}
