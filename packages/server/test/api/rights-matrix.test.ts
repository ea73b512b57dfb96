import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allRights, builtinRoles, type Right } from '../../src/core/rights.js';
import { randomBytes } from 'node:crypto';
import { hashPassword, hashSecret } from '../../src/core/secrets.js';
import type { Store } from '../../src/core/store.js';
import { assertProblem, basic, createApp, createOrg, loginAdmin, userPassword } from '../support/fixtures.js';
import { startTestServer, testSecretKey, type ApiResponse, type TestServer } from '../support/server.js';

/**
 * The rights matrix (issue 12): every actor kind × every mutating route of the running
 * server's /openapi.json × every target kind. The expected outcome is computed from the rules —
 * the rights table of core/rights.ts (`builtinRoles`), SPEC 2's "no one changes a principal
 * holding a right they lack, instance admin above every right" and "a token-derived session is
 * read-only" — never from a hand-written table of outcomes. A route the server gains without a
 * rule here fails the coverage test by name.
 *
 * Allowed: a 2xx whose effect is read back. Denied: a 403 problem with a reason and a `denied`
 * audit event by that actor; another organization's object: 404 (or the 400 naming the field
 * when the id comes in the body), or 403 when the caller is refused anyway.
 */

type ActorKind = 'instance-admin' | 'org-owner' | 'admin' | 'user-manager' | 'auditor' | 'member' | 'token-session' | 'app';
type TargetKind = 'self' | 'peer' | 'superior' | 'instance-admin' | 'foreign' | 'none';

interface Standing {
  readonly roles: readonly string[];
  readonly rights: ReadonlySet<Right>;
  readonly instanceAdmin: boolean;
}

interface ActorModel extends Standing {
  readonly kind: ActorKind;
  /** Authenticated through an access token minted from an API token (SPEC 2: read-only). */
  readonly viaToken: boolean;
  /** An app's client_credentials access token: not a management caller at all. */
  readonly app: boolean;
}

const rightsOfRoles = (roles: readonly string[]): Set<Right> => new Set(roles.flatMap((role) => builtinRoles[role] ?? []));
const standing = (roles: readonly string[], instanceAdmin = false): Standing => ({ roles, rights: rightsOfRoles(roles), instanceAdmin });

// --- The rules, as SPEC 2 states them ------------------------------------------------------------
/** `tokens.all` includes its read-only half `tokens.read_all` (core/rights.ts says so in the table's comment). */
const holds = (actor: Standing, right: Right) => actor.rights.has(right) || (right === 'tokens.read_all' && actor.rights.has('tokens.all'));
const holdsAll = (actor: Standing, rights: Iterable<Right>) => [...rights].every((right) => holds(actor, right));
/** Instance-admin status is one more right, above every organization right. */
const within = (actor: Standing, target: Standing) => (!target.instanceAdmin || actor.instanceAdmin) && holdsAll(actor, target.rights);
const everyOrgRight = (actor: Standing) => holdsAll(actor, allRights);

const actorKinds: readonly ActorKind[] = ['instance-admin', 'org-owner', 'admin', 'user-manager', 'auditor', 'member', 'token-session', 'app'];
function actorModel(kind: ActorKind): ActorModel {
  const base = kind === 'instance-admin' || kind === 'token-session' || kind === 'app' ? 'org-owner' : kind;
  return { kind, ...standing([base], kind === 'instance-admin'), viaToken: kind === 'token-session', app: kind === 'app' };
}

/** The standing of the principal a target kind names, relative to the actor. */
function targetStanding(actor: ActorModel, target: TargetKind): Standing | undefined {
  switch (target) {
    case 'self':
    case 'peer':
      return standing(actor.roles, actor.instanceAdmin);
    case 'superior':
      // More rights than the actor: org-owner, or above every organization right an instance admin.
      if (actor.instanceAdmin) return undefined;
      return standing(['org-owner'], everyOrgRight(actor));
    case 'instance-admin':
      return standing(['org-owner'], true);
    default:
      return undefined;
  }
}

type Expect = 'allow' | 'deny' | 'invalid';
interface Cell {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Whether the rules allow it (before the generic app / token-session / foreign rules). */
  readonly expect: Expect;
  /** Reads back the change an allowed request made. */
  readonly effect?: (response: ApiResponse) => Promise<void>;
  /** For foreign targets: the status when the actor would be allowed locally. */
  readonly foreignStatus?: 404 | 400 | 'allow';
  /** A different caller than the actor's standing session (a fresh clone with the same roles). */
  readonly as?: string;
  readonly asId?: string;
}

interface RouteRule {
  readonly targets: readonly TargetKind[];
  /** Variants of the body, each its own row of the matrix. */
  readonly variants?: readonly string[];
  /** Whether a token-derived session may call it (SPEC 2 lists the writes it may not). */
  readonly tokenSessionMay?: boolean;
  cell(env: Env, actor: ActorModel, target: TargetKind, variant: string): Promise<Cell | undefined>;
}

interface Actor {
  readonly model: ActorModel;
  readonly id: string;
  readonly token: string;
}

interface Env {
  readonly ts: TestServer;
  readonly store: Store;
  readonly adminToken: string;
  readonly actors: ReadonlyMap<ActorKind, Actor>;
  readonly foreign: { orgId: string; ownerToken: string; userId: string; saId: string; groupId: string; roleId: string; appId: string; tokenId: string; presetId: string; searchId: string; webhookId: string };
  /** A principal of the target kind, made fresh for this cell (the actor itself for `self`). */
  principal(actor: Actor, target: TargetKind, kind?: 'user' | 'service_account'): Promise<{ id: string; standing: Standing } | undefined>;
  /** A fresh user with the actor's roles, logged in: for cells that change or end the caller. */
  clone(actor: Actor): Promise<{ id: string; token: string }>;
  unique(prefix: string): string;
}

const ok = (response: ApiResponse) => assert.ok(response.status >= 200 && response.status < 300, `${response.status} ${response.text}`);

/** Rules per route, keyed "METHOD /path" as /openapi.json names them. */
function routeRules(): Record<string, RouteRule> {
  const principalTargets: TargetKind[] = ['self', 'peer', 'superior', 'instance-admin', 'foreign'];
  const creation: TargetKind[] = ['self', 'peer', 'superior'];

  const createPrincipal = (kind: 'user' | 'service_account'): RouteRule => ({
    targets: creation,
    async cell(env, actor, target) {
      const roles = targetStanding(actor, target);
      if (!roles || roles.instanceAdmin) return undefined; // nobody creates instance admins through the API
      const username = env.unique(kind === 'user' ? 'nu' : 'nsa');
      return {
        method: 'POST',
        path: kind === 'user' ? '/api/v1/users' : '/api/v1/service-accounts',
        body: { username, roles: roles.roles, ...(kind === 'user' && { password: userPassword }) },
        expect: holds(actor, 'users.manage') && holdsAll(actor, roles.rights) ? 'allow' : 'deny',
        effect: async (response) => {
          const shown = await env.ts.request('GET', `/api/v1/${kind === 'user' ? 'users' : 'service-accounts'}/${response.body.id}`, { token: env.adminToken });
          assert.deepEqual(shown.body.roles, roles.roles);
        },
      };
    },
  });

  const editPrincipal = (kind: 'user' | 'service_account'): RouteRule => ({
    targets: kind === 'user' ? principalTargets : ['peer', 'superior', 'foreign'],
    variants: kind === 'user' ? ['display_name', 'disable', 'password', 'roles'] : ['display_name', 'disable', 'roles'],
    async cell(env, actor, target, variant) {
      const collection = kind === 'user' ? 'users' : 'service-accounts';
      const me = env.actors.get(actor.kind) as Actor;
      // Changing oneself (other than a name) would change the matrix's own caller: use a clone.
      const clone = target === 'self' && variant !== 'display_name' && !actor.viaToken && !actor.app ? await env.clone(me) : undefined;
      const subject = target === 'foreign' ? { id: kind === 'user' ? env.foreign.userId : env.foreign.saId, standing: standing(['org-owner']) } : clone ? { id: clone.id, standing: standing(actor.roles, actor.instanceAdmin) } : await env.principal(me, target, kind);
      if (!subject) return undefined;
      const body = { display_name: { display_name: 'Changed Name' }, disable: { status: 'disabled' }, password: { password: 'a reset password here' }, roles: { roles: [] } }[variant];
      const allowed = holds(actor, 'users.manage') && within(actor, subject.standing);
      const selfForbidden = target === 'self' && variant === 'disable'; // one cannot disable oneself (400)
      return {
        method: 'PATCH',
        path: `/api/v1/${collection}/${subject.id}`,
        body,
        expect: !allowed ? 'deny' : selfForbidden ? 'invalid' : 'allow',
        foreignStatus: 404,
        ...(clone && { as: clone.token, asId: clone.id }),
        effect: async () => {
          const shown = await env.ts.request('GET', `/api/v1/${collection}/${subject.id}`, { token: env.adminToken });
          if (variant === 'display_name') assert.equal(shown.body.display_name, 'Changed Name');
          if (variant === 'disable') assert.equal(shown.body.status, 'disabled');
          if (variant === 'roles') assert.deepEqual(shown.body.roles, []);
          if (variant === 'password') {
            const event = (await env.store.audit.list({ orgId: 'org_default', limit: 1, targetId: subject.id })).items[0];
            assert.equal(event?.action, 'user.updated');
            assert.equal((event?.details['changes'] as Record<string, unknown>)['password'], 'reset', 'a password reset is audited');
          }
        },
      };
    },
  });

  const deletePrincipal = (kind: 'user' | 'service_account'): RouteRule => ({
    targets: kind === 'user' ? principalTargets : ['peer', 'superior', 'foreign'],
    async cell(env, actor, target) {
      const collection = kind === 'user' ? 'users' : 'service-accounts';
      const me = env.actors.get(actor.kind) as Actor;
      const clone = target === 'self' && !actor.viaToken && !actor.app ? await env.clone(me) : undefined;
      const subject = target === 'foreign' ? { id: kind === 'user' ? env.foreign.userId : env.foreign.saId, standing: standing(['org-owner']) } : clone ? { id: clone.id, standing: standing(actor.roles, actor.instanceAdmin) } : await env.principal(me, target, kind);
      if (!subject) return undefined;
      const allowed = holds(actor, 'users.manage') && within(actor, subject.standing);
      return {
        method: 'DELETE',
        path: `/api/v1/${collection}/${subject.id}`,
        expect: !allowed ? 'deny' : target === 'self' ? 'invalid' : 'allow',
        foreignStatus: 404,
        ...(clone && { as: clone.token, asId: clone.id }),
        effect: async () => assert.equal((await env.ts.request('GET', `/api/v1/${collection}/${subject.id}`, { token: env.adminToken })).status, 404),
      };
    },
  });

  /** A group holding `roles`, with `members`, made through the store for this cell. */
  async function group(env: Env, roles: string[], members: string[]): Promise<string> {
    const id = env.unique('grp');
    await env.store.groups.create({ id, orgId: 'org_default', name: id, description: '', createdAt: new Date() });
    await env.store.groups.setMembers('org_default', id, members);
    const roleIds = await Promise.all(roles.map(async (name) => (await env.store.roles.getByName('org_default', name))?.id as string));
    await env.store.groups.setRoles('org_default', id, roleIds);
    return id;
  }
  const memberRights = rightsOfRoles(['member']);

  async function subjectFor(env: Env, actor: ActorModel, target: TargetKind) {
    const me = env.actors.get(actor.kind) as Actor;
    if (target === 'self' && !actor.app) return { id: me.id, standing: standing(actor.roles, actor.instanceAdmin) };
    return env.principal(me, target);
  }

  return {
    'POST /api/v1/users': createPrincipal('user'),
    'PATCH /api/v1/users/{id}': editPrincipal('user'),
    'DELETE /api/v1/users/{id}': deletePrincipal('user'),
    'POST /api/v1/service-accounts': createPrincipal('service_account'),
    'PATCH /api/v1/service-accounts/{id}': editPrincipal('service_account'),
    'DELETE /api/v1/service-accounts/{id}': deletePrincipal('service_account'),

    'POST /api/v1/groups': {
      targets: principalTargets,
      async cell(env, actor, target) {
        const subject = target === 'foreign' ? { id: env.foreign.userId, standing: standing(['org-owner']) } : await subjectFor(env, actor, target);
        if (!subject) return undefined;
        const name = env.unique('ng');
        return {
          method: 'POST',
          path: '/api/v1/groups',
          body: { name, members: [subject.id] },
          expect: holds(actor, 'users.manage') && within(actor, subject.standing) ? 'allow' : 'deny',
          foreignStatus: 400,
          effect: async (response) => assert.deepEqual(response.body.members, [subject.id]),
        };
      },
    },
    'PATCH /api/v1/groups/{id}': {
      targets: principalTargets,
      variants: ['remove member', 'add member to a group with roles'],
      async cell(env, actor, target, variant) {
        if (target === 'foreign') return { method: 'PATCH', path: `/api/v1/groups/${env.foreign.groupId}`, body: { members: [] }, expect: holds(actor, 'users.manage') ? 'allow' : 'deny', foreignStatus: 404 };
        // A self target would change the caller's own rights mid-matrix; a clone stands in.
        const me = env.actors.get(actor.kind) as Actor;
        const clone = target === 'self' && !actor.viaToken && !actor.app ? await env.clone(me) : undefined;
        const subject = clone ? { id: clone.id, standing: standing(actor.roles, actor.instanceAdmin) } : await subjectFor(env, actor, target);
        if (!subject) return undefined;
        const removing = variant === 'remove member';
        const id = await group(env, removing ? [] : ['member'], removing ? [subject.id] : []);
        const allowed = holds(actor, 'users.manage') && within(actor, subject.standing) && (removing || holdsAll(actor, memberRights));
        return {
          method: 'PATCH',
          path: `/api/v1/groups/${id}`,
          body: { members: removing ? [] : [subject.id] },
          expect: allowed ? 'allow' : 'deny',
          ...(clone && { as: clone.token, asId: clone.id }),
          effect: async () => assert.deepEqual((await env.ts.request('GET', `/api/v1/groups/${id}`, { token: env.adminToken })).body.members, removing ? [] : [subject.id]),
        };
      },
    },
    'DELETE /api/v1/groups/{id}': {
      targets: principalTargets,
      async cell(env, actor, target) {
        if (target === 'foreign') return { method: 'DELETE', path: `/api/v1/groups/${env.foreign.groupId}`, expect: holds(actor, 'users.manage') ? 'allow' : 'deny', foreignStatus: 404 };
        const me = env.actors.get(actor.kind) as Actor;
        const clone = target === 'self' && !actor.viaToken && !actor.app ? await env.clone(me) : undefined;
        const subject = clone ? { id: clone.id, standing: standing(actor.roles, actor.instanceAdmin) } : await subjectFor(env, actor, target);
        if (!subject) return undefined;
        // Deleting a group takes its roles from its members.
        const id = await group(env, ['member'], [subject.id]);
        // A clone of the caller is itself in the group, so holds its rights too.
        const caller: Standing = clone ? { ...actor, rights: new Set([...actor.rights, ...memberRights]) } : actor;
        const allowed = holds(caller, 'users.manage') && holdsAll(caller, memberRights) && within(caller, subject.standing);
        return {
          method: 'DELETE',
          path: `/api/v1/groups/${id}`,
          expect: allowed ? 'allow' : 'deny',
          ...(clone && { as: clone.token, asId: clone.id }),
          effect: async () => assert.equal((await env.ts.request('GET', `/api/v1/groups/${id}`, { token: env.adminToken })).status, 404),
        };
      },
    },

    'POST /api/v1/roles': {
      targets: creation,
      async cell(env, actor, target) {
        const of = targetStanding(actor, target);
        if (!of || of.instanceAdmin) return undefined;
        const rights = [...of.rights];
        return {
          method: 'POST',
          path: '/api/v1/roles',
          body: { name: env.unique('nr'), rights },
          expect: holds(actor, 'users.manage') && holdsAll(actor, rights) ? 'allow' : 'deny',
          effect: async (response) => assert.deepEqual([...response.body.rights].sort(), [...rights].sort()),
        };
      },
    },
    ...Object.fromEntries(
      (['PATCH', 'DELETE'] as const).map((method) => [
        `${method} /api/v1/roles/{id}`,
        {
          targets: principalTargets,
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            if (target === 'foreign') {
              return { method, path: `/api/v1/roles/${env.foreign.roleId}`, ...(method === 'PATCH' && { body: { rights: [] } }), expect: holds(actor, 'users.manage') ? 'allow' : 'deny', foreignStatus: 404 };
            }
            const me = env.actors.get(actor.kind) as Actor;
            const clone = target === 'self' && !actor.viaToken && !actor.app ? await env.clone(me) : undefined;
            const subject = clone ? { id: clone.id, standing: standing(actor.roles, actor.instanceAdmin) } : await subjectFor(env, actor, target);
            if (!subject) return undefined;
            // A custom role with tokens.own held by the subject: changing or deleting it takes that right away.
            const roleId = env.unique('rol');
            await env.store.roles.create({ id: roleId, orgId: 'org_default', name: roleId, description: '', rights: ['tokens.own'], builtin: false, createdAt: new Date() });
            const held = (await env.store.principals.directRoles('org_default', subject.id)).map((role) => role.id);
            await env.store.principals.setRoles('org_default', subject.id, [...held, roleId]);
            const subjectRights = new Set<Right>([...subject.standing.rights, 'tokens.own']);
            const callerRights: Standing = clone ? { ...standing(actor.roles, actor.instanceAdmin), rights: subjectRights } : actor;
            const allowed = holds(callerRights, 'users.manage') && holds(callerRights, 'tokens.own') && within(callerRights, { ...subject.standing, rights: subjectRights });
            return {
              method,
              path: `/api/v1/roles/${roleId}`,
              ...(method === 'PATCH' && { body: { rights: [] } }),
              expect: allowed ? 'allow' : 'deny',
              ...(clone && { as: clone.token, asId: clone.id }),
              effect: async () => {
                const shown = await env.ts.request('GET', `/api/v1/roles/${roleId}`, { token: env.adminToken });
                if (method === 'DELETE') assert.equal(shown.status, 404);
                else assert.deepEqual(shown.body.rights, []);
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),

    'POST /api/v1/orgs': {
      targets: ['none'],
      async cell(env, actor) {
        const name = env.unique('org').toLowerCase().replace(/_/g, '-');
        return {
          method: 'POST',
          path: '/api/v1/orgs',
          body: { name, owner: { username: `${name}-owner`, password: userPassword } },
          expect: actor.instanceAdmin ? 'allow' : 'deny',
          effect: async (response) => assert.equal((await env.ts.request('GET', `/api/v1/orgs/${response.body.org.id}`, { token: env.adminToken })).status, 200),
        };
      },
    },
    'PATCH /api/v1/orgs/{id}': {
      targets: ['self', 'foreign'],
      async cell(env, actor, target) {
        const id = target === 'self' ? 'org_default' : env.foreign.orgId;
        const displayName = env.unique('Org');
        return {
          method: 'PATCH',
          path: `/api/v1/orgs/${id}`,
          body: { display_name: displayName },
          expect: actor.instanceAdmin ? 'allow' : 'deny',
          // Instance admins are above every organization: another one's is theirs to change.
          foreignStatus: 'allow',
          effect: async () => assert.equal((await env.ts.request('GET', `/api/v1/orgs/${id}`, { token: env.adminToken })).body.display_name, displayName),
        };
      },
    },

    'POST /api/v1/apps': {
      targets: creation,
      async cell(env, actor, target) {
        const of = targetStanding(actor, target);
        if (!of || of.instanceAdmin) return undefined;
        return {
          method: 'POST',
          path: '/api/v1/apps',
          body: { name: env.unique('app'), roles: of.roles },
          expect: holds(actor, 'apps.manage') && holdsAll(actor, of.rights) ? 'allow' : 'deny',
          effect: async (response) => assert.deepEqual((await env.ts.request('GET', `/api/v1/apps/${response.body.id}`, { token: env.adminToken })).body.roles, of.roles),
        };
      },
    },
    ...Object.fromEntries(
      ([['PATCH', '/api/v1/apps/{id}'], ['DELETE', '/api/v1/apps/{id}'], ['POST', '/api/v1/apps/{id}/secret']] as const).map(([method, path]) => [
        `${method} ${path}`,
        {
          targets: ['self', 'superior', 'foreign'],
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            const body = method === 'PATCH' ? { description: 'changed' } : undefined;
            if (target === 'foreign') return { method, path: path.replace('{id}', env.foreign.appId), ...(body && { body }), expect: holds(actor, 'apps.manage') ? 'allow' : 'deny', foreignStatus: 404 };
            // An app holding the actor's own roles ("self") or more.
            const of = targetStanding(actor, target);
            if (!of || of.instanceAdmin) return undefined;
            const app = await createApp(env.ts, env.adminToken, { name: env.unique('app'), roles: [...of.roles] });
            return {
              method,
              path: path.replace('{id}', app.id),
              ...(body && { body }),
              expect: holds(actor, 'apps.manage') && holdsAll(actor, of.rights) ? 'allow' : 'deny',
              effect: async (response) => {
                const shown = await env.ts.request('GET', `/api/v1/apps/${app.id}`, { token: env.adminToken });
                if (method === 'DELETE') assert.equal(shown.status, 404);
                else if (method === 'PATCH') assert.equal(shown.body.description, 'changed');
                else assert.notEqual(response.body.client_secret, app.clientSecret);
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),

    'POST /api/v1/tokens': {
      targets: principalTargets,
      async cell(env, actor, target) {
        const name = env.unique('tok');
        if (target === 'foreign') return { method: 'POST', path: '/api/v1/tokens', body: { name, owner: env.foreign.userId, scope: { kind: 'all' } }, expect: holds(actor, 'tokens.create_for_others') || holds(actor, 'users.manage') ? 'allow' : 'deny', foreignStatus: 400 };
        const subject = target === 'self' ? undefined : await env.principal(env.actors.get(actor.kind) as Actor, target);
        if (target !== 'self' && !subject) return undefined;
        const allowed = subject
          ? (holds(actor, 'tokens.create_for_others') || holds(actor, 'users.manage')) && within(actor, subject.standing)
          : holds(actor, 'tokens.own') || holds(actor, 'tokens.all');
        return {
          method: 'POST',
          path: '/api/v1/tokens',
          body: { name, scope: { kind: 'all' }, ...(subject && { owner: subject.id }) },
          expect: allowed ? 'allow' : 'deny',
          effect: async (response) => assert.equal((await env.ts.request('GET', `/api/v1/tokens/${response.body.id}`, { token: env.adminToken })).body.owner_id ?? response.body.owner_id, subject?.id ?? (env.actors.get(actor.kind) as Actor).id),
        };
      },
    },
    ...Object.fromEntries(
      ([['PATCH', '/api/v1/tokens/{id}'], ['POST', '/api/v1/tokens/{id}/rotate'], ['POST', '/api/v1/tokens/{id}/revoke']] as const).map(([method, path]) => [
        `${method} ${path}`,
        {
          targets: principalTargets,
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            const body = method === 'PATCH' ? { name: env.unique('renamed') } : {};
            const writeOthers = holds(actor, 'tokens.all') || holds(actor, 'users.manage');
            if (target === 'foreign') return { method, path: path.replace('{id}', env.foreign.tokenId), body, expect: writeOthers ? 'allow' : 'deny', foreignStatus: 404 };
            const me = env.actors.get(actor.kind) as Actor;
            const subject = target === 'self' && !actor.app ? { id: me.id, standing: actor as Standing } : await env.principal(me, target);
            if (!subject) return undefined;
            // The instance admin (above everyone) makes the token for its owner.
            const created = await env.ts.request('POST', '/api/v1/tokens', { token: env.adminToken, body: { name: env.unique('t'), owner: subject.id, scope: { kind: 'all' } } });
            assert.equal(created.status, 201, created.text);
            const id = created.body.id as string;
            let allowed: boolean;
            if (target === 'self') allowed = holds(actor, 'tokens.own') || holds(actor, 'tokens.all');
            else if (path.endsWith('/revoke')) allowed = holds(actor, 'tokens.all') || (holds(actor, 'users.manage') && within(actor, subject.standing)); // revocation only takes power away
            else if (path.endsWith('/rotate')) allowed = writeOthers && (holds(actor, 'tokens.create_for_others') || holds(actor, 'users.manage')) && within(actor, subject.standing); // the caller gets the new secret
            else allowed = writeOthers && within(actor, subject.standing);
            return {
              method,
              path: path.replace('{id}', id),
              body,
              expect: allowed ? 'allow' : 'deny',
              effect: async (response) => {
                const shown = await env.ts.request('GET', `/api/v1/tokens/${id}`, { token: env.adminToken });
                if (method === 'PATCH') assert.equal(shown.body.name, (body as { name: string }).name);
                else if (path.endsWith('/revoke')) assert.equal(shown.body.status, 'revoked');
                else assert.notEqual(response.body.token, created.body.token);
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),

    // Found by value, the token could be anyone's: only tokens.all identifies or revokes it.
    ...Object.fromEntries(
      (['identify', 'revoke-by-value'] as const).map((route) => [
        `POST /api/v1/tokens/${route}`,
        {
          targets: ['none'],
          async cell(env: Env, actor: ActorModel): Promise<Cell> {
            const created = await env.ts.request('POST', '/api/v1/tokens', { token: env.adminToken, body: { name: env.unique('v'), scope: { kind: 'all' } } });
            assert.equal(created.status, 201, created.text);
            return {
              method: 'POST',
              path: `/api/v1/tokens/${route}`,
              body: { token: created.body.token },
              expect: holds(actor, 'tokens.all') ? 'allow' : 'deny',
              effect: async (response) => {
                assert.equal(response.body.id, created.body.id);
                const shown = await env.ts.request('GET', `/api/v1/tokens/${created.body.id}`, { token: env.adminToken });
                assert.equal(shown.body.status, route === 'identify' ? 'active' : 'revoked');
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),
    'POST /api/v1/tokens/revoke-all': {
      // none: the whole organization. Where revoking would end the matrix's own callers' tokens
      // (the whole organization, oneself, the instance admin), the cutoff lies before them all
      // and nothing is revoked: the cell is about the decision.
      targets: ['none', 'self', 'peer', 'superior', 'instance-admin', 'foreign'],
      async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
        const past = { issued_before: '2020-01-01T00:00:00Z' };
        if (target === 'none') return { method: 'POST', path: '/api/v1/tokens/revoke-all', body: past, expect: holds(actor, 'tokens.all') ? 'allow' : 'deny', effect: async (response) => assert.equal(response.body.revoked, 0) };
        const writeOthers = holds(actor, 'tokens.all') || holds(actor, 'users.manage');
        if (target === 'foreign') return { method: 'POST', path: '/api/v1/tokens/revoke-all', body: { owner: env.foreign.userId }, expect: writeOthers ? 'allow' : 'deny', foreignStatus: 400 };
        const me = env.actors.get(actor.kind) as Actor;
        const subject = target === 'self' && !actor.app ? { id: me.id, standing: actor as Standing } : await env.principal(me, target);
        if (!subject) return undefined;
        const keep = target === 'self' || target === 'instance-admin';
        const created = await env.ts.request('POST', '/api/v1/tokens', { token: env.adminToken, body: { name: env.unique('ra'), owner: subject.id, scope: { kind: 'all' } } });
        assert.equal(created.status, 201, created.text);
        const allowed = target === 'self' ? holds(actor, 'tokens.own') || holds(actor, 'tokens.all') : holds(actor, 'tokens.all') || (holds(actor, 'users.manage') && within(actor, subject.standing));
        return {
          method: 'POST',
          path: '/api/v1/tokens/revoke-all',
          body: { owner: subject.id, ...(keep && past) },
          expect: allowed ? 'allow' : 'deny',
          effect: async () => {
            const shown = await env.ts.request('GET', `/api/v1/tokens/${created.body.id}`, { token: env.adminToken });
            assert.equal(shown.body.status, keep ? 'active' : 'revoked');
          },
        };
      },
    },

    // SPEC 9: an endpoint receives every token event of the organization, so it takes apps.manage and tokens.read_all.
    'POST /api/v1/webhooks': {
      targets: ['none'],
      async cell(env, actor) {
        const description = env.unique('hook');
        return {
          method: 'POST',
          path: '/api/v1/webhooks',
          body: { url: 'https://hooks.example.com/matrix', events: ['token.leaked'], description },
          expect: holds(actor, 'apps.manage') && holds(actor, 'tokens.read_all') ? 'allow' : 'deny',
          effect: async () => assert.ok((await env.ts.request('GET', '/api/v1/webhooks', { token: env.adminToken })).body.items.some((w: { description: string }) => w.description === description)),
        };
      },
    },
    ...Object.fromEntries(
      ([['PATCH', '/api/v1/webhooks/{id}'], ['DELETE', '/api/v1/webhooks/{id}'], ['POST', '/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver']] as const).map(([method, path]) => [
        `${method} ${path}`,
        {
          targets: ['none', 'foreign'],
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            const expect: Expect = holds(actor, 'apps.manage') && holds(actor, 'tokens.read_all') ? 'allow' : 'deny';
            const body = method === 'PATCH' ? { description: 'changed' } : undefined;
            if (target === 'foreign') return { method, path: path.replace('{id}', env.foreign.webhookId).replace('{delivery}', 'msg_1_none'), ...(body && { body }), expect, foreignStatus: 404 };
            const made = await env.ts.request('POST', '/api/v1/webhooks', { token: env.adminToken, body: { url: 'https://hooks.example.com/matrix', events: ['token.updated'], enabled: method === 'POST' } });
            assert.equal(made.status, 201, made.text);
            const id = made.body.id as string;
            let delivery = 'none';
            if (method === 'POST') {
              // A real delivery to redeliver: the endpoint is enabled only for as long as one token edit takes.
              const token = await env.ts.request('POST', '/api/v1/tokens', { token: env.adminToken, body: { name: env.unique('wt'), scope: { kind: 'all' } } });
              await env.ts.request('PATCH', `/api/v1/tokens/${token.body.id}`, { token: env.adminToken, body: { name: env.unique('wt') } });
              await env.ts.request('PATCH', `/api/v1/webhooks/${id}`, { token: env.adminToken, body: { enabled: false } });
              delivery = (await env.ts.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token: env.adminToken })).body.items[0].id as string;
            }
            return {
              method,
              path: path.replace('{id}', id).replace('{delivery}', delivery),
              ...(body && { body }),
              expect,
              effect: async () => {
                const shown = await env.ts.request('GET', `/api/v1/webhooks/${id}`, { token: env.adminToken });
                if (method === 'DELETE') assert.equal(shown.status, 404);
                else if (method === 'PATCH') assert.equal(shown.body.description, 'changed');
                else assert.equal((await env.ts.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token: env.adminToken })).body.items[0].status, 'pending');
              },
            };
          },
        },
      ]),
    ),
    'PUT /api/v1/policy': {
      targets: ['none'],
      async cell(env, actor) {
        return {
          method: 'PUT',
          path: '/api/v1/policy',
          body: { max_tokens_per_user: 1000 },
          expect: holds(actor, 'policy.manage') ? 'allow' : 'deny',
          effect: async () => assert.equal((await env.ts.request('GET', '/api/v1/policy', { token: env.adminToken })).body.max_tokens_per_user, 1000),
        };
      },
    },
    'POST /api/v1/presets': {
      targets: ['none'],
      async cell(env, actor) {
        const name = env.unique('p').toLowerCase();
        return {
          method: 'POST',
          path: '/api/v1/presets',
          body: { name, endpoints: ['/plans'], mode: 'refreshable' },
          expect: holds(actor, 'policy.manage') ? 'allow' : 'deny',
          effect: async () => assert.ok((await env.ts.request('GET', '/api/v1/presets', { token: env.adminToken })).body.items.some((p: { name: string }) => p.name === name)),
        };
      },
    },
    ...Object.fromEntries(
      (['PATCH', 'DELETE'] as const).map((method) => [
        `${method} /api/v1/presets/{id}`,
        {
          targets: ['self', 'foreign'],
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            const body = method === 'PATCH' ? { description: 'changed' } : undefined;
            if (target === 'foreign') return { method, path: `/api/v1/presets/${env.foreign.presetId}`, ...(body && { body }), expect: holds(actor, 'policy.manage') ? 'allow' : 'deny', foreignStatus: 404 };
            const created = await env.ts.request('POST', '/api/v1/presets', { token: env.adminToken, body: { name: env.unique('p').toLowerCase(), endpoints: ['/plans'], mode: 'refreshable' } });
            const id = created.body.id as string;
            return {
              method,
              path: `/api/v1/presets/${id}`,
              ...(body && { body }),
              expect: holds(actor, 'policy.manage') ? 'allow' : 'deny',
              effect: async () => {
                const found = (await env.ts.request('GET', '/api/v1/presets', { token: env.adminToken })).body.items.find((p: { id: string }) => p.id === id);
                if (method === 'DELETE') assert.equal(found, undefined);
                else assert.equal(found.description, 'changed');
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),

    'POST /api/v1/saved-searches': {
      targets: ['none'],
      async cell(env) {
        const name = env.unique('s');
        return { method: 'POST', path: '/api/v1/saved-searches', body: { name, query: { q: 'x' } }, expect: 'allow', effect: async (response) => assert.equal(response.body.name, name) };
      },
    },
    ...Object.fromEntries(
      (['PATCH', 'DELETE'] as const).map((method) => [
        `${method} /api/v1/saved-searches/{id}`,
        {
          targets: ['self', 'peer', 'foreign'],
          async cell(env: Env, actor: ActorModel, target: TargetKind): Promise<Cell | undefined> {
            const body = method === 'PATCH' ? { name: env.unique('changed') } : undefined;
            if (target === 'foreign') return { method, path: `/api/v1/saved-searches/${env.foreign.searchId}`, ...(body && { body }), expect: 'allow', foreignStatus: 404 };
            const me = env.actors.get(actor.kind) as Actor;
            // "self": the caller's own search; "peer": someone else's, shared with the organization.
            const ownerToken = target === 'self' && !actor.app ? (actor.viaToken ? env.adminToken : me.token) : env.adminToken;
            const created = await env.ts.request('POST', '/api/v1/saved-searches', { token: ownerToken, body: { name: env.unique('s'), query: { q: 'x' }, shared: true } });
            assert.equal(created.status, 201, created.text);
            const id = created.body.id as string;
            const own = target === 'self' && !actor.viaToken && !actor.app;
            return {
              method,
              path: `/api/v1/saved-searches/${id}`,
              ...(body && { body }),
              expect: own || (actor.kind === 'instance-admin') ? 'allow' : 'deny',
              effect: async () => {
                const found = (await env.ts.request('GET', '/api/v1/saved-searches', { token: ownerToken })).body.items.find((s: { id: string }) => s.id === id);
                if (method === 'DELETE') assert.equal(found, undefined);
                else assert.equal(found.name, body?.name);
              },
            };
          },
        } satisfies RouteRule,
      ]),
    ),

    'DELETE /api/v1/sessions/current': {
      targets: ['self'],
      tokenSessionMay: true,
      async cell(env, actor) {
        const me = env.actors.get(actor.kind) as Actor;
        const clone = actor.viaToken || actor.app ? undefined : await env.clone(me);
        return {
          method: 'DELETE',
          path: '/api/v1/sessions/current',
          expect: 'allow',
          ...(clone && { as: clone.token, asId: clone.id }),
          effect: async () => {
            if (clone) assert.equal((await env.ts.request('GET', '/api/v1/me', { token: clone.token })).status, 401, 'the session has ended');
          },
        };
      },
    },
    // Two-factor login (issue 15): one's own enrolment needs an interactive login; a reset is a change to the user.
    'DELETE /api/v1/users/{id}/second-factor': {
      targets: ['peer', 'superior', 'instance-admin', 'foreign'],
      async cell(env, actor, target) {
        const me = env.actors.get(actor.kind) as Actor;
        const subject = target === 'foreign' ? { id: env.foreign.userId, standing: standing(['org-owner']) } : await env.principal(me, target, 'user');
        if (!subject) return undefined;
        if (target !== 'foreign') await env.store.secondFactors.begin({ principalId: subject.id, orgId: 'org_default', seedCipher: Buffer.alloc(40), createdAt: new Date() });
        return {
          method: 'DELETE',
          path: `/api/v1/users/${subject.id}/second-factor`,
          expect: holds(actor, 'users.manage') && within(actor, subject.standing) ? 'allow' : 'deny',
          foreignStatus: 404,
          effect: async () => assert.equal(await env.store.secondFactors.get(subject.id), undefined),
        };
      },
    },
    'POST /api/v1/me/second-factor': {
      targets: ['self'],
      async cell(env, actor) {
        const me = env.actors.get(actor.kind) as Actor;
        const clone = actor.viaToken || actor.app ? undefined : await env.clone(me);
        return {
          method: 'POST',
          path: '/api/v1/me/second-factor',
          expect: 'allow',
          ...(clone && { as: clone.token, asId: clone.id }),
          effect: async () => assert.equal((await env.store.secondFactors.get(clone?.id ?? me.id))?.confirmedAt, null),
        };
      },
    },
    ...Object.fromEntries(
      (['confirm', 'disable'] as const).map((step) => [
        `POST /api/v1/me/second-factor/${step}`,
        {
          targets: ['self'],
          async cell(env: Env, actor: ActorModel): Promise<Cell> {
            const me = env.actors.get(actor.kind) as Actor;
            const clone = actor.viaToken || actor.app ? undefined : await env.clone(me);
            // Nothing pending or enabled for a fresh clone: an allowed caller meets the 400 of a code that matches nothing.
            return { method: 'POST', path: `/api/v1/me/second-factor/${step}`, body: { code: '000000' }, expect: 'invalid', ...(clone && { as: clone.token, asId: clone.id }) };
          },
        },
      ]),
    ),
    'PUT /api/v1/me/password': {
      targets: ['self'],
      async cell(env, actor) {
        const me = env.actors.get(actor.kind) as Actor;
        const clone = actor.viaToken || actor.app ? undefined : await env.clone(me);
        return {
          method: 'PUT',
          path: '/api/v1/me/password',
          body: { current_password: userPassword, new_password: 'a brand new password' },
          expect: 'allow',
          ...(clone && { as: clone.token, asId: clone.id }),
          effect: async () => {
            const event = (await env.store.audit.list({ orgId: 'org_default', limit: 1, actorPrincipalId: clone?.id })).items[0];
            assert.match(event?.action ?? '', /password/);
          },
        };
      },
    },
  };
}

/** Applies the generic rules around a route's own: apps are no management callers, tokens are read-only, organizations are walls. */
function finalExpectation(actor: ActorModel, rule: RouteRule, target: TargetKind, cell: Cell): { status: 'allow' | number[]; audited: boolean } {
  if (actor.app) return { status: [401], audited: false };
  if (actor.viaToken && !rule.tokenSessionMay) {
    return { status: target === 'foreign' ? [403, 404] : [403], audited: target !== 'foreign' };
  }
  if (target === 'foreign') {
    if (cell.expect !== 'allow') return { status: [403, 404, 400], audited: false };
    if (cell.foreignStatus === 'allow') return { status: 'allow', audited: false };
    return { status: [cell.foreignStatus ?? 404, 403], audited: false };
  }
  if (cell.expect === 'deny') return { status: [403], audited: true };
  if (cell.expect === 'invalid') return { status: [400], audited: false };
  return { status: 'allow', audited: false };
}

function matrix(driver: 'pglite' | 'postgres') {
  describe(`the rights matrix (${driver})`, () => {
    let env: Env;
    let ts: TestServer;
    let routes: string[] = [];

    before(async () => {
      ts = await startTestServer({ driver });
      const store = ts.server.container.store;
      const adminToken = await loginAdmin(ts);
      await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { max_tokens_per_user: 1000, max_tokens_per_service_account: 1000 } });
      const passwordHash = await hashPassword(userPassword, Buffer.alloc(16, 3));
      let counter = 0;
      const unique = (prefix: string) => `${prefix}_m${(counter++).toString(36)}`;

      async function makePrincipal(roles: readonly string[], instanceAdmin: boolean, kind: 'user' | 'service_account' = 'user', orgId = 'org_default') {
        const id = unique(kind === 'user' ? 'usr' : 'sva');
        await store.principals.create({ id, orgId, kind, username: id, displayName: id, email: null, passwordHash: kind === 'user' ? passwordHash : null, instanceAdmin, ipAllowlist: [], createdAt: new Date() });
        const roleIds = await Promise.all(roles.map(async (name) => (await store.roles.getByName(orgId, name))?.id as string));
        await store.principals.setRoles(orgId, id, roleIds);
        return id;
      }

      const actors = new Map<ActorKind, Actor>();
      const adminId = (await ts.request('GET', '/api/v1/me', { token: adminToken })).body.principal.id as string;
      for (const kind of actorKinds) {
        const model = actorModel(kind);
        if (kind === 'instance-admin') {
          actors.set(kind, { model, id: adminId, token: adminToken });
        } else if (kind === 'token-session') {
          // An access token minted from an org owner's API token.
          const id = await makePrincipal(['org-owner'], false);
          const session = await ts.login(id, userPassword);
          const created = await ts.request('POST', '/api/v1/tokens', { token: session, body: { name: 'matrix', scope: { kind: 'all' } } });
          assert.equal(created.status, 201, created.text);
          actors.set(kind, { model, id, token: created.body.access_token as string });
        } else if (kind === 'app') {
          const app = await createApp(ts, adminToken, { name: 'matrix-app', roles: ['org-owner'] });
          const minted = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
          assert.equal(minted.status, 200, minted.text);
          actors.set(kind, { model, id: app.id, token: minted.body.access_token as string });
        } else {
          const id = await makePrincipal(model.roles, false);
          actors.set(kind, { model, id, token: await ts.login(id, userPassword) });
        }
      }

      const other = await createOrg(ts, adminToken, 'matrix-other');
      const otherReq = (method: string, path: string, body?: unknown) => ts.request(method, path, { token: other.token, body });
      const foreignSa = await otherReq('POST', '/api/v1/service-accounts', { username: 'other-bot' });
      const foreignRole = await otherReq('POST', '/api/v1/roles', { name: 'other-role', rights: ['tokens.own'] });
      const foreignGroup = await otherReq('POST', '/api/v1/groups', { name: 'other-group' });
      const foreignApp = await otherReq('POST', '/api/v1/apps', { name: 'other-app' });
      const foreignToken = await otherReq('POST', '/api/v1/tokens', { name: 'other-token', scope: { kind: 'all' } });
      const foreignPreset = await otherReq('POST', '/api/v1/presets', { name: 'other-preset', endpoints: ['/x'], mode: 'refreshable' });
      const foreignSearch = await otherReq('POST', '/api/v1/saved-searches', { name: 'other-search', query: { q: 'x' }, shared: true });
      const foreignWebhook = await otherReq('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/other', events: ['token.leaked'] });
      for (const response of [foreignSa, foreignRole, foreignGroup, foreignApp, foreignToken, foreignPreset, foreignSearch, foreignWebhook]) assert.equal(response.status, 201, response.text);

      env = {
        ts,
        store,
        adminToken,
        actors,
        unique,
        foreign: {
          orgId: other.orgId,
          ownerToken: other.token,
          userId: other.id,
          saId: foreignSa.body.id,
          roleId: foreignRole.body.id,
          groupId: foreignGroup.body.id,
          appId: foreignApp.body.id,
          tokenId: foreignToken.body.id,
          presetId: foreignPreset.body.id,
          searchId: foreignSearch.body.id,
          webhookId: foreignWebhook.body.id,
        },
        async principal(actor, target, kind = 'user') {
          // An app is no principal: its "self" is a principal standing where it stands.
          if (target === 'self' && !actor.model.app) return kind === 'user' ? { id: actor.id, standing: actor.model } : undefined;
          if (target === 'self') target = 'peer';
          const of = targetStanding(actor.model, target);
          if (!of || (of.instanceAdmin && kind !== 'user')) return undefined;
          return { id: await makePrincipal(of.roles, of.instanceAdmin, kind), standing: of };
        },
        async clone(actor) {
          // A session opened straight in the store, as a login would: the matrix's cost stays in its requests.
          const id = await makePrincipal(actor.model.roles, actor.model.instanceAdmin);
          const sessionId = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
          const secret = randomBytes(40).toString('base64url').replace(/[-_]/g, 'y').slice(0, 43);
          const now = new Date();
          await store.sessions.create({ id: sessionId, orgId: 'org_default', principalId: id, secretHash: hashSecret(testSecretKey, secret), createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + 3600_000), endedAt: null, clientIp: null, userAgent: null });
          return { id, token: `ses_${sessionId}.${secret}` };
        },
      };

      const doc = (await ts.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
      routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([method, operation]) => ['post', 'put', 'patch', 'delete'].includes(method) && (operation.security?.length ?? 0) > 0)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      );
    });
    after(async () => ts.close());

    it('has a rule for every mutating route the server documents', () => {
      const rules = routeRules();
      assert.ok(routes.length >= 30, `found ${routes.length} mutating routes`);
      const missing = routes.filter((route) => !(route in rules));
      assert.deepEqual(missing, [], `routes without a rule in rights-matrix.test.ts (add one to routeRules): ${missing.join(', ')}`);
    });

    it('allows and denies every actor × route × target as the rules say', async () => {
      const rules = routeRules();
      const counts = { cells: 0, allowed: 0, denied: 0 };
      const failures: string[] = [];
      for (const route of routes) {
        const rule = rules[route];
        if (!rule) continue;
        for (const kind of actorKinds) {
          const actor = env.actors.get(kind) as Actor;
          // Apps and token-derived sessions are refused before any target is looked at: one target each suffices.
          for (const target of actor.model.app || actor.model.viaToken ? rule.targets.slice(0, 1) : rule.targets) {
            for (const variant of rule.variants ?? ['']) {
              const cell: Cell | undefined = await rule.cell(env, actor.model, target, variant);
              if (!cell) continue;
              const label = `${kind} ${route}${variant ? ` (${variant})` : ''} on ${target}`;
              const expected = finalExpectation(actor.model, rule, target, cell);
              const since = new Date(Date.now() - 1000);
              const response = await ts.request(cell.method, cell.path, { token: cell.as ?? actor.token, ...(cell.body !== undefined && { body: cell.body }) });
              counts.cells++;
              try {
                if (expected.status === 'allow') {
                  ok(response);
                  await cell.effect?.(response);
                  counts.allowed++;
                } else {
                  assert.ok(expected.status.includes(response.status), `expected ${expected.status.join(' or ')}, got ${response.status} ${response.text}`);
                  assertProblem(response, response.status);
                  if (response.status === 403) assert.ok(String(response.body.detail).length > 20, 'a clear reason');
                  if (expected.audited) {
                    const event: { outcome: string; occurredAt: Date } | undefined = (await env.store.audit.list({ orgId: 'org_default', limit: 1, actorPrincipalId: cell.asId ?? actor.id })).items[0];
                    assert.equal(event?.outcome, 'denied', 'the denial is audited');
                    assert.ok(event && event.occurredAt >= since, 'the denial is audited now');
                  }
                  counts.denied++;
                }
              } catch (error) {
                failures.push(`${label}: ${(error as Error).message.split('\n')[0]}`);
              }
            }
          }
        }
      }
      console.log(`rights matrix (${driver}): ${routes.length} mutating routes, ${actorKinds.length} actor kinds, ${counts.cells} cells: ${counts.allowed} allowed, ${counts.denied} denied`);
      assert.deepEqual(failures, []);
      assert.ok(counts.allowed > 50 && counts.denied > 200, 'the matrix exercises both outcomes');
    });
  });
}

matrix('pglite');
if (process.env['TESSERA_TEST_DATABASE_URL']) matrix('postgres');
