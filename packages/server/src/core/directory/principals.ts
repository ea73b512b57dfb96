import { checkIpAllowlist } from '../allowlist.js';
import { checkPasswordStrength } from '../auth.js';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid, notFound } from '../errors.js';
import type { Page, PrincipalKind } from '../model.js';
import { newId } from '../ports.js';
import { hashPassword } from '../secrets.js';
import type { ListQuery } from '../store.js';
import { diff, kindLabel, type DirectoryContext } from './context.js';
import type { PrincipalChanges, PrincipalInput, PrincipalView } from './types.js';

/** Users and service accounts: list, read, create, edit, delete, and who the caller is. */
export function createPrincipalManagement({ deps, store, clock, random, guard, resolveRoles, rightsOf, guardTarget, view, getPrincipal, auditPrefix }: DirectoryContext) {
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
  };
}
