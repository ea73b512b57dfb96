import { authorize } from '../authorize.js';
import type { ActorContext } from '../context.js';
import type { ListQuery } from '../store.js';
import type { DirectoryContext } from './context.js';

/** Reading the organization's audit log. */
export function createAuditReading({ deps, store }: DirectoryContext) {
  return {
    async listAudit(
      ctx: ActorContext,
      query: ListQuery & { action?: string | undefined; actor?: string | undefined; target?: string | undefined; since?: Date | undefined; until?: Date | undefined },
    ) {
      await authorize(deps, ctx, { kind: 'read_audit' }, { action: 'audit.read', targetType: 'audit' });
      return store.audit.list({
        orgId: ctx.actor.orgId,
        limit: query.limit,
        cursor: query.cursor,
        action: query.action,
        actorPrincipalId: query.actor,
        targetId: query.target,
        since: query.since,
        until: query.until,
      });
    },
  };
}
