import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createUser, loginAdmin, userPassword, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * One shared suite over every management route that needs a right: a caller without it is
 * refused with 403 and nothing changes (STYLE 12: unkey's shared role tests). New routes add a
 * row here.
 */
interface Guarded {
  readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'GET';
  readonly path: string;
  readonly body?: unknown;
  /** Roles that lack the right (each must be refused). */
  readonly refused: readonly ('member' | 'auditor' | 'user-manager')[];
}

describe('a caller without the right is refused', () => {
  let ts: TestServer;
  let admin: string;
  const callers: Record<string, TestPrincipal> = {};
  let target: TestPrincipal;
  let groupId: string;
  let roleId: string;

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    for (const role of ['member', 'auditor', 'user-manager'] as const) callers[role] = await createUser(ts, admin, `as-${role}`, [role]);
    target = await createUser(ts, admin, 'target');
    groupId = (await ts.request('POST', '/api/v1/groups', { token: admin, body: { name: 'g' } })).body.id;
    roleId = (await ts.request('POST', '/api/v1/roles', { token: admin, body: { name: 'r', rights: ['tokens.own'] } })).body.id;
  });
  after(async () => ts.close());

  const routes = (): Guarded[] => [
    { method: 'POST', path: '/api/v1/users', body: { username: 'new-user', password: userPassword }, refused: ['member', 'auditor'] },
    { method: 'PATCH', path: `/api/v1/users/${target.id}`, body: { display_name: 'changed' }, refused: ['member', 'auditor'] },
    { method: 'DELETE', path: `/api/v1/users/${target.id}`, refused: ['member', 'auditor'] },
    { method: 'POST', path: '/api/v1/service-accounts', body: { username: 'new-bot' }, refused: ['member', 'auditor'] },
    { method: 'POST', path: '/api/v1/groups', body: { name: 'new-group' }, refused: ['member', 'auditor'] },
    { method: 'PATCH', path: `/api/v1/groups/${groupId}`, body: { description: 'changed' }, refused: ['member', 'auditor'] },
    { method: 'DELETE', path: `/api/v1/groups/${groupId}`, refused: ['member', 'auditor'] },
    { method: 'POST', path: '/api/v1/roles', body: { name: 'new-role', rights: ['tokens.own'] }, refused: ['member', 'auditor', 'user-manager'] },
    { method: 'PATCH', path: `/api/v1/roles/${roleId}`, body: { description: 'changed' }, refused: ['member', 'auditor', 'user-manager'] },
    { method: 'DELETE', path: `/api/v1/roles/${roleId}`, refused: ['member', 'auditor', 'user-manager'] },
    { method: 'GET', path: '/api/v1/orgs', refused: ['member', 'auditor', 'user-manager'] },
    { method: 'POST', path: '/api/v1/orgs', body: { name: 'new-org', owner: { username: 'o', password: userPassword } }, refused: ['member', 'auditor', 'user-manager'] },
    { method: 'PATCH', path: '/api/v1/orgs/org_default', body: { display_name: 'changed' }, refused: ['member', 'auditor', 'user-manager'] },
    { method: 'GET', path: '/api/v1/audit-events', refused: ['member', 'user-manager'] },
    { method: 'POST', path: '/api/v1/tokens/revoke-all', body: { owner: 'admin', issued_before: '2020-01-01T00:00:00Z' }, refused: ['member', 'auditor', 'user-manager'] },
  ];

  it('refuses each route for each role lacking its right, audits it, and changes nothing', async () => {
    const auditBefore = (await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: admin })).body.items.length;
    let refusals = 0;
    for (const route of routes()) {
      for (const role of route.refused) {
        const caller = callers[role] as TestPrincipal;
        const response = await ts.request(route.method, route.path, { token: caller.token, body: route.body });
        assertProblem(response, 403, 'FORBIDDEN');
        assert.match(response.body.detail, /right|instance admin|grant/, `${role} ${route.method} ${route.path}`);
        refusals++;
      }
    }
    const audit = (await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: admin })).body.items;
    const denied = audit.slice(0, audit.length - auditBefore).filter((e: { outcome: string }) => e.outcome === 'denied');
    assert.equal(denied.length, refusals, 'every refusal is audited');
    // Nothing changed.
    assert.equal((await ts.request('GET', `/api/v1/users/${target.id}`, { token: admin })).body.display_name, 'target');
    assert.equal((await ts.request('GET', `/api/v1/groups/${groupId}`, { token: admin })).status, 200);
    assert.equal((await ts.request('GET', `/api/v1/roles/${roleId}`, { token: admin })).status, 200);
    assert.equal((await ts.request('GET', '/api/v1/users?q=new-user', { token: admin })).body.items.length, 0);
  });

  it('lets a caller with the right through each of the same routes', async () => {
    for (const route of routes()) {
      const response = await ts.request(route.method, route.path, { token: admin, body: route.body });
      assert.ok(response.status < 300, `${route.method} ${route.path}: ${response.status} ${response.text}`);
    }
  });
});

/**
 * Issue 12: an organization owner took over the instance admin (password reset, roles [] and
 * DELETE all answered 2xx). Instance-admin status is a right above every organization right.
 */
for (const driver of ['pglite', ...(process.env['TESSERA_TEST_DATABASE_URL'] ? ['postgres' as const] : [])] as const)
describe(`instance admins are above every organization right (${driver})`, () => {
  let ts: TestServer;
  let admin: string;
  let adminId: string;
  let owner: TestPrincipal;

  before(async () => {
    ts = await startTestServer({ driver });
    admin = await loginAdmin(ts);
    adminId = (await ts.request('GET', '/api/v1/me', { token: admin })).body.principal.id;
    owner = await createUser(ts, admin, 'plain-owner', ['org-owner']);
  });
  after(async () => ts.close());

  const attempts = (): { method: string; path: string; body?: unknown }[] => [
    { method: 'PATCH', path: `/api/v1/users/${adminId}`, body: { password: 'the owner took over now' } },
    { method: 'PATCH', path: `/api/v1/users/${adminId}`, body: { roles: [] } },
    { method: 'PATCH', path: `/api/v1/users/${adminId}`, body: { roles: ['member'] } },
    { method: 'PATCH', path: `/api/v1/users/${adminId}`, body: { status: 'disabled' } },
    { method: 'PATCH', path: `/api/v1/users/${adminId}`, body: { display_name: 'renamed' } },
    { method: 'DELETE', path: `/api/v1/users/${adminId}` },
  ];

  it('refuses an org owner every change to the instance admin, with a reason, audited', async () => {
    for (const attempt of attempts()) {
      const response = await ts.request(attempt.method, attempt.path, { token: owner.token, body: attempt.body });
      assertProblem(response, 403, 'FORBIDDEN');
      assert.match(response.body.detail, /instance admin/, `${attempt.method} ${JSON.stringify(attempt.body)}`);
      const audit = await ts.request('GET', `/api/v1/audit-events?target=${adminId}&limit=1`, { token: admin });
      assert.equal(audit.body.items[0].outcome, 'denied');
      assert.equal(audit.body.items[0].actor_principal_id, owner.id);
    }
    // The instance admin still logs in with its password and holds org-owner.
    const me = await ts.request('GET', '/api/v1/me', { token: await loginAdmin(ts) });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.principal.roles, ['org-owner']);
    assert.equal(me.body.principal.display_name, 'admin');
    assert.equal(me.body.principal.status, 'active');
  });

  it('the last instance admin cannot be disabled, deleted or demoted, even by itself', async () => {
    for (const attempt of attempts().filter((a) => !('body' in a) || !/password|display_name/.test(JSON.stringify(a.body)))) {
      const response = await ts.request(attempt.method, attempt.path, { token: admin, body: attempt.body });
      assert.ok(response.status === 403 || response.status === 400, `${attempt.method} ${JSON.stringify(attempt.body)}: ${response.status}`);
      assertProblem(response, response.status);
    }
    const me = await ts.request('GET', '/api/v1/me', { token: admin });
    assert.deepEqual(me.body.principal.roles, ['org-owner']);
    assert.equal(me.body.principal.status, 'active');
  });
});


describe('password resets, role edits and the last instance admin', () => {
  let ts: TestServer;
  let admin: string;
  let adminId: string;

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    adminId = (await ts.request('GET', '/api/v1/me', { token: admin })).body.principal.id;
  });
  after(async () => ts.close());

  it("resets a lesser principal's password: audited, and the target's sessions end", async () => {
    const owner = await createUser(ts, admin, 'resetting-owner', ['org-owner']);
    const target = await createUser(ts, admin, 'reset-me', ['member']);
    const reset = await ts.request('PATCH', `/api/v1/users/${target.id}`, { token: owner.token, body: { password: 'an entirely new password' } });
    assert.equal(reset.status, 200, reset.text);
    assert.equal((await ts.request('GET', '/api/v1/me', { token: target.token })).status, 401, 'the old session has ended');
    const event = (await ts.request('GET', `/api/v1/audit-events?target=${target.id}&limit=1`, { token: admin })).body.items[0];
    assert.equal(event.action, 'user.updated');
    assert.equal(event.details.changes.password, 'reset');
    assert.equal(event.actor_principal_id, owner.id);
    assert.ok(!JSON.stringify(event).includes('an entirely new password'));
    // An admin (no policy.manage) may not reset an org owner's password.
    const lesser = await createUser(ts, admin, 'just-admin', ['admin']);
    const refused = await ts.request('PATCH', `/api/v1/users/${owner.id}`, { token: lesser.token, body: { password: 'an entirely new password' } });
    assertProblem(refused, 403, 'FORBIDDEN');
    assert.match(refused.body.detail, /policy\.manage/);
  });

  it('a role edit or a group change cannot take a right from the last instance admin, not even its own', async () => {
    const role = await ts.request('POST', '/api/v1/roles', { token: admin, body: { name: 'extra', rights: ['tokens.own'] } });
    const group = await ts.request('POST', '/api/v1/groups', { token: admin, body: { name: 'admins', members: [adminId], roles: ['extra'] } });
    assert.equal(group.status, 201, group.text);
    // The admin holds org-owner directly, so losing "extra" takes no right away: allowed.
    assert.equal((await ts.request('PATCH', `/api/v1/groups/${group.body.id}`, { token: admin, body: { members: [] } })).status, 200);
    // Give the admin only member rights directly plus org-owner through a group; then the group is its rank.
    const owners = await ts.request('POST', '/api/v1/groups', { token: admin, body: { name: 'owners', members: [adminId], roles: ['org-owner'] } });
    assert.equal(owners.status, 201, owners.text);
    assert.equal((await ts.request('PATCH', `/api/v1/users/${adminId}`, { token: admin, body: { roles: [] } })).status, 200, 'still org-owner through the group');
    for (const attempt of [
      { method: 'DELETE', path: `/api/v1/groups/${owners.body.id}` },
      { method: 'PATCH', path: `/api/v1/groups/${owners.body.id}`, body: { members: [] } },
      { method: 'PATCH', path: `/api/v1/groups/${owners.body.id}`, body: { roles: ['member'] } },
    ]) {
      const response = await ts.request(attempt.method, attempt.path, { token: admin, body: attempt.body });
      assertProblem(response, 403, 'FORBIDDEN');
      assert.match(response.body.detail, /last instance admin/, `${attempt.method} ${JSON.stringify(attempt.body)}`);
    }
    const audit = (await ts.request('GET', `/api/v1/audit-events?target=${owners.body.id}&limit=1`, { token: admin })).body.items[0];
    assert.equal(audit.outcome, 'denied');
    assert.equal(audit.details.reason, 'last_instance_admin');
    const me = await ts.request('GET', '/api/v1/me', { token: admin });
    assert.ok(me.body.rights.includes('policy.manage'), 'nothing was taken');
    assert.equal(role.status, 201);
  });

  it('a second instance admin may demote the first; then the last one is kept', async () => {
    const store = ts.server.container.store;
    // No API makes an instance admin; the store stands in for the operator.
    const made = await store.principals.create({ id: 'usr_second_admin', orgId: 'org_default', kind: 'user', username: 'second-ia', displayName: 'second-ia', email: null, passwordHash: null, instanceAdmin: true, ipAllowlist: [], createdAt: new Date() });
    await store.principals.setRoles('org_default', made.id, ['role_org-owner']);
    const owner = await createUser(ts, admin, 'an-owner', ['org-owner']);
    assertProblem(await ts.request('PATCH', `/api/v1/users/${made.id}`, { token: owner.token, body: { status: 'disabled' } }), 403, 'FORBIDDEN');
    const disabled = await ts.request('PATCH', `/api/v1/users/${made.id}`, { token: admin, body: { status: 'disabled' } });
    assert.equal(disabled.status, 200, 'one intact instance admin remains');
    assertProblem(await ts.request('DELETE', `/api/v1/users/${adminId}`, { token: admin }), 400);
  });
});

describe('a user manager manages the tokens of those it manages (issue 15)', () => {
  let ts: TestServer;
  let admin: string;
  let manager: TestPrincipal;
  let member: TestPrincipal;
  let boss: TestPrincipal;

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    manager = await createUser(ts, admin, 'um', ['user-manager']);
    // Rights within the manager's own (users.manage): a member holds tokens.own, which a user manager lacks.
    member = await createUser(ts, admin, 'managed', []);
    boss = await createUser(ts, admin, 'boss', ['admin']);
  });
  after(async () => ts.close());

  it('creates, lists, edits, rotates and revokes a managed principal\'s token', async () => {
    const bot = await ts.request('POST', '/api/v1/service-accounts', { token: manager.token, body: { username: 'managed-bot', roles: [] } });
    assert.equal(bot.status, 201, bot.text);
    for (const owner of [member.id, bot.body.id]) {
      const created = await ts.request('POST', '/api/v1/tokens', { token: manager.token, body: { owner, name: 'by-manager', scope: { kind: 'all' } } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.roles, []);
      const id = created.body.id;
      const listed = await ts.request('GET', `/api/v1/tokens?all=true&owner=${owner}`, { token: manager.token });
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.items.map((t: { id: string }) => t.id), [id]);
      assert.equal((await ts.request('GET', `/api/v1/tokens/${id}`, { token: manager.token })).status, 200);
      const edited = await ts.request('PATCH', `/api/v1/tokens/${id}`, { token: manager.token, body: { name: 'renamed-by-manager' } });
      assert.equal(edited.status, 200, edited.text);
      assert.equal((await ts.request('POST', `/api/v1/tokens/${id}/rotate`, { token: manager.token, body: {} })).status, 200);
      const revoked = await ts.request('POST', `/api/v1/tokens/${id}/revoke`, { token: manager.token, body: {} });
      assert.equal(revoked.body.status, 'revoked');
    }
  });

  it('cannot give a token rights its owner lacks, nor touch the tokens of a principal with rights it lacks', async () => {
    const withMember = await createUser(ts, admin, 'has-member', ['member']);
    assertProblem(await ts.request('POST', '/api/v1/tokens', { token: manager.token, body: { owner: withMember.id, scope: { kind: 'all' } } }), 403, 'FORBIDDEN');
    const beyond = await ts.request('POST', '/api/v1/tokens', { token: manager.token, body: { owner: member.id, scope: { kind: 'all' }, roles: ['admin'] } });
    assertProblem(beyond, 400, 'VALIDATION_FAILED', '/roles/0');
    const forBoss = await ts.request('POST', '/api/v1/tokens', { token: manager.token, body: { owner: boss.id, scope: { kind: 'all' } } });
    assertProblem(forBoss, 403, 'FORBIDDEN');
    assert.match(forBoss.body.detail, /rights you lack/);
    const bossToken = await ts.request('POST', '/api/v1/tokens', { token: boss.token, body: { name: 'boss-token', scope: { kind: 'all' } } });
    const id = bossToken.body.id;
    for (const [method, path, body] of [
      ['GET', `/api/v1/tokens/${id}`, undefined],
      ['GET', `/api/v1/tokens?all=true&owner=${boss.id}`, undefined],
      ['GET', '/api/v1/tokens?all=true', undefined],
      ['PATCH', `/api/v1/tokens/${id}`, { name: 'taken' }],
      ['POST', `/api/v1/tokens/${id}/rotate`, {}],
      ['POST', `/api/v1/tokens/${id}/revoke`, {}],
    ] as const) {
      assertProblem(await ts.request(method, path, { token: manager.token, body }), 403, 'FORBIDDEN');
    }
    const shown = await ts.request('GET', `/api/v1/tokens/${id}`, { token: admin });
    assert.equal(shown.body.name, 'boss-token');
    assert.equal(shown.body.status, 'active');
  });
});
