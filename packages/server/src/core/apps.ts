import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { TesseraError, invalid, notFound } from './errors.js';
import type { App, NewApp, Page, Role } from './model.js';
import { newId, randomBase62, type Clock, type Random } from './ports.js';
import type { Right } from './rights.js';
import { hashSecret, hashesEqual } from './secrets.js';
import type { ListQuery, Store } from './store.js';

export interface AppInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly accessTokenTtlSeconds?: number | null | undefined;
  readonly canIntrospect?: boolean | undefined;
}

/** Apps: create (secret shown once), list, show, edit, delete, regenerate the secret. */
export function createAppService(deps: { store: Store; clock: Clock; random: Random; secretKey: Uint8Array; tokenPrefix: string }) {
  const { store, clock, random, secretKey, tokenPrefix } = deps;
  const newSecret = () => `${tokenPrefix}s_${randomBase62(random, 43)}`;

  async function resolveRoles(orgId: string, names: readonly string[]): Promise<Role[]> {
    const roles: Role[] = [];
    for (const [index, name] of [...new Set(names)].entries()) {
      const role = await store.roles.getByName(orgId, name);
      if (!role) throw invalid(`/roles/${index}`, `Unknown role "${name}": list the organization's roles with GET /api/v1/roles`);
      roles.push(role);
    }
    return roles;
  }
  const rightsOf = (roles: readonly Role[]): Right[] => [...new Set(roles.flatMap((role) => role.rights))];

  async function guard(ctx: ActorContext, action: string, targetId: string | null, roles: readonly Role[] = []): Promise<void> {
    await authorize(deps, ctx, { kind: 'manage_apps' }, { action, targetType: 'app', targetId });
    if (roles.length > 0) await authorize(deps, ctx, { kind: 'grant_rights', rights: rightsOf(roles) }, { action, targetType: 'app', targetId });
    // An app acts with its roles: changing, deleting it or taking its new secret needs every right it holds (SPEC 2).
    const existing = targetId === null ? undefined : await store.apps.get(ctx.actor.orgId, targetId);
    if (existing) {
      const held = (await store.roles.list(ctx.actor.orgId)).filter((role) => existing.roles.includes(role.name));
      const target = { label: `The app ${existing.name}`, rights: rightsOf(held), instanceAdmin: false };
      await authorize(deps, ctx, { kind: 'change_principal', target }, { action, targetType: 'app', targetId });
    }
  }

  return {
    async create(ctx: ActorContext, input: AppInput): Promise<{ app: App; clientSecret: string }> {
      const roles = await resolveRoles(ctx.actor.orgId, input.roles ?? []);
      await guard(ctx, 'app.create', null, roles);
      const now = clock.now();
      const clientSecret = newSecret();
      const app: NewApp = {
        id: newId(random, 'app'),
        orgId: ctx.actor.orgId,
        name: input.name,
        description: input.description ?? '',
        clientId: `cl_${randomBase62(random, 20)}`,
        accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? null,
        canIntrospect: input.canIntrospect ?? false,
        createdBy: ctx.actor.principalId,
        createdAt: now,
        updatedAt: now,
        secretRotatedAt: now,
        secretHash: hashSecret(secretKey, clientSecret),
      };
      await store.transaction(async (tx) => {
        if ((await tx.apps.list(ctx.actor.orgId, { limit: 1000, q: input.name })).items.some((a) => a.name === input.name)) {
          throw new TesseraError('CONFLICT', `An app named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        await tx.apps.create(app, roles.map((role) => role.id));
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'app.created',
            outcome: 'success',
            targetType: 'app',
            targetId: app.id,
            details: { name: app.name, client_id: app.clientId, roles: roles.map((r) => r.name), can_introspect: app.canIntrospect },
          }),
        );
      });
      return { app: { ...app, roles: roles.map((role) => role.name) }, clientSecret };
    },

    list(ctx: ActorContext, query: ListQuery): Promise<Page<App>> {
      return store.apps.list(ctx.actor.orgId, query);
    },

    async get(ctx: ActorContext, id: string): Promise<App> {
      const app = await store.apps.get(ctx.actor.orgId, id);
      if (!app) throw notFound('app', id);
      return app;
    },

    async update(ctx: ActorContext, id: string, changes: Partial<AppInput>): Promise<App> {
      const roles = changes.roles && (await resolveRoles(ctx.actor.orgId, changes.roles));
      await guard(ctx, 'app.update', id, roles);
      const before = await store.apps.get(ctx.actor.orgId, id);
      if (!before) throw notFound('app', id);
      const now = clock.now();
      return store.transaction(async (tx) => {
        if (changes.name !== undefined && changes.name !== before.name) {
          if ((await tx.apps.list(ctx.actor.orgId, { limit: 1000, q: changes.name })).items.some((a) => a.name === changes.name)) {
            throw new TesseraError('CONFLICT', `An app named "${changes.name}" already exists; choose another name`, { field: '/name' });
          }
        }
        const after = await tx.apps.update(ctx.actor.orgId, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.description !== undefined && { description: changes.description }),
          ...(changes.accessTokenTtlSeconds !== undefined && { accessTokenTtlSeconds: changes.accessTokenTtlSeconds }),
          ...(changes.canIntrospect !== undefined && { canIntrospect: changes.canIntrospect }),
          ...(roles !== undefined && { roleIds: roles.map((role) => role.id) }),
          updatedAt: now,
        });
        if (!after) throw notFound('app', id);
        const changed: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ['name', 'description', 'roles', 'accessTokenTtlSeconds', 'canIntrospect'] as const) {
          if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = { from: before[key], to: after[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'app.updated', outcome: 'success', targetType: 'app', targetId: id, details: { changes: changed } }));
        return after;
      });
    },

    async regenerateSecret(ctx: ActorContext, id: string): Promise<{ app: App; clientSecret: string }> {
      await guard(ctx, 'app.secret_regenerate', id);
      const clientSecret = newSecret();
      const now = clock.now();
      return store.transaction(async (tx) => {
        if (!(await tx.apps.setSecret(ctx.actor.orgId, id, hashSecret(secretKey, clientSecret), now))) throw notFound('app', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'app.secret_regenerated', outcome: 'success', targetType: 'app', targetId: id }));
        const app = await tx.apps.get(ctx.actor.orgId, id);
        if (!app) throw notFound('app', id);
        return { app, clientSecret };
      });
    },

    async remove(ctx: ActorContext, id: string): Promise<void> {
      await guard(ctx, 'app.delete', id);
      const now = clock.now();
      await store.transaction(async (tx) => {
        const app = await tx.apps.get(ctx.actor.orgId, id);
        if (!app || !(await tx.apps.remove(ctx.actor.orgId, id, now))) throw notFound('app', id);
        // Its access tokens carry the client id as subject; API servers drop them at once.
        await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'principal', subjectId: app.clientId, occurredAt: now });
        await tx.audit.append(auditOf(ctx, now, { action: 'app.deleted', outcome: 'success', targetType: 'app', targetId: id, details: { name: app.name } }));
      });
    },

    /**
     * Client authentication (RFC 6749 §2.3.1): the app, or undefined for an unknown client or a
     * wrong secret, compared in constant time.
     */
    async authenticateClient(clientId: string, clientSecret: string): Promise<App | undefined> {
      if (clientId.length > 100 || clientSecret.length > 200) return undefined;
      const found = await store.apps.getByClientId(clientId);
      const expected = hashSecret(secretKey, clientSecret);
      if (!found || !hashesEqual(found.secretHash, expected)) return undefined;
      return found.app;
    },
  };
}

export type AppService = ReturnType<typeof createAppService>;
