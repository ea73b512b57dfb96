import { invalid, notFound } from '../errors.js';
import type { ActorContext } from '../context.js';
import type { Group, Principal, PrincipalKind, Role } from '../model.js';
import type { Right } from '../rights.js';
import type { Store } from '../store.js';
import { createTargetGuard } from '../target-guard.js';
import type { DirectoryDeps, GroupView, PrincipalView } from './types.js';

export const kindLabel: Record<PrincipalKind, string> = { user: 'user', service_account: 'service account' };

/** Field-by-field difference for the audit log: names and non-secret values only. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after)) {
    if (after[key] !== undefined && JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = { from: before[key], to: after[key] };
    }
  }
  return changes;
}

/**
 * What the directory's use cases share: the dependencies, the target guard, and the lookups and
 * views more than one of them needs. Each use-case file takes this and returns its methods.
 */
export function createDirectoryContext(deps: DirectoryDeps) {
  const { store, clock, random } = deps;
  const guard = createTargetGuard(deps);

  async function resolveRoles(tx: Store, orgId: string, names: readonly string[], field: string): Promise<Role[]> {
    const roles: Role[] = [];
    for (const [index, name] of [...new Set(names)].entries()) {
      const role = await tx.roles.getByName(orgId, name);
      if (!role) throw invalid(`${field}/${index}`, `Unknown role "${name}": list the organization's roles with GET /api/v1/roles`);
      roles.push(role);
    }
    return roles;
  }

  const rightsOf = (roles: readonly Role[]): Right[] => [...new Set(roles.flatMap((role) => role.rights))];

  async function resolvePrincipals(tx: Store, orgId: string, ids: readonly string[], field: string): Promise<string[]> {
    const unique = [...new Set(ids)];
    for (const [index, id] of unique.entries()) {
      if (!(await tx.principals.get(orgId, id))) throw invalid(`${field}/${index}`, `No user or service account with id "${id}" in this organization`);
    }
    return unique;
  }

  /** Nobody may manage a principal holding rights they lack (no demoting one's betters). */
  async function guardTarget(ctx: ActorContext, target: Principal, auditAction: string): Promise<void> {
    await guard.guardPrincipals(ctx, [target.id], { action: auditAction, targetType: 'principal', targetId: target.id });
  }

  async function view(tx: Store, principal: Principal): Promise<PrincipalView> {
    const roles = await tx.principals.directRoles(principal.orgId, principal.id);
    return { ...principal, roles: roles.map((role) => role.name) };
  }

  async function getPrincipal(ctx: ActorContext, kind: PrincipalKind, id: string): Promise<Principal> {
    const principal = await store.principals.get(ctx.actor.orgId, id);
    if (!principal || principal.kind !== kind) throw notFound(kindLabel[kind], id);
    return principal;
  }

  const auditPrefix = (kind: PrincipalKind) => (kind === 'user' ? 'user' : 'service_account');

  async function groupView(tx: Store, group: Group): Promise<GroupView> {
    const [members, roles] = await Promise.all([tx.groups.members(group.orgId, group.id), tx.groups.roles(group.orgId, group.id)]);
    return { ...group, members: members.map((m) => m.id), roles: roles.map((r) => r.name) };
  }

  return { deps, store, clock, random, guard, resolveRoles, rightsOf, resolvePrincipals, guardTarget, view, getPrincipal, auditPrefix, groupView };
}

export type DirectoryContext = ReturnType<typeof createDirectoryContext>;
