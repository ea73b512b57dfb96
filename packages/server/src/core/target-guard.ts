import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { TesseraError } from './errors.js';
import type { Principal, Role } from './model.js';
import type { Clock } from './ports.js';
import { isRight, type Right, type Standing } from './rights.js';
import type { Store } from './store.js';

const rightsOf = (roles: readonly Role[]): Right[] => [...new Set(roles.flatMap((role) => role.rights))].filter(isRight);

/**
 * Privilege by construction (SPEC 2, issue 12): every change that reaches another principal —
 * its fields, status, password, roles, group memberships, the rights of a role it holds, its
 * tokens — goes through `guardPrincipals`, which refuses unless the caller holds every right the
 * principal holds (instance-admin status counting as one more, above all of them). Changes that
 * could take rights from an instance admin also run in `keepingInstanceAdmins`, which refuses,
 * whoever asks, when none would be left intact.
 */
export function createTargetGuard(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;

  async function standingOf(principal: Principal): Promise<Standing> {
    return {
      label: `${principal.kind === 'user' ? 'The user' : 'The service account'} ${principal.username}`,
      rights: rightsOf(await store.principals.effectiveRoles(principal.orgId, principal.id)),
      instanceAdmin: principal.instanceAdmin,
    };
  }

  async function standingOfId(orgId: string, id: string): Promise<Standing | undefined> {
    const principal = await store.principals.get(orgId, id);
    return principal && standingOf(principal);
  }

  /** Refuses (403, audited) unless the caller may change every one of these principals. */
  async function guardPrincipals(
    ctx: ActorContext,
    ids: Iterable<string>,
    audit: { action: string; targetType: string; targetId: string | null },
  ): Promise<void> {
    for (const id of new Set(ids)) {
      if (id === ctx.actor.principalId) continue; // one's own standing is one's own rights
      const target = await standingOfId(ctx.actor.orgId, id);
      if (target) await authorize(deps, ctx, { kind: 'change_principal', target }, audit);
    }
  }

  /** Ids of the principals holding a role, directly or through a group. */
  const holdersOf = (orgId: string, roleId: string) => store.roles.holders(orgId, roleId);

  /**
   * Runs `work` in a transaction that locks the active instance admins and, after the change,
   * checks that at least one of them is still active and holds every right it held: the last
   * instance admin cannot be disabled, deleted or demoted by anyone, itself included. A refusal
   * rolls the change back and is audited.
   */
  async function keepingInstanceAdmins<T>(
    ctx: ActorContext,
    audit: { action: string; targetType: string; targetId: string | null },
    work: (tx: Store) => Promise<T>,
  ): Promise<T> {
    const refusal = new TesseraError(
      'FORBIDDEN',
      'This would leave the instance without an instance admin: the last instance admin cannot be disabled, deleted or lose a right; make another instance admin first',
    );
    try {
      return await store.transaction(async (tx) => {
        const admins = await tx.principals.lockActiveInstanceAdmins();
        const before = new Map<string, { orgId: string; rights: Right[] }>();
        for (const { id, orgId } of admins) before.set(id, { orgId, rights: rightsOf(await tx.principals.effectiveRoles(orgId, id)) });
        const result = await work(tx);
        if (before.size === 0) return result;
        for (const [id, held] of before) {
          const now = await tx.principals.get(held.orgId, id);
          if (!now || now.status !== 'active') continue;
          const rights = new Set(rightsOf(await tx.principals.effectiveRoles(held.orgId, id)));
          if (held.rights.every((right) => rights.has(right))) return result;
        }
        throw refusal;
      });
    } catch (error) {
      if (error === refusal) {
        await store.audit.append(
          auditOf(ctx, clock.now(), {
            action: audit.action,
            outcome: 'denied',
            targetType: audit.targetType,
            targetId: audit.targetId,
            details: { reason: 'last_instance_admin', message: refusal.message },
          }),
        );
      }
      throw error;
    }
  }

  return { standingOf, standingOfId, guardPrincipals, holdersOf, keepingInstanceAdmins };
}

export type TargetGuard = ReturnType<typeof createTargetGuard>;
