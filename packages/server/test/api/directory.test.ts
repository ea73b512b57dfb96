import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createOrg, createUser, loginAdmin, userPassword, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('directory: users, service accounts, groups, roles, organizations', () => {
  let ts: TestServer;
  let admin: string;
  let member: TestPrincipal;
  let manager: TestPrincipal;
  let other: TestPrincipal & { orgId: string };

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    member = await createUser(ts, admin, 'mia', ['member']);
    manager = await createUser(ts, admin, 'uma', ['user-manager']);
    other = await createOrg(ts, admin, 'acme');
  });
  after(async () => ts.close());

  describe('users', () => {
    it('creates, shows, lists, edits and deletes a user, auditing each change', async () => {
      const created = await ts.request('POST', '/api/v1/users', {
        token: admin,
        body: { username: 'carl', display_name: 'Carl C', email: 'carl@example.com', password: userPassword, roles: ['auditor'], ip_allowlist: ['10.0.0.0/8'] },
      });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.roles, ['auditor']);
      assert.equal(created.body.kind, 'user');
      assert.equal('password' in created.body || 'password_hash' in created.body, false);
      const id = created.body.id;

      const shown = await ts.request('GET', `/api/v1/users/${id}`, { token: member.token });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.email, 'carl@example.com');

      const list = await ts.request('GET', '/api/v1/users?q=carl', { token: admin });
      assert.deepEqual(list.body.items.map((u: { username: string }) => u.username), ['carl']);

      const edited = await ts.request('PATCH', `/api/v1/users/${id}`, { token: admin, body: { display_name: 'Carl', roles: ['member'], ip_allowlist: [] } });
      assert.equal(edited.status, 200, edited.text);
      assert.deepEqual(edited.body.roles, ['member']);

      const audit = await ts.request('GET', `/api/v1/audit-events?target=${id}`, { token: admin });
      const actions = audit.body.items.map((e: { action: string }) => e.action);
      assert.deepEqual(actions, ['user.updated', 'user.created']);
      assert.deepEqual(audit.body.items[0].details.changes.roles, { from: ['auditor'], to: ['member'] });

      assert.equal((await ts.request('DELETE', `/api/v1/users/${id}`, { token: admin })).status, 204);
      assertProblem(await ts.request('GET', `/api/v1/users/${id}`, { token: admin }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('DELETE', `/api/v1/users/${id}`, { token: admin }), 404, 'NOT_FOUND');
      // A deleted user's name is free again.
      assert.equal((await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'carl', password: userPassword } })).status, 201);
    });

    it('paginates the user list with a cursor', async () => {
      for (const name of ['pg-a', 'pg-b', 'pg-c']) await createUser(ts, admin, name);
      const first = await ts.request('GET', '/api/v1/users?q=pg-&limit=2', { token: admin });
      assert.equal(first.body.items.length, 2);
      const second = await ts.request('GET', `/api/v1/users?q=pg-&limit=2&cursor=${first.body.next_cursor}`, { token: admin });
      assert.deepEqual(second.body.items.map((u: { username: string }) => u.username), ['pg-c']);
      assert.equal(second.body.next_cursor, null);
      assertProblem(await ts.request('GET', '/api/v1/users?cursor=garbage', { token: admin }), 400, 'VALIDATION_FAILED', 'cursor');
      assertProblem(await ts.request('GET', '/api/v1/users?limit=0', { token: admin }), 400, 'VALIDATION_FAILED', 'limit');
      assertProblem(await ts.request('GET', '/api/v1/users?limit=abc', { token: admin }), 400, 'VALIDATION_FAILED', 'limit');
      assertProblem(await ts.request('GET', '/api/v1/users?sort=name', { token: admin }), 400, 'VALIDATION_FAILED', 'sort');
    });

    it('refuses a taken username with 409', async () => {
      assertProblem(await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'mia', password: userPassword } }), 409, 'CONFLICT', '/username');
    });

    it('refuses a member creating users', async () => {
      const r = await ts.request('POST', '/api/v1/users', { token: member.token, body: { username: 'nope', password: userPassword } });
      assertProblem(r, 403, 'FORBIDDEN');
      assert.match(r.body.detail, /users\.manage/);
      const audit = await ts.request('GET', '/api/v1/audit-events?action=user.create', { token: admin });
      assert.equal(audit.body.items[0].outcome, 'denied');
      assert.equal(audit.body.items[0].actor_principal_id, member.id);
    });

    it('lets a user-manager assign only rights it holds', async () => {
      const ok = await ts.request('POST', '/api/v1/users', { token: manager.token, body: { username: 'by-manager', password: userPassword, roles: ['user-manager'] } });
      assert.equal(ok.status, 201, ok.text);
      const escalate = await ts.request('POST', '/api/v1/users', { token: manager.token, body: { username: 'escalate', password: userPassword, roles: ['admin'] } });
      assertProblem(escalate, 403, 'FORBIDDEN');
      assert.match(escalate.body.detail, /cannot grant rights you do not hold/);
      const promote = await ts.request('PATCH', `/api/v1/users/${member.id}`, { token: manager.token, body: { roles: ['org-owner'] } });
      assertProblem(promote, 403, 'FORBIDDEN');
      const ownRole = await ts.request('POST', '/api/v1/roles', { token: manager.token, body: { name: 'sneaky', rights: ['policy.manage'] } });
      assertProblem(ownRole, 403, 'FORBIDDEN');
      // Nor may it manage someone who holds more than it does.
      const demote = await ts.request('PATCH', `/api/v1/users/${other.id}`, { token: manager.token, body: { status: 'disabled' } });
      assertProblem(demote, 404, 'NOT_FOUND');
      const adminId = (await ts.request('GET', '/api/v1/me', { token: admin })).body.principal.id;
      assertProblem(await ts.request('PATCH', `/api/v1/users/${adminId}`, { token: manager.token, body: { status: 'disabled' } }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('DELETE', `/api/v1/users/${adminId}`, { token: manager.token }), 403, 'FORBIDDEN');
    });

    it('refuses disabling or deleting oneself', async () => {
      const me = (await ts.request('GET', '/api/v1/me', { token: admin })).body.principal.id;
      assertProblem(await ts.request('PATCH', `/api/v1/users/${me}`, { token: admin, body: { status: 'disabled' } }), 400, 'VALIDATION_FAILED', '/status');
      assertProblem(await ts.request('DELETE', `/api/v1/users/${me}`, { token: admin }), 400, 'VALIDATION_FAILED');
    });

    it('rejects bad input with problem details naming the field, writing nothing', async () => {
      const cases: [unknown, string][] = [
        [{ username: 'x1', password: 12345678901234 }, '/password'],
        [{ username: 'x2' }, '/password'],
        [{ username: 'x3', password: 'short' }, '/password'],
        [{ username: 'bad name!', password: userPassword }, '/username'],
        [{ username: 'x'.repeat(65), password: userPassword }, '/username'],
        [{ username: 'x4', password: userPassword, admin: true }, '/admin'],
        [{ username: 'x5', password: userPassword, roles: ['no-such-role'] }, '/roles/0'],
        [{ username: 'x6', password: userPassword, roles: 'member' }, '/roles'],
        [{ username: 'x7', password: userPassword, ip_allowlist: ['010.0.0.1'] }, '/ip_allowlist'],
        [{ username: 'x8', password: userPassword, ip_allowlist: Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`) }, '/ip_allowlist'],
        [{ username: 'x9', password: userPassword, email: 'not-an-email' }, '/email'],
        [[], '/'],
      ];
      for (const [body, field] of cases) {
        const r = await ts.request('POST', '/api/v1/users', { token: admin, body });
        assertProblem(r, 400, 'VALIDATION_FAILED', field);
      }
      assertProblem(await ts.request('POST', '/api/v1/users', { token: admin, rawBody: '{"username": "x10",', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED', 'body');
      const huge = await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'x11', password: userPassword, display_name: 'y'.repeat(100_000) } });
      assertProblem(huge, 413, 'PAYLOAD_TOO_LARGE', 'body');
      const big = await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'x12', password: userPassword, display_name: 'y'.repeat(201) } });
      assertProblem(big, 400, 'VALIDATION_FAILED', '/display_name');
      assertProblem(await ts.request('PATCH', `/api/v1/users/${member.id}`, { token: admin, body: {} }), 400, 'VALIDATION_FAILED');
      assertProblem(await ts.request('GET', '/api/v1/users/bad%20id', { token: admin }), 400, 'VALIDATION_FAILED', 'id');
      const list = await ts.request('GET', '/api/v1/users?q=x&limit=200', { token: admin });
      assert.deepEqual(list.body.items.filter((u: { username: string }) => /^x\d+$/.test(u.username)), [], 'nothing half-written');
    });

    it('answers 404 for every id of another organization', async () => {
      for (const [method, body] of [['GET', undefined], ['PATCH', { display_name: 'hijack' }], ['DELETE', undefined]] as const) {
        assertProblem(await ts.request(method, `/api/v1/users/${other.id}`, { token: admin, body }), 404, 'NOT_FOUND');
      }
      assertProblem(await ts.request('GET', `/api/v1/users/${member.id}`, { token: other.token }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('GET', `/api/v1/service-accounts/${member.id}`, { token: admin }), 404, 'NOT_FOUND');
      const list = await ts.request('GET', '/api/v1/users?limit=200', { token: other.token });
      assert.deepEqual(list.body.items.map((u: { username: string }) => u.username), ['acme-owner']);
      const foreignGroup = await ts.request('POST', '/api/v1/groups', { token: other.token, body: { name: 'steal', members: [member.id] } });
      assertProblem(foreignGroup, 400, 'VALIDATION_FAILED', '/members/0');
    });
  });

  describe('service accounts', () => {
    it('creates a service account without a password and manages it', async () => {
      const created = await ts.request('POST', '/api/v1/service-accounts', { token: admin, body: { username: 'ci-bot', ip_allowlist: ['192.168.0.0/16'] } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.kind, 'service_account');
      assert.deepEqual(created.body.roles, ['member']);
      const withPassword = await ts.request('POST', '/api/v1/service-accounts', { token: admin, body: { username: 'pw-bot', password: userPassword } });
      assertProblem(withPassword, 400, 'VALIDATION_FAILED', '/password');
      const list = await ts.request('GET', '/api/v1/service-accounts', { token: admin });
      assert.deepEqual(list.body.items.map((s: { username: string }) => s.username), ['ci-bot']);
      assertProblem(await ts.request('GET', `/api/v1/users/${created.body.id}`, { token: admin }), 404);
      const disabled = await ts.request('PATCH', `/api/v1/service-accounts/${created.body.id}`, { token: admin, body: { status: 'disabled' } });
      assert.equal(disabled.body.status, 'disabled');
      assertProblem(await ts.request('POST', '/api/v1/service-accounts', { token: member.token, body: { username: 'm-bot' } }), 403);
    });
  });

  describe('groups', () => {
    it('grants a group role to its members', async () => {
      const dana = await createUser(ts, admin, 'dana');
      const before = await ts.request('GET', '/api/v1/me', { token: dana.token });
      assert.deepEqual(before.body.rights, ['tokens.own']);
      const group = await ts.request('POST', '/api/v1/groups', { token: admin, body: { name: 'auditors', members: [dana.id], roles: ['auditor'] } });
      assert.equal(group.status, 201, group.text);
      assert.deepEqual(group.body.members, [dana.id]);
      const after = await ts.request('GET', '/api/v1/me', { token: dana.token });
      assert.deepEqual(after.body.rights, ['audit.read', 'tokens.own', 'tokens.read_all']);
      assert.equal((await ts.request('GET', '/api/v1/audit-events', { token: dana.token })).status, 200);

      const removed = await ts.request('PATCH', `/api/v1/groups/${group.body.id}`, { token: admin, body: { members: [] } });
      assert.deepEqual(removed.body.members, []);
      assertProblem(await ts.request('GET', '/api/v1/audit-events', { token: dana.token }), 403);

      assertProblem(await ts.request('POST', '/api/v1/groups', { token: admin, body: { name: 'auditors' } }), 409, 'CONFLICT', '/name');
      assertProblem(await ts.request('POST', '/api/v1/groups', { token: manager.token, body: { name: 'owners', roles: ['org-owner'] } }), 403);
      assertProblem(await ts.request('GET', `/api/v1/groups/${group.body.id}`, { token: other.token }), 404);
      assert.equal((await ts.request('DELETE', `/api/v1/groups/${group.body.id}`, { token: admin })).status, 204);
      assertProblem(await ts.request('GET', `/api/v1/groups/${group.body.id}`, { token: admin }), 404);
    });
  });

  describe('roles', () => {
    it('lists built-in roles and manages custom ones', async () => {
      const list = await ts.request('GET', '/api/v1/roles', { token: member.token });
      const names = list.body.items.map((r: { name: string }) => r.name);
      for (const builtin of ['org-owner', 'admin', 'user-manager', 'auditor', 'member']) assert.ok(names.includes(builtin));
      const admins = list.body.items.find((r: { name: string }) => r.name === 'admin');
      assert.ok(!admins.rights.includes('policy.manage'));

      const custom = await ts.request('POST', '/api/v1/roles', { token: admin, body: { name: 'token-admin', rights: ['tokens.all', 'tokens.own'] } });
      assert.equal(custom.status, 201, custom.text);
      assert.equal(custom.body.builtin, false);
      const patched = await ts.request('PATCH', `/api/v1/roles/${custom.body.id}`, { token: admin, body: { rights: ['tokens.all'] } });
      assert.deepEqual(patched.body.rights, ['tokens.all']);
      assertProblem(await ts.request('POST', '/api/v1/roles', { token: admin, body: { name: 'bad', rights: ['root'] } }), 400, 'VALIDATION_FAILED', '/rights/0');
      assertProblem(await ts.request('PATCH', '/api/v1/roles/role_admin', { token: admin, body: { description: 'mine' } }), 409, 'CONFLICT');
      assertProblem(await ts.request('DELETE', '/api/v1/roles/role_member', { token: admin }), 409, 'CONFLICT');
      assertProblem(await ts.request('GET', `/api/v1/roles/${custom.body.id}`, { token: other.token }), 404);
      assert.ok(!(await ts.request('GET', '/api/v1/roles', { token: other.token })).body.items.some((r: { name: string }) => r.name === 'token-admin'));
      assert.equal((await ts.request('DELETE', `/api/v1/roles/${custom.body.id}`, { token: admin })).status, 204);
    });
  });

  describe('organizations', () => {
    it('lets only the instance admin manage organizations, each isolated', async () => {
      const list = await ts.request('GET', '/api/v1/orgs', { token: admin });
      assert.deepEqual(list.body.items.map((o: { name: string }) => o.name), ['acme', 'default']);
      assertProblem(await ts.request('GET', '/api/v1/orgs', { token: other.token }), 403);
      assertProblem(await ts.request('POST', '/api/v1/orgs', { token: other.token, body: { name: 'evil', owner: { username: 'e', password: userPassword } } }), 403);
      const own = await ts.request('GET', `/api/v1/orgs/${other.orgId}`, { token: other.token });
      assert.equal(own.body.name, 'acme');
      assertProblem(await ts.request('GET', '/api/v1/orgs/org_default', { token: other.token }), 403);
      const renamed = await ts.request('PATCH', `/api/v1/orgs/${other.orgId}`, { token: admin, body: { display_name: 'Acme Inc.' } });
      assert.equal(renamed.body.display_name, 'Acme Inc.');
      assertProblem(await ts.request('POST', '/api/v1/orgs', { token: admin, body: { name: 'acme', owner: { username: 'x', password: userPassword } } }), 409, 'CONFLICT', '/name');
      assertProblem(await ts.request('POST', '/api/v1/orgs', { token: admin, body: { name: 'Bad Name', owner: { username: 'x', password: userPassword } } }), 400, 'VALIDATION_FAILED', '/name');
      assertProblem(await ts.request('GET', '/api/v1/orgs/org_nothing', { token: admin }), 404);
      // The same username may exist in two organizations; login picks by organization.
      const twin = await ts.request('POST', '/api/v1/users', { token: other.token, body: { username: 'mia', password: 'acme password 123' } });
      assert.equal(twin.status, 201);
      await ts.login('mia', 'acme password 123', 'acme');
      await ts.login('mia', userPassword);
    });
  });
});
