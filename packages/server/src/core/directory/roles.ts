import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid, notFound } from '../errors.js';
import type { Role } from '../model.js';
import { newId } from '../ports.js';
import { allRights, isRight, type Right } from '../rights.js';
import { diff, type DirectoryContext } from './context.js';

/** Roles: the built-in ones and the organization's custom roles. */
export function createRoleManagement({ deps, store, clock, random, guard }: DirectoryContext) {
  return {
    listRoles(ctx: ActorContext): Promise<Role[]> {
      return store.roles.list(ctx.actor.orgId);
    },

    async getRole(ctx: ActorContext, id: string): Promise<Role> {
      const role = await store.roles.get(ctx.actor.orgId, id);
      if (!role) throw notFound('role', id);
      return role;
    },

    async createRole(ctx: ActorContext, input: { name: string; description?: string | undefined; rights: readonly string[] }): Promise<Role> {
      const rights = checkRights(input.rights);
      await authorize(deps, ctx, { kind: 'grant_rights', rights }, { action: 'role.create', targetType: 'role' });
      const now = clock.now();
      return store.transaction(async (tx) => {
        if (await tx.roles.getByName(ctx.actor.orgId, input.name)) {
          throw new TesseraError('CONFLICT', `A role named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        const role = await tx.roles.create({
          id: newId(random, 'rol'),
          orgId: ctx.actor.orgId,
          name: input.name,
          description: input.description ?? '',
          rights,
          builtin: false,
          createdAt: now,
        });
        await tx.audit.append(
          auditOf(ctx, now, { action: 'role.created', outcome: 'success', targetType: 'role', targetId: role.id, details: { name: role.name, rights } }),
        );
        return role;
      });
    },

    async updateRole(ctx: ActorContext, id: string, changes: { description?: string | undefined; rights?: readonly string[] | undefined }): Promise<Role> {
      const rights = changes.rights && checkRights(changes.rights);
      const existing = await store.roles.get(ctx.actor.orgId, id);
      if (!existing) throw notFound('role', id);
      // Changing a role changes what its holders may do: the caller must hold both old and new rights.
      await authorize(deps, ctx, { kind: 'grant_rights', rights: [...existing.rights, ...(rights ?? [])] }, { action: 'role.update', targetType: 'role', targetId: id });
      if (existing.builtin) throw new TesseraError('CONFLICT', `The built-in role "${existing.name}" cannot be changed; create a custom role instead`);
      // New rights reach, and removed rights leave, every holder of the role: each must be within the caller's rights.
      if (rights !== undefined) await guard.guardPrincipals(ctx, await guard.holdersOf(ctx.actor.orgId, id), { action: 'role.update', targetType: 'role', targetId: id });
      const now = clock.now();
      return guard.keepingInstanceAdmins(ctx, { action: 'role.update', targetType: 'role', targetId: id }, async (tx) => {
        const updated = await tx.roles.update(ctx.actor.orgId, id, {
          ...(changes.description !== undefined && { description: changes.description }),
          ...(rights !== undefined && { rights }),
        });
        if (!updated) throw notFound('role', id);
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'role.updated',
            outcome: 'success',
            targetType: 'role',
            targetId: id,
            details: { changes: diff({ description: existing.description, rights: existing.rights }, { description: updated.description, rights: updated.rights }) },
          }),
        );
        return updated;
      });
    },

    async deleteRole(ctx: ActorContext, id: string): Promise<void> {
      const existing = await store.roles.get(ctx.actor.orgId, id);
      if (!existing) throw notFound('role', id);
      await authorize(deps, ctx, { kind: 'grant_rights', rights: existing.rights }, { action: 'role.delete', targetType: 'role', targetId: id });
      if (existing.builtin) throw new TesseraError('CONFLICT', `The built-in role "${existing.name}" cannot be deleted`);
      await guard.guardPrincipals(ctx, await guard.holdersOf(ctx.actor.orgId, id), { action: 'role.delete', targetType: 'role', targetId: id });
      const now = clock.now();
      await guard.keepingInstanceAdmins(ctx, { action: 'role.delete', targetType: 'role', targetId: id }, async (tx) => {
        if (!(await tx.roles.remove(ctx.actor.orgId, id))) throw notFound('role', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'role.deleted', outcome: 'success', targetType: 'role', targetId: id, details: { name: existing.name } }));
      });
    },
  };
}

function checkRights(rights: readonly string[]): Right[] {
  for (const [index, right] of rights.entries()) {
    if (!isRight(right)) throw invalid(`/rights/${index}`, `Unknown right "${right}"; the rights are ${allRights.join(', ')}`);
  }
  return [...new Set(rights)] as Right[];
}
