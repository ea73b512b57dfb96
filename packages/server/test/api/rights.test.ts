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
