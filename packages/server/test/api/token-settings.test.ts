import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createOrg, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

/**
 * The settings around API tokens through the management API: the organization policy
 * (SPEC 4), organization presets (SPEC 3.5), saved searches (SPEC 3.8) and the audit export
 * (SPEC 6). Happy, error and security cases for each route.
 */
describe('policy, presets, saved searches and the audit export', () => {
  let ts: TestServer;
  const clock = new TestClock();
  let owner: string;
  let admin: TestPrincipal;
  let member: TestPrincipal;
  let auditor: TestPrincipal;
  let foreign: TestPrincipal & { orgId: string };

  before(async () => {
    ts = await startTestServer({ clock });
    owner = await loginAdmin(ts); // the instance admin holds org-owner in the default organization
    admin = await createUser(ts, owner, 'ada', ['admin']);
    member = await createUser(ts, owner, 'max', ['member']);
    auditor = await createUser(ts, owner, 'aud', ['auditor']);
    foreign = await createOrg(ts, owner, 'other-co');
  });
  after(async () => ts.close());

  const auditOf = async (action: string) => (await ts.request('GET', `/api/v1/audit-events?action=${action}&limit=5`, { token: owner })).body.items;

  describe('/policy', () => {
    it('shows every member the documented defaults', async () => {
      const response = await ts.request('GET', '/api/v1/policy', { token: member.token });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, {
        access_token_ttl_seconds: 1800,
        renewable_period_seconds: 90 * 86_400,
        max_token_lifetime_seconds: null,
        default_token_lifetime_seconds: null,
        password_expiry_seconds: null,
        idle_timeout_seconds: null,
        max_tokens_per_user: 5,
        max_tokens_per_service_account: 20,
        allow_no_expiry: false,
        allow_direct_tokens: true,
        refresh_token_rotation: false,
        ip_allowlist: [],
        require_second_factor: false,
      });
    });

    it('changes only with policy.manage: members and admins are refused, audited', async () => {
      for (const caller of [member, admin]) {
        const refused = await ts.request('PUT', '/api/v1/policy', { token: caller.token, body: { max_tokens_per_user: 2 } });
        assertProblem(refused, 403, 'FORBIDDEN');
        assert.match(refused.body.detail, /policy\.manage/);
      }
      const denied = (await ts.request('GET', '/api/v1/audit-events?action=policy.update', { token: owner })).body.items;
      assert.equal(denied.length, 2);
      assert.ok(denied.every((event: { outcome: string }) => event.outcome === 'denied'));
      assert.equal((await ts.request('GET', '/api/v1/policy', { token: owner })).body.max_tokens_per_user, 5);
    });

    it('merges the fields given, audits a diff of what changed, and leaves other organizations alone', async () => {
      const response = await ts.request('PUT', '/api/v1/policy', { token: owner, body: { idle_timeout_seconds: 30 * 86_400, ip_allowlist: ['10.0.0.0/8', '::1', '127.0.0.1'], max_tokens_per_user: 5 } });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.idle_timeout_seconds, 30 * 86_400);
      assert.equal(response.body.access_token_ttl_seconds, 1800, 'fields left out keep their value');
      const [event] = await auditOf('policy.updated');
      assert.deepEqual(Object.keys(event.details.changes).sort(), ['idleTimeoutSeconds', 'ipAllowlist'], 'unchanged fields are not in the diff');
      assert.equal((await ts.request('GET', '/api/v1/policy', { token: foreign.token })).body.idle_timeout_seconds, null);
      await ts.request('PUT', '/api/v1/policy', { token: owner, body: { idle_timeout_seconds: null, ip_allowlist: [] } });
    });

    it('refuses bad input naming the field, changing nothing', async () => {
      const cases: [unknown, string][] = [
        [{}, '/'],
        [{ colour: 'blue' }, '/colour'],
        [{ max_tokens_per_user: '5' }, '/max_tokens_per_user'],
        [{ max_tokens_per_user: 0 }, '/max_tokens_per_user'],
        [{ max_tokens_per_user: 10_001 }, '/max_tokens_per_user'],
        [{ access_token_ttl_seconds: 10 }, '/access_token_ttl_seconds'],
        [{ access_token_ttl_seconds: 1.5 }, '/access_token_ttl_seconds'],
        [{ idle_timeout_seconds: 'never' }, '/idle_timeout_seconds'],
        [{ allow_no_expiry: 'yes' }, '/allow_no_expiry'],
        [{ ip_allowlist: ['010.0.0.1'] }, '/ip_allowlist'],
        [{ ip_allowlist: '10.0.0.1' }, '/ip_allowlist'],
        [{ max_token_lifetime_seconds: 30 * 86_400, default_token_lifetime_seconds: 60 * 86_400 }, '/default_token_lifetime_seconds'],
      ];
      for (const [body, field] of cases) assertProblem(await ts.request('PUT', '/api/v1/policy', { token: owner, body }), 400, 'VALIDATION_FAILED', field);
      assertProblem(await ts.request('PUT', '/api/v1/policy', { token: owner, body: { ip_allowlist: Array.from({ length: 101 }, () => '10.0.0.1') } }), 400, 'VALIDATION_FAILED');
      const current = await ts.request('GET', '/api/v1/policy', { token: owner });
      assert.equal(current.body.max_token_lifetime_seconds, null);
      assert.deepEqual(current.body.ip_allowlist, []);
    });

    it('applies new constraints to tokens created after the change', async () => {
      const before = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'long-lived', expires: '80D', scope: { kind: 'all' } } });
      assert.equal(before.status, 201);
      await ts.request('PUT', '/api/v1/policy', { token: owner, body: { max_token_lifetime_seconds: 30 * 86_400 } });
      const existing = await ts.request('GET', `/api/v1/tokens/${before.body.id}`, { token: member.token });
      assert.equal(existing.body.expires_at, before.body.expires_at, 'an existing token keeps its expiry');
      const refused = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { expires: '80D', scope: { kind: 'all' } } });
      assertProblem(refused, 400, 'EXPIRY_TOO_LONG', '/expires');
      assert.match(refused.body.detail, /30D/);
      await ts.request('PUT', '/api/v1/policy', { token: owner, body: { max_token_lifetime_seconds: null } });
      await ts.request('POST', `/api/v1/tokens/${before.body.id}/revoke`, { token: member.token });
    });
  });

  describe('/presets', () => {
    const preset = { name: 'provisioning', description: 'SCIM from the IdP', endpoints: ['/scim/v2/Users', 'GET /scim/v2/Schemas'], mode: 'direct', scope_locked: true, default_lifetime: '30D' };
    let id: string;

    it('lets policy.manage define one, audited, and refuses others', async () => {
      assertProblem(await ts.request('POST', '/api/v1/presets', { token: member.token, body: preset }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('POST', '/api/v1/presets', { token: admin.token, body: preset }), 403, 'FORBIDDEN');
      const created = await ts.request('POST', '/api/v1/presets', { token: owner, body: preset });
      assert.equal(created.status, 201, created.text);
      id = created.body.id;
      assert.deepEqual(created.body, { id, name: 'provisioning', description: 'SCIM from the IdP', endpoints: ['/scim/v2/Users', 'GET /scim/v2/Schemas'], mode: 'direct', scope_locked: true, default_lifetime_seconds: 30 * 86_400, source: 'organization' });
      const listed = await ts.request('GET', '/api/v1/presets', { token: member.token });
      assert.deepEqual(listed.body.items.map((p: { name: string }) => p.name), ['provisioning'], 'any member sees them');
      assert.deepEqual((await ts.request('GET', '/api/v1/presets', { token: foreign.token })).body.items, [], 'not beyond the organization');
      assert.equal((await auditOf('preset.created'))[0].target_id, id);
      assertProblem(await ts.request('POST', '/api/v1/presets', { token: owner, body: preset }), 409, 'CONFLICT', '/name');
    });

    it('refuses bad definitions naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ ...preset, name: 'x', endpoints: ['plans'] }, '/endpoints'],
        [{ ...preset, name: 'x', endpoints: [] }, '/endpoints'],
        [{ ...preset, name: 'x', endpoints: ['/ok', '/pl*ns'] }, '/endpoints'],
        [{ ...preset, name: 'all' }, '/name'],
        [{ ...preset, name: 'Upper' }, '/name'],
        [{ ...preset, name: 'x', mode: 'bearer' }, '/mode'],
        [{ ...preset, name: 'x', default_lifetime: '1.5D' }, '/default_lifetime'],
        [{ ...preset, name: 'x', scope_locked: 'yes' }, '/scope_locked'],
        [{ ...preset, name: 'x', colour: 'blue' }, '/colour'],
        [{ name: 'x', mode: 'direct' }, '/endpoints'],
      ];
      for (const [body, field] of cases) assertProblem(await ts.request('POST', '/api/v1/presets', { token: owner, body }), 400, 'VALIDATION_FAILED', field);
    });

    it('creates direct tokens from it, locked to its scope', async () => {
      const token = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'idp', scope: { kind: 'provisioning' } } });
      assert.equal(token.status, 201, token.text);
      assert.equal(token.body.mode, 'direct');
      assert.equal(Date.parse(token.body.expires_at) - clock.now().getTime(), 30 * 86_400_000, 'the preset default lifetime');
      const locked = await ts.request('PATCH', `/api/v1/tokens/${token.body.id}`, { token: member.token, body: { scope: { kind: 'custom', endpoints: ['/admin'] } } });
      assertProblem(locked, 409, 'CONFLICT', '/scope');
      assertProblem(await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { scope: { kind: 'provisioning', endpoints: ['/x'] } } }), 400, 'VALIDATION_FAILED', '/scope/endpoints');
      await ts.request('POST', `/api/v1/tokens/${token.body.id}/revoke`, { token: member.token });
    });

    it('changes a preset for the tokens created after, audited with a diff', async () => {
      const earlier = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'earlier', scope: { kind: 'provisioning' } } });
      assertProblem(await ts.request('PATCH', `/api/v1/presets/${id}`, { token: member.token, body: { endpoints: ['/scim/v2/*'] } }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('PATCH', `/api/v1/presets/${id}`, { token: foreign.token, body: { endpoints: ['/scim/v2/*'] } }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('PATCH', `/api/v1/presets/${id}`, { token: owner, body: { name: 'renamed' } }), 400, 'VALIDATION_FAILED', '/name');
      assertProblem(await ts.request('PATCH', `/api/v1/presets/${id}`, { token: owner, body: { endpoints: ['scim'] } }), 400, 'VALIDATION_FAILED', '/endpoints');
      assertProblem(await ts.request('PATCH', `/api/v1/presets/${id}`, { token: owner, body: {} }), 400, 'VALIDATION_FAILED');
      const changed = await ts.request('PATCH', `/api/v1/presets/${id}`, { token: owner, body: { endpoints: ['/scim/v2/*'], default_lifetime: null } });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual(changed.body.endpoints, ['/scim/v2/*']);
      assert.equal(changed.body.default_lifetime_seconds, null);
      const [event] = await auditOf('preset.updated');
      assert.deepEqual(Object.keys(event.details.changes).sort(), ['defaultLifetimeSeconds', 'endpoints']);
      assert.deepEqual((await ts.request('GET', `/api/v1/tokens/${earlier.body.id}`, { token: member.token })).body.scope.endpoints, ['/scim/v2/Users', 'GET /scim/v2/Schemas'], 'an existing token keeps its endpoints');
      const later = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'later', scope: { kind: 'provisioning' } } });
      assert.deepEqual(later.body.scope.endpoints, ['/scim/v2/*']);
      for (const t of [earlier, later]) await ts.request('POST', `/api/v1/tokens/${t.body.id}/revoke`, { token: member.token });
    });

    it('deletes with policy.manage only, within the organization', async () => {
      assertProblem(await ts.request('DELETE', `/api/v1/presets/${id}`, { token: member.token }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('DELETE', `/api/v1/presets/${id}`, { token: foreign.token }), 404, 'NOT_FOUND');
      assert.equal((await ts.request('DELETE', `/api/v1/presets/${id}`, { token: owner })).status, 204);
      assertProblem(await ts.request('DELETE', `/api/v1/presets/${id}`, { token: owner }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { scope: { kind: 'provisioning' } } }), 400, 'VALIDATION_FAILED', '/scope/kind');
      assert.equal((await auditOf('preset.deleted'))[0].target_id, id);
    });
  });

  describe('/saved-searches', () => {
    it('saves a runnable search, checking its parameters like the list does', async () => {
      const cases: [unknown, string][] = [
        [{ colour: 'blue' }, '/query/colour'],
        [{ status: 'sleeping' }, '/query/status'],
        [{ sort: 'secret' }, '/query/sort'],
        [{ limit: '500' }, '/query/limit'],
        [{ unused_days: '1.5' }, '/query/unused_days'],
        [{ used_since: 'yesterday' }, '/query/used_since'],
        [{ all: true }, '/query/all'],
        [{ cursor: 'abc' }, '/query/cursor'],
      ];
      for (const [query, field] of cases) {
        assertProblem(await ts.request('POST', '/api/v1/saved-searches', { token: admin.token, body: { name: 'bad', query } }), 400, 'VALIDATION_FAILED', field);
      }
      assertProblem(await ts.request('POST', '/api/v1/saved-searches', { token: admin.token, body: { query: {} } }), 400, 'VALIDATION_FAILED', '/name');
      const query = { all: 'true', status: 'active', q: 'max', sort: '-created_at', limit: '20', unused_days: '30' };
      const saved = await ts.request('POST', '/api/v1/saved-searches', { token: admin.token, body: { name: 'max unused', query, shared: true } });
      assert.equal(saved.status, 201, saved.text);
      assert.deepEqual(saved.body.query, query);
      const run = await ts.request('GET', `/api/v1/tokens?${new URLSearchParams(saved.body.query)}`, { token: admin.token });
      assert.equal(run.status, 200, 'the saved parameters run as they are');
      assertProblem(await ts.request('POST', '/api/v1/saved-searches', { token: admin.token, body: { name: 'max unused', query: {} } }), 409, 'CONFLICT', '/name');
      assert.equal((await auditOf('saved_search.created'))[0].target_id, saved.body.id);
    });

    it('shares within the organization; only the owner edits; other organizations see nothing', async () => {
      const shared = (await ts.request('GET', '/api/v1/saved-searches', { token: auditor.token })).body.items;
      assert.deepEqual(shared.map((s: { name: string }) => s.name), ['max unused']);
      const id = shared[0].id;
      const personal = await ts.request('POST', '/api/v1/saved-searches', { token: admin.token, body: { name: 'mine only', query: { status: 'revoked' } } });
      assert.deepEqual((await ts.request('GET', '/api/v1/saved-searches', { token: auditor.token })).body.items.map((s: { name: string }) => s.name), ['max unused'], 'a private search stays private');
      assertProblem(await ts.request('PATCH', `/api/v1/saved-searches/${id}`, { token: auditor.token, body: { name: 'hijacked' } }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('DELETE', `/api/v1/saved-searches/${id}`, { token: auditor.token }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('PATCH', `/api/v1/saved-searches/${personal.body.id}`, { token: auditor.token, body: { name: 'x' } }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('PATCH', `/api/v1/saved-searches/${id}`, { token: foreign.token, body: { shared: false } }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('DELETE', `/api/v1/saved-searches/${id}`, { token: foreign.token }), 404, 'NOT_FOUND');
      assert.deepEqual((await ts.request('GET', '/api/v1/saved-searches', { token: foreign.token })).body.items, []);
      assertProblem(await ts.request('PATCH', `/api/v1/saved-searches/${id}`, { token: admin.token, body: { query: { status: 'nope' } } }), 400, 'VALIDATION_FAILED', '/query/status');
      const unshared = await ts.request('PATCH', `/api/v1/saved-searches/${id}`, { token: admin.token, body: { shared: false } });
      assert.equal(unshared.body.shared, false);
      assert.deepEqual((await ts.request('GET', '/api/v1/saved-searches', { token: auditor.token })).body.items, []);
      assert.equal((await ts.request('DELETE', `/api/v1/saved-searches/${id}`, { token: admin.token })).status, 204);
      assert.deepEqual((await auditOf('saved_search.*')).map((e: { action: string }) => e.action).slice(0, 2), ['saved_search.deleted', 'saved_search.updated']);
    });
  });

  describe('token routes at their edges', () => {
    it('answers another organization\'s token id with 404 on every route, changing nothing', async () => {
      const theirs = await ts.request('POST', '/api/v1/tokens', { token: foreign.token, body: { name: 'foreign', scope: { kind: 'all' } } });
      assert.equal(theirs.status, 201);
      const id = theirs.body.id;
      assertProblem(await ts.request('GET', `/api/v1/tokens/${id}`, { token: owner }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('PATCH', `/api/v1/tokens/${id}`, { token: owner, body: { name: 'stolen' } }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('POST', `/api/v1/tokens/${id}/rotate`, { token: owner }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('POST', `/api/v1/tokens/${id}/revoke`, { token: owner }), 404, 'NOT_FOUND');
      assert.deepEqual((await ts.request('GET', `/api/v1/tokens?all=true&q=foreign`, { token: owner })).body.items, []);
      const after = await ts.request('GET', `/api/v1/tokens/${id}`, { token: foreign.token });
      assert.equal(after.body.name, 'foreign');
      assert.equal(after.body.status, 'active');
    });

    it('refuses oversized and malformed requests before they reach the service', async () => {
      const big = 'x'.repeat(70_000);
      assert.equal((await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: big, scope: { kind: 'all' } } })).status, 413);
      assert.equal((await ts.request('PUT', '/api/v1/policy', { token: owner, body: { ip_allowlist: [big] } })).status, 413);
      assertProblem(await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { scope: { kind: 'custom', endpoints: Array.from({ length: 101 }, (_, i) => `/p${i}`) } } }), 400, 'VALIDATION_FAILED', '/scope/endpoints');
      assertProblem(await ts.request('POST', '/api/v1/tokens', { token: member.token, rawBody: 'scope=all', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
      assertProblem(await ts.request('PATCH', '/api/v1/tokens/not%20an%20id', { token: member.token, body: { name: 'x' } }), 400, 'VALIDATION_FAILED', 'id');
      const mine = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'edge', scope: { kind: 'all' } } });
      assertProblem(await ts.request('POST', `/api/v1/tokens/${mine.body.id}/rotate`, { token: member.token, body: { grace: '1.5h' } }), 400, 'VALIDATION_FAILED', '/grace');
      assertProblem(await ts.request('POST', `/api/v1/tokens/${mine.body.id}/rotate`, { token: member.token, body: { grace: '1h', keep: true } }), 400, 'VALIDATION_FAILED', '/keep');
      assertProblem(await ts.request('POST', `/api/v1/tokens/${mine.body.id}/revoke`, { token: member.token, body: { reason: 7 } }), 400, 'VALIDATION_FAILED', '/reason');
      assertProblem(await ts.request('PATCH', `/api/v1/tokens/${mine.body.id}`, { token: member.token, body: { expires: '1.5D' } }), 400, 'VALIDATION_FAILED', '/expires');
      assertProblem(await ts.request('PATCH', `/api/v1/tokens/${mine.body.id}`, { token: member.token, body: { ip_allowlist: ['010.0.0.1'] } }), 400, 'VALIDATION_FAILED', '/ip_allowlist');
      assertProblem(await ts.request('PATCH', `/api/v1/tokens/${mine.body.id}`, { token: member.token, body: { scope: { kind: 'custom', endpoints: ['plans'] } } }), 400, 'VALIDATION_FAILED', '/scope/endpoints');
      const unchanged = await ts.request('GET', `/api/v1/tokens/${mine.body.id}`, { token: member.token });
      assert.equal(unchanged.body.status, 'active');
      assert.equal(unchanged.body.updated_at, mine.body.updated_at, 'nothing changed');
      await ts.request('POST', `/api/v1/tokens/${mine.body.id}/revoke`, { token: member.token });
      assertProblem(await ts.request('GET', '/api/v1/tokens?limit=1000', { token: member.token }), 400, 'VALIDATION_FAILED', 'limit');
      assertProblem(await ts.request('GET', '/api/v1/tokens?unused_days=-1', { token: member.token }), 400, 'VALIDATION_FAILED', 'unused_days');
      assertProblem(await ts.request('GET', '/api/v1/tokens?used_since=yesterday', { token: member.token }), 400, 'VALIDATION_FAILED', 'used_since');
      assertProblem(await ts.request('GET', '/api/v1/tokens?colour=blue', { token: member.token }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('/audit-events/export', () => {
    it('streams the filtered log as JSON Lines to audit.read holders only', async () => {
      assertProblem(await ts.request('GET', '/api/v1/audit-events/export', { token: member.token }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('GET', '/api/v1/audit-events/export', { headers: { authorization: 'Bearer nonsense' } }), 401);
      assertProblem(await ts.request('GET', '/api/v1/audit-events/export?action=Not+Valid', { token: auditor.token }), 400, 'VALIDATION_FAILED', 'action');
      assertProblem(await ts.request('GET', '/api/v1/audit-events/export?limit=5', { token: auditor.token }), 400, 'VALIDATION_FAILED', 'limit');
      const all = await ts.request('GET', '/api/v1/audit-events/export', { token: auditor.token });
      assert.equal(all.status, 200);
      assert.match(all.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      const events = all.text.trim().split('\n').map((line) => JSON.parse(line));
      const paged = (await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: auditor.token })).body.items;
      assert.deepEqual(events.map((e: { id: string }) => e.id), paged.map((e: { id: string }) => e.id), 'the same events as the paged list, newest first');
      const policy = (await ts.request('GET', '/api/v1/audit-events/export?action=policy.*', { token: auditor.token })).text.trim().split('\n').map((line) => JSON.parse(line));
      assert.ok(policy.length >= 3 && policy.every((e: { action: string }) => e.action.startsWith('policy.')));
      const foreignExport = await ts.request('GET', '/api/v1/audit-events/export', { token: foreign.token });
      assert.equal(foreignExport.status, 200);
      for (const id of [admin.id, member.id, auditor.id]) assert.ok(!foreignExport.text.includes(id), 'another organization exports only its own events');
    });
  });
});
