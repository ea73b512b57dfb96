import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, notFound } from '../errors.js';
import type { Page } from '../model.js';
import { newId } from '../ports.js';
import type { ListQuery } from '../store.js';
import { diff, type DirectoryContext } from './context.js';
import type { GroupView } from './types.js';

/** Groups: members and the roles membership gives. */
export function createGroupManagement({ deps, store, clock, random, guard, resolveRoles, rightsOf, resolvePrincipals, groupView }: DirectoryContext) {
  return {
    async listGroups(ctx: ActorContext, query: ListQuery): Promise<Page<GroupView>> {
      const page = await store.groups.list(ctx.actor.orgId, query);
      return { items: await Promise.all(page.items.map((g) => groupView(store, g))), nextCursor: page.nextCursor };
    },

    async getGroup(ctx: ActorContext, id: string): Promise<GroupView> {
      const group = await store.groups.get(ctx.actor.orgId, id);
      if (!group) throw notFound('group', id);
      return groupView(store, group);
    },

    async createGroup(
      ctx: ActorContext,
      input: { name: string; description?: string | undefined; members?: readonly string[] | undefined; roles?: readonly string[] | undefined },
    ): Promise<GroupView> {
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action: 'group.create', targetType: 'group' });
      const roles = await resolveRoles(store, ctx.actor.orgId, input.roles ?? [], '/roles');
      await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf(roles) }, { action: 'group.create', targetType: 'group' });
      // Membership gives the group's roles: each new member must be someone the caller may change.
      const newMembers = await resolvePrincipals(store, ctx.actor.orgId, input.members ?? [], '/members');
      await guard.guardPrincipals(ctx, newMembers, { action: 'group.create', targetType: 'group', targetId: null });
      const now = clock.now();
      return store.transaction(async (tx) => {
        const members = await resolvePrincipals(tx, ctx.actor.orgId, newMembers, '/members');
        if ((await tx.groups.list(ctx.actor.orgId, { limit: 1000, q: input.name })).items.some((g) => g.name === input.name)) {
          throw new TesseraError('CONFLICT', `A group named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        const group = await tx.groups.create({ id: newId(random, 'grp'), orgId: ctx.actor.orgId, name: input.name, description: input.description ?? '', createdAt: now });
        await tx.groups.setMembers(ctx.actor.orgId, group.id, members);
        await tx.groups.setRoles(ctx.actor.orgId, group.id, roles.map((role) => role.id));
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'group.created',
            outcome: 'success',
            targetType: 'group',
            targetId: group.id,
            details: { name: group.name, members, roles: roles.map((role) => role.name) },
          }),
        );
        return groupView(tx, group);
      });
    },

    async updateGroup(
      ctx: ActorContext,
      id: string,
      changes: { name?: string | undefined; description?: string | undefined; members?: readonly string[] | undefined; roles?: readonly string[] | undefined },
    ): Promise<GroupView> {
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action: 'group.update', targetType: 'group', targetId: id });
      const existing = await store.groups.get(ctx.actor.orgId, id);
      if (!existing) throw notFound('group', id);
      const before = await groupView(store, existing);
      // Adding members or roles grants the group's rights; the caller must hold them all.
      const oldRoles = await store.groups.roles(ctx.actor.orgId, id);
      const roles = changes.roles && (await resolveRoles(store, ctx.actor.orgId, changes.roles, '/roles'));
      await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf([...oldRoles, ...(roles ?? [])]) }, { action: 'group.update', targetType: 'group', targetId: id });
      // Whoever joins or leaves gains or loses the group's roles; a change of roles reaches every member.
      const requested = changes.members && (await resolvePrincipals(store, ctx.actor.orgId, changes.members, '/members'));
      const rolesChange = roles !== undefined && JSON.stringify(roles.map((r) => r.id).sort()) !== JSON.stringify(oldRoles.map((r) => r.id).sort());
      const affected = rolesChange
        ? [...before.members, ...(requested ?? [])]
        : requested
          ? [...requested.filter((m) => !before.members.includes(m)), ...before.members.filter((m) => !requested.includes(m))]
          : [];
      await guard.guardPrincipals(ctx, affected, { action: 'group.update', targetType: 'group', targetId: id });
      const now = clock.now();
      return guard.keepingInstanceAdmins(ctx, { action: 'group.update', targetType: 'group', targetId: id }, async (tx) => {
        const members = requested && (await resolvePrincipals(tx, ctx.actor.orgId, requested, '/members'));
        if (changes.name !== undefined && changes.name !== existing.name) {
          if ((await tx.groups.list(ctx.actor.orgId, { limit: 1000, q: changes.name })).items.some((g) => g.name === changes.name)) {
            throw new TesseraError('CONFLICT', `A group named "${changes.name}" already exists; choose another name`, { field: '/name' });
          }
        }
        const updated = await tx.groups.update(ctx.actor.orgId, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.description !== undefined && { description: changes.description }),
        });
        if (!updated) throw notFound('group', id);
        if (members) await tx.groups.setMembers(ctx.actor.orgId, id, members);
        if (roles) await tx.groups.setRoles(ctx.actor.orgId, id, roles.map((role) => role.id));
        const after = await groupView(tx, updated);
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'group.updated',
            outcome: 'success',
            targetType: 'group',
            targetId: id,
            details: {
              changes: diff(
                { name: before.name, description: before.description, members: before.members, roles: before.roles },
                { name: after.name, description: after.description, members: after.members, roles: after.roles },
              ),
            },
          }),
        );
        return after;
      });
    },

    async deleteGroup(ctx: ActorContext, id: string): Promise<void> {
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action: 'group.delete', targetType: 'group', targetId: id });
      const existing = await store.groups.get(ctx.actor.orgId, id);
      if (!existing) throw notFound('group', id);
      // Deleting a group takes its roles from every member: the same trust as removing each of them.
      const groupRoles = await store.groups.roles(ctx.actor.orgId, id);
      if (groupRoles.length > 0) {
        await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf(groupRoles) }, { action: 'group.delete', targetType: 'group', targetId: id });
        const members = await store.groups.members(ctx.actor.orgId, id);
        await guard.guardPrincipals(ctx, members.map((m) => m.id), { action: 'group.delete', targetType: 'group', targetId: id });
      }
      const now = clock.now();
      await guard.keepingInstanceAdmins(ctx, { action: 'group.delete', targetType: 'group', targetId: id }, async (tx) => {
        if (!(await tx.groups.remove(ctx.actor.orgId, id))) throw notFound('group', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'group.deleted', outcome: 'success', targetType: 'group', targetId: id, details: { name: existing.name } }));
      });
    },
  };
}
