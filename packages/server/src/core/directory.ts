import { checkIpAllowlist } from './allowlist.js';
import { checkPasswordStrength } from './auth.js';
import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { TesseraError, invalid, notFound } from './errors.js';
import type { Group, Org, Page, Principal, PrincipalKind, PrincipalStatus, Role } from './model.js';
import { newId, type Clock, type Random } from './ports.js';
import { allRights, isRight, type Right } from './rights.js';
import { hashPassword } from './secrets.js';
import type { ListQuery, Store } from './store.js';
import { createTargetGuard } from './target-guard.js';

export interface DirectoryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
}

export interface PrincipalInput {
  readonly username: string;
  readonly displayName?: string | undefined;
  readonly email?: string | null | undefined;
  readonly password?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
}

export interface PrincipalChanges {
  readonly displayName?: string | undefined;
  readonly email?: string | null | undefined;
  readonly status?: PrincipalStatus | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly password?: string | undefined;
}

/** A principal with the roles it holds directly. */
export interface PrincipalView extends Principal {
  readonly roles: readonly string[];
}

export interface GroupView extends Group {
  readonly members: readonly string[];
  readonly roles: readonly string[];
}

const kindLabel: Record<PrincipalKind, string> = { user: 'user', service_account: 'service account' };

/** Field-by-field difference for the audit log: names and non-secret values only. */
function diff(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after)) {
    if (after[key] !== undefined && JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = { from: before[key], to: after[key] };
    }
  }
  return changes;
}

/** Users, service accounts, roles, groups and organizations. */
export function createDirectoryService(deps: DirectoryDeps) {
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

  return {
    async listPrincipals(ctx: ActorContext, kind: PrincipalKind, query: ListQuery): Promise<Page<PrincipalView>> {
      const page = await store.principals.list(ctx.actor.orgId, kind, query);
      return { items: await Promise.all(page.items.map((p) => view(store, p))), nextCursor: page.nextCursor };
    },

    async getPrincipal(ctx: ActorContext, kind: PrincipalKind, id: string): Promise<PrincipalView> {
      return view(store, await getPrincipal(ctx, kind, id));
    },

    async createPrincipal(ctx: ActorContext, kind: PrincipalKind, input: PrincipalInput): Promise<PrincipalView> {
      const action = `${auditPrefix(kind)}.create`;
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action, targetType: 'principal' });
      if (kind === 'user') {
        if (input.password === undefined) throw invalid('/password', 'A user needs a password of at least 12 characters');
        checkPasswordStrength(input.password, '/password');
      } else if (input.password !== undefined) {
        throw invalid('/password', 'Service accounts cannot log in and take no password; remove the field');
      }
      const ipAllowlist = checkIpAllowlist(input.ipAllowlist ?? [], '/ip_allowlist');
      const roles = await resolveRoles(store, ctx.actor.orgId, input.roles ?? ['member'], '/roles');
      await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf(roles) }, { action, targetType: 'principal' });
      const passwordHash = input.password === undefined ? null : await hashPassword(input.password, random.bytes(16));
      const now = clock.now();
      return store.transaction(async (tx) => {
        if (await tx.principals.getByUsername(ctx.actor.orgId, input.username)) {
          throw new TesseraError('CONFLICT', `The username "${input.username}" is taken in this organization; choose another`, {
            field: '/username',
          });
        }
        const principal = await tx.principals.create({
          id: newId(random, kind === 'user' ? 'usr' : 'sva'),
          orgId: ctx.actor.orgId,
          kind,
          username: input.username,
          displayName: input.displayName ?? input.username,
          email: input.email ?? null,
          passwordHash,
          instanceAdmin: false,
          ipAllowlist,
          createdAt: now,
        });
        await tx.principals.setRoles(ctx.actor.orgId, principal.id, roles.map((role) => role.id));
        await tx.audit.append(
          auditOf(ctx, now, {
            action: `${auditPrefix(kind)}.created`,
            outcome: 'success',
            targetType: 'principal',
            targetId: principal.id,
            details: {
              username: principal.username,
              roles: roles.map((role) => role.name),
              ip_allowlist: ipAllowlist,
            },
          }),
        );
        return view(tx, principal);
      });
    },

    async updatePrincipal(ctx: ActorContext, kind: PrincipalKind, id: string, changes: PrincipalChanges): Promise<PrincipalView> {
      const action = `${auditPrefix(kind)}.update`;
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action, targetType: 'principal', targetId: id });
      const target = await getPrincipal(ctx, kind, id);
      await guardTarget(ctx, target, action);
      if (changes.status === 'disabled' && target.id === ctx.actor.principalId) {
        throw invalid('/status', 'You cannot disable yourself; ask another administrator');
      }
      if (kind === 'service_account' && changes.password !== undefined) {
        throw invalid('/password', 'Service accounts cannot log in and take no password; remove the field');
      }
      if (changes.password !== undefined) checkPasswordStrength(changes.password, '/password');
      const ipAllowlist = changes.ipAllowlist && checkIpAllowlist(changes.ipAllowlist, '/ip_allowlist');
      const roles = changes.roles && (await resolveRoles(store, ctx.actor.orgId, changes.roles, '/roles'));
      if (roles) await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf(roles) }, { action, targetType: 'principal', targetId: id });
      const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password, random.bytes(16));
      const now = clock.now();
      return guard.keepingInstanceAdmins(ctx, { action, targetType: 'principal', targetId: id }, async (tx) => {
        const before = await view(tx, target);
        const updated = await tx.principals.update(ctx.actor.orgId, id, {
          ...(changes.displayName !== undefined && { displayName: changes.displayName }),
          ...(changes.email !== undefined && { email: changes.email }),
          ...(changes.status !== undefined && { status: changes.status }),
          ...(ipAllowlist !== undefined && { ipAllowlist }),
          ...(passwordHash !== undefined && { passwordHash, passwordChangedAt: now }),
          updatedAt: now,
        });
        if (!updated) throw notFound(kindLabel[kind], id);
        if (roles) await tx.principals.setRoles(ctx.actor.orgId, id, roles.map((role) => role.id));
        // Disabling or resetting a password ends the principal's sessions at once.
        if (changes.status === 'disabled' || passwordHash !== undefined) await tx.sessions.endAllFor(id, now);
        // SPEC 5.4: a disabled owner's access tokens stop working on API servers too.
        if (changes.status === 'disabled' && before.status !== 'disabled') {
          await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'principal', subjectId: id, occurredAt: now });
        }
        const after = await view(tx, updated);
        const changed: Record<string, unknown> = diff(
          { display_name: before.displayName, email: before.email, status: before.status, roles: before.roles, ip_allowlist: before.ipAllowlist },
          { display_name: after.displayName, email: after.email, status: after.status, roles: after.roles, ip_allowlist: after.ipAllowlist },
        );
        if (passwordHash !== undefined) changed['password'] = 'reset';
        await tx.audit.append(
          auditOf(ctx, now, {
            action: `${auditPrefix(kind)}.updated`,
            outcome: 'success',
            targetType: 'principal',
            targetId: id,
            details: { changes: changed },
          }),
        );
        return after;
      });
    },

    async deletePrincipal(ctx: ActorContext, kind: PrincipalKind, id: string): Promise<void> {
      const action = `${auditPrefix(kind)}.delete`;
      await authorize(deps, ctx, { kind: 'manage_principals' }, { action, targetType: 'principal', targetId: id });
      const target = await getPrincipal(ctx, kind, id);
      await guardTarget(ctx, target, action);
      if (target.id === ctx.actor.principalId) throw invalid('id', 'You cannot delete yourself; ask another administrator');
      const now = clock.now();
      await guard.keepingInstanceAdmins(ctx, { action, targetType: 'principal', targetId: id }, async (tx) => {
        await tx.sessions.endAllFor(id, now);
        if (!(await tx.principals.remove(ctx.actor.orgId, id, now))) throw notFound(kindLabel[kind], id);
        await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'principal', subjectId: id, occurredAt: now });
        await tx.audit.append(
          auditOf(ctx, now, {
            action: `${auditPrefix(kind)}.deleted`,
            outcome: 'success',
            targetType: 'principal',
            targetId: id,
            details: { username: target.username },
          }),
        );
      });
    },

    /** Who am I: the caller's principal with its effective roles and rights. */
    async me(ctx: ActorContext): Promise<{ principal: PrincipalView; actor: ActorContext['actor'] }> {
      const principal = await store.principals.get(ctx.actor.orgId, ctx.actor.principalId);
      if (!principal) throw new TesseraError('UNAUTHENTICATED', 'Your account no longer exists');
      return { principal: await view(store, principal), actor: ctx.actor };
    },

    // Roles ------------------------------------------------------------------------------------

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

    // Groups -----------------------------------------------------------------------------------

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

    // Organizations (instance admins) ------------------------------------------------------------

    async listOrgs(ctx: ActorContext, query: ListQuery): Promise<Page<Org>> {
      await authorize(deps, ctx, { kind: 'manage_orgs' }, { action: 'org.list', targetType: 'org' });
      return store.orgs.list(query);
    },

    async getOrg(ctx: ActorContext, id: string): Promise<Org> {
      // Members may see their own organization; only instance admins see the others.
      if (id !== ctx.actor.orgId) await authorize(deps, ctx, { kind: 'manage_orgs' }, { action: 'org.read', targetType: 'org', targetId: id });
      const org = await store.orgs.get(id);
      if (!org) throw notFound('organization', id);
      return org;
    },

    async createOrg(
      ctx: ActorContext,
      input: { name: string; displayName?: string | undefined; owner: { username: string; password: string } },
    ): Promise<{ org: Org; owner: PrincipalView }> {
      await authorize(deps, ctx, { kind: 'manage_orgs' }, { action: 'org.create', targetType: 'org' });
      checkPasswordStrength(input.owner.password, '/owner/password');
      const passwordHash = await hashPassword(input.owner.password, random.bytes(16));
      const now = clock.now();
      return store.transaction(async (tx) => {
        if (await tx.orgs.getByName(input.name)) {
          throw new TesseraError('CONFLICT', `An organization named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        const org = await tx.orgs.create({ id: newId(random, 'org'), name: input.name, displayName: input.displayName ?? input.name, createdAt: now });
        const owner = await createOwner(tx, random, org, input.owner.username, passwordHash, false, now);
        await tx.audit.append(
          auditOf(ctx, now, { orgId: org.id, action: 'org.created', outcome: 'success', targetType: 'org', targetId: org.id, details: { name: org.name, owner: owner.username } }),
        );
        return { org, owner: await view(tx, owner) };
      });
    },

    async updateOrg(ctx: ActorContext, id: string, changes: { displayName: string }): Promise<Org> {
      await authorize(deps, ctx, { kind: 'manage_orgs' }, { action: 'org.update', targetType: 'org', targetId: id });
      const existing = await store.orgs.get(id);
      if (!existing) throw notFound('organization', id);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const updated = await tx.orgs.update(id, changes);
        if (!updated) throw notFound('organization', id);
        await tx.audit.append(
          auditOf(ctx, now, {
            orgId: id,
            action: 'org.updated',
            outcome: 'success',
            targetType: 'org',
            targetId: id,
            details: { changes: diff({ display_name: existing.displayName }, { display_name: updated.displayName }) },
          }),
        );
        return updated;
      });
    },

    // Audit ----------------------------------------------------------------------------------

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

  async function groupView(tx: Store, group: Group): Promise<GroupView> {
    const [members, roles] = await Promise.all([tx.groups.members(group.orgId, group.id), tx.groups.roles(group.orgId, group.id)]);
    return { ...group, members: members.map((m) => m.id), roles: roles.map((r) => r.name) };
  }


}

/** Creates an organization's first user, holding org-owner. */
export async function createOwner(tx: Store, random: Random, org: Org, username: string, passwordHash: string, instanceAdmin: boolean, now: Date): Promise<Principal> {
  const owner = await tx.principals.create({
    id: newId(random, 'usr'),
    orgId: org.id,
    kind: 'user',
    username,
    displayName: username,
    email: null,
    passwordHash,
    instanceAdmin,
    ipAllowlist: [],
    createdAt: now,
  });
  const ownerRole = await tx.roles.getByName(org.id, 'org-owner');
  if (!ownerRole) throw new Error('built-in role org-owner is missing');
  await tx.principals.setRoles(org.id, owner.id, [ownerRole.id]);
  return owner;
}
function checkRights(rights: readonly string[]): Right[] {
  for (const [index, right] of rights.entries()) {
    if (!isRight(right)) throw invalid(`/rights/${index}`, `Unknown right "${right}"; the rights are ${allRights.join(', ')}`);
  }
  return [...new Set(rights)] as Right[];
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
