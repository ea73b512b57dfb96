import { checkPasswordStrength } from '../auth.js';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, notFound } from '../errors.js';
import type { Org, Page, Principal } from '../model.js';
import { newId, type Random } from '../ports.js';
import { hashPassword } from '../secrets.js';
import type { ListQuery, Store } from '../store.js';
import { diff, type DirectoryContext } from './context.js';
import type { PrincipalView } from './types.js';

/** Organizations, managed by instance admins. */
export function createOrgManagement({ deps, store, clock, random, view }: DirectoryContext) {
  return {
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
  };
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
