import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createOrg, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

const custom = (endpoints: string[]) => ({ kind: 'custom', endpoints });

describe('API tokens through the management API', () => {
  let ts: TestServer;
  const clock = new TestClock();
  let admin: string;
  let member: TestPrincipal;
  let other: TestPrincipal;
  let auditor: TestPrincipal;
  let foreign: TestPrincipal & { orgId: string };
  /** Every token string the tests were given, searched for at the end. */
  const secrets: string[] = [];
  /** Responses that legitimately carry a secret: create and rotate. */
  const carriers = new Set<string>();

  before(async () => {
    ts = await startTestServer({ clock });
    admin = await loginAdmin(ts);
    member = await createUser(ts, admin, 'mona', ['member']);
    other = await createUser(ts, admin, 'otto', ['member']);
    auditor = await createUser(ts, admin, 'audrey', ['auditor']);
    foreign = await createOrg(ts, admin, 'faraway');
  });
  after(async () => ts.close());

  const create = async (token: string, body: Record<string, unknown>) => {
    const response = await ts.request('POST', '/api/v1/tokens', { token, body });
    if (response.status === 201) {
      secrets.push(response.body.token, response.body.token.split('.')[1].slice(0, 32));
      if (response.body.access_token) secrets.push(response.body.access_token);
      carriers.add(response.text);
    }
    return response;
  };

  it('creates a refreshable token for oneself, shown once, with a first access token', async () => {
    const response = await create(member.token, { name: 'ci', expires: '180D', scope: custom(['/plans', 'GET /clients']), ip_allowlist: ['10.0.0.0/8'] });
    assert.equal(response.status, 201, response.text);
    const body = response.body;
    assert.match(body.token, /^tsr_[0-9A-Za-z]{12}\.[0-9A-Za-z]{38}$/);
    assert.ok(body.token.startsWith(`tsr_${body.id}.`));
    assert.equal(body.mode, 'refreshable');
    assert.equal(body.owner, 'mona');
    assert.deepEqual(body.scope, { kind: 'custom', endpoints: ['/plans', 'GET /clients'] });
    assert.deepEqual(body.roles, ['member']);
    assert.equal(body.status, 'active');
    assert.equal(Date.parse(body.expires_at) - clock.now().getTime(), 180 * 86_400_000);
    assert.equal(typeof body.access_token, 'string');
    assert.equal(body.expires_in, 1800);
    assert.equal(response.headers.get('cache-control'), 'no-store');

    const shown = await ts.request('GET', `/api/v1/tokens/${body.id}`, { token: member.token });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.token, undefined, 'the secret is never shown again');
    assert.equal(shown.body.display_prefix, `tsr_${body.id}`);
  });

  it('uses the default name <owner>_api_token, numbers a second default-named one, and refuses a duplicate given name', async () => {
    const first = await create(other.token, { scope: { kind: 'all' } });
    assert.equal(first.body.name, 'otto_api_token');
    const second = await create(other.token, { scope: { kind: 'all' } });
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.name, 'otto_api_token_2');
    assertProblem(await create(other.token, { name: 'otto_api_token', scope: { kind: 'all' } }), 409, 'CONFLICT', '/name');
    await ts.request('POST', `/api/v1/tokens/${second.body.id}/revoke`, { token: other.token });
  });

  it('lists only the caller\'s own tokens; tokens.all sees the organization, never another one', async () => {
    const own = await ts.request('GET', '/api/v1/tokens', { token: member.token });
    assert.deepEqual(own.body.items.map((t: { owner: string }) => t.owner), ['mona']);
    assertProblem(await ts.request('GET', '/api/v1/tokens?all=true', { token: member.token }), 403, 'FORBIDDEN');
    const all = await ts.request('GET', '/api/v1/tokens?all=true&sort=owner', { token: admin });
    assert.deepEqual([...new Set(all.body.items.map((t: { owner: string }) => t.owner))], ['mona', 'otto']);
    const otherId = all.body.items.find((t: { owner: string }) => t.owner === 'otto').id;
    assertProblem(await ts.request('GET', `/api/v1/tokens/${otherId}`, { token: member.token }), 403);
    assertProblem(await ts.request('GET', `/api/v1/tokens/${otherId}`, { token: foreign.token }), 404, 'NOT_FOUND');
    assertProblem(await ts.request('POST', `/api/v1/tokens/${otherId}/revoke`, { token: foreign.token }), 404, 'NOT_FOUND');
    assert.deepEqual((await ts.request('GET', '/api/v1/tokens?all=true', { token: foreign.token })).body.items, []);
  });

  it('lets an auditor list all tokens but not revoke them; a member cannot create for someone else', async () => {
    const all = await ts.request('GET', '/api/v1/tokens?all=true', { token: auditor.token });
    assert.equal(all.status, 200);
    assert.ok(all.body.items.length >= 2);
    assertProblem(await ts.request('POST', `/api/v1/tokens/${all.body.items[0].id}/revoke`, { token: auditor.token }), 403, 'FORBIDDEN');
    assertProblem(await create(member.token, { owner: 'otto', scope: { kind: 'all' } }), 403, 'FORBIDDEN');
    const forOther = await create(admin, { owner: 'otto', name: 'made-by-admin', scope: { kind: 'all' } });
    assert.equal(forOther.status, 201);
    assert.equal(forOther.body.owner, 'otto');
    assert.notEqual(forOther.body.created_by, forOther.body.owner_id);
  });

  it('edits name, expiry, scope, roles and allowlist, auditing a field diff without the secret', async () => {
    const created = await create(member.token, { name: 'to-edit', scope: { kind: 'all' } });
    const edited = await ts.request('PATCH', `/api/v1/tokens/${created.body.id}`, {
      token: member.token,
      body: { name: 'edited', expires: '30D', scope: custom(['/reports/*']), ip_allowlist: ['192.168.1.1 - 192.168.1.20'] },
    });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.name, 'edited');
    assert.deepEqual(edited.body.scope, { kind: 'custom', endpoints: ['/reports/*'] });
    const audit = await ts.request('GET', `/api/v1/audit-events?target=${created.body.id}`, { token: admin });
    assert.deepEqual(audit.body.items.map((e: { action: string }) => e.action), ['token.updated', 'token.created']);
    assert.deepEqual(audit.body.items[0].details.changes.name, { from: 'to-edit', to: 'edited' });
    assert.deepEqual(Object.keys(audit.body.items[0].details.changes).sort(), ['endpoints', 'expires_at', 'ip_allowlist', 'name', 'scope']);
    assertProblem(await ts.request('PATCH', `/api/v1/tokens/${created.body.id}`, { token: member.token, body: { roles: ['admin'] } }), 400, 'VALIDATION_FAILED', '/roles/0');
  });

  it('rotates with a grace period: the old secret works until the grace ends, and not after', async () => {
    const created = await create(member.token, { name: 'rotating', scope: { kind: 'all' } });
    const rotated = await ts.request('POST', `/api/v1/tokens/${created.body.id}/rotate`, { token: member.token, body: { grace: '1h' } });
    assert.equal(rotated.status, 200, rotated.text);
    secrets.push(rotated.body.token);
    carriers.add(rotated.text);
    assert.notEqual(rotated.body.token, created.body.token);
    assert.equal(rotated.body.id, created.body.id);
    const exchange = (token: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token });
    assert.equal((await exchange(created.body.token)).status, 200, 'old secret within the grace');
    assert.equal((await exchange(rotated.body.token)).status, 200, 'new secret');
    clock.advance(3601);
    // The login sessions went idle meanwhile.
    admin = await loginAdmin(ts);
    member = { ...member, token: await ts.login('mona', 'a long enough password') };
    auditor = { ...auditor, token: await ts.login('audrey', 'a long enough password') };
    foreign = { ...foreign, token: await ts.login('faraway-owner', 'a long enough password', 'faraway') };
    assert.equal((await exchange(created.body.token)).status, 400, 'old secret after the grace');
    assert.equal((await exchange(rotated.body.token)).status, 200);
    const noGrace = await ts.request('POST', `/api/v1/tokens/${created.body.id}/rotate`, { token: member.token });
    secrets.push(noGrace.body.token);
    carriers.add(noGrace.text);
    assert.equal((await exchange(rotated.body.token)).status, 400, 'without a grace the old secret stops at once');
    assertProblem(await ts.request('POST', `/api/v1/tokens/${created.body.id}/rotate`, { token: member.token, body: { grace: '8D' } }), 400, 'VALIDATION_FAILED', '/grace');
  });

  it('revokes irreversibly and idempotently', async () => {
    const created = await create(member.token, { name: 'to-revoke', scope: { kind: 'all' } });
    const first = await ts.request('POST', `/api/v1/tokens/${created.body.id}/revoke`, { token: member.token, body: { reason: 'leaked in a log' } });
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'revoked');
    assert.equal(first.body.revoke_reason, 'leaked in a log');
    const second = await ts.request('POST', `/api/v1/tokens/${created.body.id}/revoke`, { token: member.token });
    assert.equal(second.status, 200);
    assert.equal(second.body.revoked_at, first.body.revoked_at, 'the first revocation stands');
    assertProblem(await ts.request('PATCH', `/api/v1/tokens/${created.body.id}`, { token: member.token, body: { name: 'revive' } }), 409, 'CONFLICT');
    assertProblem(await ts.request('POST', `/api/v1/tokens/${created.body.id}/rotate`, { token: member.token }), 409, 'CONFLICT');
    const refused = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    const audit = await ts.request('GET', `/api/v1/audit-events?target=${created.body.id}&action=token.revoked`, { token: admin });
    assert.equal(audit.body.items.length, 1, 'revoked once');
  });

  it('refuses bad input with problem details naming the field, creating nothing', async () => {
    const before = (await ts.request('GET', '/api/v1/tokens', { token: member.token })).body.items.length;
    const cases: [Record<string, unknown>, number, string][] = [
      [{ scope: { kind: 'all' }, expires: '1.5D' }, 400, '/expires'],
      [{ scope: { kind: 'all' }, expires: '0D' }, 400, '/expires'],
      [{ scope: { kind: 'all' }, expires: '2020-01-01' }, 400, '/expires'],
      [{ scope: { kind: 'all' }, expires: 180 }, 400, '/expires'],
      [{ scope: { kind: 'all' }, expires: null }, 400, '/expires'],
      [{ scope: { kind: 'all' }, ip_allowlist: ['010.0.0.1'] }, 400, '/ip_allowlist'],
      [{ scope: custom(['plans']) }, 400, '/scope/endpoints'],
      [{ scope: custom([]) }, 400, '/scope/endpoints'],
      [{ scope: { kind: 'all', endpoints: ['/x'] } }, 400, '/scope/endpoints'],
      [{ scope: { kind: 'nonsense' } }, 400, '/scope/kind'],
      [{ scope: { kind: 'all' }, roles: ['org-owner'] }, 400, '/roles/0'],
      [{ scope: { kind: 'all' }, owner: 'nobody' }, 403, ''],
      [{ scope: { kind: 'all' }, colour: 'blue' }, 400, '/colour'],
      [{ scope: 'all' }, 400, '/scope'],
      [{}, 400, '/scope'],
      [{ scope: { kind: 'all' }, name: 'x'.repeat(101) }, 400, '/name'],
    ];
    for (const [body, status, field] of cases) {
      const response = await create(member.token, body);
      assertProblem(response, status, undefined, field || undefined);
    }
    const expiry = await create(member.token, { scope: { kind: 'all' }, expires: '1.5D' });
    assert.match(expiry.body.detail, /180D|ISO 8601/, 'the message names the accepted forms');
    const ip = await create(member.token, { scope: { kind: 'all' }, ip_allowlist: ['010.0.0.1'] });
    assert.match(ip.body.detail, /leading zeros/);
    assertProblem(await ts.request('POST', '/api/v1/tokens', { token: member.token, rawBody: '{"scope":', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED', 'body');
    assertProblem(await ts.request('GET', '/api/v1/tokens?sort=secret', { token: member.token }), 400, 'VALIDATION_FAILED', 'sort');
    assertProblem(await ts.request('GET', '/api/v1/tokens?status=sleeping', { token: member.token }), 400, 'VALIDATION_FAILED', 'status');
    assertProblem(await ts.request('GET', '/api/v1/tokens?cursor=bogus', { token: member.token }), 400, 'VALIDATION_FAILED', 'cursor');
    assert.equal((await ts.request('GET', '/api/v1/tokens', { token: member.token })).body.items.length, before, 'nothing half-written');
  });

  it('enforces the policy: maximum expiry named, no-expiry only when allowed, limit named', async () => {
    assertProblem(await ts.request('PUT', '/api/v1/policy', { token: member.token, body: { max_tokens_per_user: 3 } }), 403, 'FORBIDDEN');
    const policy = await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_token_lifetime_seconds: 90 * 86_400, max_tokens_per_user: 6 } });
    assert.equal(policy.status, 200, policy.text);
    const tooLong = await create(member.token, { scope: { kind: 'all' }, expires: '1Y' });
    assertProblem(tooLong, 400, 'EXPIRY_TOO_LONG', '/expires');
    assert.match(tooLong.body.detail, /90D/);
    const defaulted = await create(member.token, { name: 'defaulted', scope: { kind: 'all' } });
    assert.equal(Date.parse(defaulted.body.expires_at) - clock.now().getTime(), 90 * 86_400_000);
    let refused;
    for (let i = 0; i < 10 && !refused; i++) {
      const response = await create(member.token, { name: `fill-${i}`, scope: { kind: 'all' } });
      if (response.status !== 201) refused = response;
    }
    assert.ok(refused);
    assertProblem(refused, 409, 'TOKEN_LIMIT_REACHED');
    assert.match(refused.body.detail, /limit of 6/);
    assert.match(refused.body.detail, /revoke a token first/);
    assert.equal(refused.body.limit, 6);
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_token_lifetime_seconds: null, max_tokens_per_user: 5 } });
  });

  it('filters, searches, sorts and pages the admin list, and saves searches shared in the organization', async () => {
    const page1 = await ts.request('GET', '/api/v1/tokens?all=true&sort=name&limit=3', { token: admin });
    assert.equal(page1.body.items.length, 3);
    const names1 = page1.body.items.map((t: { name: string }) => t.name);
    assert.deepEqual(names1, [...names1].sort());
    const page2 = await ts.request('GET', `/api/v1/tokens?all=true&sort=name&limit=3&cursor=${page1.body.next_cursor}`, { token: admin });
    assert.ok(page2.body.items[0].name >= names1[2]);
    assert.equal(new Set([...names1, ...page2.body.items.map((t: { name: string }) => t.name)]).size, 6, 'no overlap between pages');
    const revoked = await ts.request('GET', '/api/v1/tokens?all=true&status=revoked', { token: admin });
    assert.ok(revoked.body.items.every((t: { status: string }) => t.status === 'revoked'));
    const search = await ts.request('GET', '/api/v1/tokens?all=true&q=OTTO', { token: admin });
    assert.ok(search.body.items.length >= 2 && search.body.items.every((t: { owner: string }) => t.owner === 'otto'));
    const never = await ts.request('GET', '/api/v1/tokens?all=true&usage=never_used', { token: admin });
    assert.ok(never.body.items.every((t: { last_used_at: string | null }) => t.last_used_at === null));
    const desc = await ts.request('GET', '/api/v1/tokens?all=true&sort=-expires_at&limit=200', { token: admin });
    const expiries = desc.body.items.map((t: { expires_at: string | null }) => (t.expires_at === null ? Infinity : Date.parse(t.expires_at)));
    assert.deepEqual(expiries, [...expiries].sort((a, b) => b - a));

    const saved = await ts.request('POST', '/api/v1/saved-searches', { token: admin, body: { name: 'revoked ones', query: { status: 'revoked', sort: '-created_at' }, shared: true } });
    assert.equal(saved.status, 201);
    const visible = await ts.request('GET', '/api/v1/saved-searches', { token: auditor.token });
    assert.deepEqual(visible.body.items.map((s: { name: string }) => s.name), ['revoked ones']);
    assertProblem(await ts.request('DELETE', `/api/v1/saved-searches/${saved.body.id}`, { token: auditor.token }), 403);
    assert.deepEqual((await ts.request('GET', '/api/v1/saved-searches', { token: foreign.token })).body.items, [], 'not shared beyond the organization');
    assertProblem(await ts.request('PATCH', `/api/v1/saved-searches/${saved.body.id}`, { token: foreign.token, body: { shared: false } }), 404);
  });

  it('exports the audit log as JSON Lines', async () => {
    const response = await ts.request('GET', '/api/v1/audit-events/export?action=token.*', { token: admin });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = response.text.trim().split('\n').map((line) => JSON.parse(line));
    assert.ok(lines.length > 5);
    assert.ok(lines.every((event: { action: string }) => event.action.startsWith('token.')));
    assertProblem(await ts.request('GET', '/api/v1/audit-events/export', { token: member.token }), 403);
  });

  it('never shows a token secret anywhere but its create or rotate response, nor in any log', async () => {
    await ts.server.container.usage.flush();
    assert.ok(secrets.length > 10);
    for (const secret of secrets) {
      const leaks = ts.responses.filter((body) => body.includes(secret) && !carriers.has(body));
      assert.deepEqual(leaks, [], 'a secret in a response other than create/rotate');
      assert.deepEqual(ts.logs.lines.filter((line) => line.includes(secret)), [], 'a secret in the logs');
    }
    const audit = await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: admin });
    for (const secret of secrets) assert.ok(!audit.text.includes(secret), 'a secret in the audit log');
  });
});
