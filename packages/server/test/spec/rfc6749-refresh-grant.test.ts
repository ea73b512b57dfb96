import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { basic, createApp, createOrg, createUser, loginAdmin, userPassword, type TestPrincipal } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

/**
 * RFC 6749 §6 with API tokens as refresh tokens: exchange, scope narrowing, rotation with
 * RFC 9700 reuse detection, IP allowlists behind trusted proxies, direct tokens, introspection
 * of every inactive kind, and the SPEC 2 restrictions on token-derived callers.
 */
describe('refresh_token grant with API tokens', () => {
  let ts: TestServer;
  const clock = new TestClock();
  let admin: string;
  let user: TestPrincipal;
  let introspector: { clientId: string; clientSecret: string };

  before(async () => {
    ts = await startTestServer({ clock, env: { TESSERA_TRUSTED_PROXIES: '127.0.0.1', TESSERA_SESSION_IDLE_MINUTES: '10080', TESSERA_SESSION_MAX_HOURS: '720' } });
    admin = await loginAdmin(ts);
    user = await createUser(ts, admin, 'rita', ['member', 'auditor']);
    introspector = await createApp(ts, admin, { name: 'resource-server', can_introspect: true });
  });
  after(async () => ts.close());

  const createToken = async (body: Record<string, unknown>, token = user.token) => {
    const response = await ts.request('POST', '/api/v1/tokens', { token, body });
    assert.equal(response.status, 201, response.text);
    return response.body as { id: string; token: string; access_token?: string };
  };
  const refresh = (refreshToken: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, headers);
  const introspect = async (token: string) =>
    (await ts.form('/oauth/introspect', { token }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).text;

  it('exchanges an API token for an access token (§6, §5.1)', async () => {
    const api = await createToken({ name: 'exchange', scope: { kind: 'custom', endpoints: ['/plans', 'GET /clients'] }, roles: ['member'] });
    const response = await refresh(api.token);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('pragma'), 'no-cache');
    // §5.1: refresh_token is optional and a string when present; rotation is off by default, so none.
    assert.deepEqual(Object.keys(response.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(response.body.token_type, 'Bearer');
    assert.equal(response.body.scope, '/plans GET:/clients');
    const claims = decodeJwt(response.body.access_token);
    assert.equal(claims['tid'], api.id);
    assert.deepEqual(claims['amr'], ['token']);
    assert.deepEqual(claims['roles'], ['member']);
    assert.deepEqual(claims['endpoints'], ['/plans', 'GET /clients']);
    assert.equal(claims.sub, user.id);
  });

  it('narrows the scope on request and refuses widening with invalid_scope', async () => {
    const api = await createToken({ name: 'narrow', scope: { kind: 'custom', endpoints: ['/plans', 'GET /clients'] } });
    const narrowed = await refresh(api.token, { scope: 'GET:/plans/7' });
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.deepEqual(decodeJwt(narrowed.body.access_token)['endpoints'], ['GET /plans/7']);
    const wider = await refresh(api.token, { scope: '/admin' });
    assert.equal(wider.status, 400);
    assert.equal(wider.body.error, 'invalid_scope');
    const sneaky = await refresh(api.token, { scope: '/plans*' });
    assert.equal(sneaky.body.error, 'invalid_scope', '/plans* would also match /plansx');
    const methods = await refresh(api.token, { scope: 'POST:/clients' });
    assert.equal(methods.body.error, 'invalid_scope');
  });

  it('refuses with invalid_grant, the same way, every token that is not usable, and audits why', async () => {
    const revoked = await createToken({ name: 'r', scope: { kind: 'all' } });
    await ts.request('POST', `/api/v1/tokens/${revoked.id}/revoke`, { token: user.token });
    const expiring = await createToken({ name: 'e', scope: { kind: 'all' }, expires: '1h' });
    const answers = [];
    answers.push(await refresh('tsr_garbage'));
    answers.push(await refresh(revoked.token));
    answers.push(await refresh(revoked.token.slice(0, -1) + (revoked.token.endsWith('A') ? 'B' : 'A')));
    clock.advance(3601);
    answers.push(await refresh(expiring.token));
    for (const answer of answers) {
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.body, answers[0]?.body);
      assert.equal(answer.body.error, 'invalid_grant');
    }
    await ts.server.container.usage.flush();
    const audit = await ts.request('GET', '/api/v1/audit-events?action=token.denied&limit=20', { token: admin });
    const reasons = audit.body.items.map((e: { details: { reason: string } }) => e.details.reason);
    // A malformed token names no organization, so its denial is not in this organization's log.
    for (const reason of ['revoked', 'expired']) assert.ok(reasons.includes(reason), `${reason} audited`);
  });

  it('makes a token unused past the idle timeout idle and unusable', async () => {
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: 86_400 } });
    const api = await createToken({ name: 'idler', scope: { kind: 'all' } });
    assert.equal((await refresh(api.token)).status, 200);
    await ts.server.container.usage.flush();
    clock.advance(86_401);
    const idle = await refresh(api.token);
    assert.equal(idle.body.error, 'invalid_grant');
    const shown = await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: user.token });
    assert.equal(shown.body.status, 'idle');
    const listed = await ts.request('GET', '/api/v1/tokens?status=idle', { token: user.token });
    assert.ok(listed.body.items.some((t: { id: string }) => t.id === api.id), 'the status filter agrees');
    await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: null } });
  });

  it('records the last use in a batch, not per request', async () => {
    const api = await createToken({ name: 'used', scope: { kind: 'all' } });
    await refresh(api.token, {}, { 'x-forwarded-for': '198.51.100.23' });
    const before = await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: user.token });
    assert.equal(before.body.last_used_at, null, 'not written on the request path');
    await ts.server.container.usage.flush();
    const after = await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: user.token });
    assert.equal(after.body.last_used_ip, '198.51.100.23');
    assert.ok(after.body.last_used_at);
  });

  describe('refresh-token rotation (RFC 9700 §4.14.2)', () => {
    before(async () => {
      const set = await ts.request('PUT', '/api/v1/policy', { token: admin, body: { refresh_token_rotation: true } });
      assert.equal(set.status, 200);
    });
    after(async () => {
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { refresh_token_rotation: false } });
    });

    it('returns a new refresh token each time; replaying a rotated one revokes the API token and its access tokens', async () => {
      const api = await createToken({ name: 'rotated', scope: { kind: 'all' } });
      const first = await refresh(api.token);
      assert.equal(first.status, 200);
      assert.match(first.body.refresh_token, new RegExp(`^tsr_${api.id}\\.`));
      const second = await refresh(first.body.refresh_token);
      assert.equal(second.status, 200);
      assert.equal(JSON.parse(await introspect(second.body.access_token)).active, true);
      const replay = await refresh(first.body.refresh_token);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      assert.equal(await introspect(second.body.access_token), '{"active":false}', 'access tokens die with the API token');
      assert.equal(await introspect(first.body.access_token), '{"active":false}');
      assert.equal((await refresh(second.body.refresh_token)).status, 400, 'the whole token is revoked');
      const shown = await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: user.token });
      assert.equal(shown.body.status, 'revoked');
      const audit = await ts.request('GET', `/api/v1/audit-events?target=${api.id}&action=token.reuse_detected`, { token: admin });
      assert.equal(audit.body.items.length, 1);
    });

    it('never yields two live successors from two concurrent refreshes with the same secret', async () => {
      for (let round = 0; round < 5; round++) {
        const api = await createToken({ name: `concurrent-${round}`, scope: { kind: 'all' } });
        const [a, b] = await Promise.all([refresh(api.token), refresh(api.token)]);
        const successes = [a, b].filter((r) => r.status === 200);
        assert.ok(successes.length <= 1, 'at most one refresh wins');
        const live = [];
        for (const success of successes) if ((await refresh(success.body.refresh_token)).status === 200) live.push(success);
        assert.ok(live.length <= 1, 'never two live successors');
      }
    });
  });

  describe('IP allowlists (SPEC 3.6)', () => {
    it('allows the token from an allowed address named by a trusted proxy and refuses others', async () => {
      const api = await createToken({ name: 'ip', scope: { kind: 'all' }, ip_allowlist: ['203.0.113.0/24'] });
      assert.equal((await refresh(api.token, {}, { 'x-forwarded-for': '203.0.113.9' })).status, 200);
      const refused = await refresh(api.token, {}, { 'x-forwarded-for': '198.51.100.1' });
      assert.equal(refused.body.error, 'invalid_grant');
      // The right-most untrusted hop counts: a client cannot prepend an address of its choosing.
      assert.equal((await refresh(api.token, {}, { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' })).status, 400);
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const untrusted = await startTestServer({ env: { TESSERA_TRUSTED_PROXIES: '10.9.9.9' } });
      try {
        const owner = await untrusted.login('admin', 'correct horse battery staple');
        const api = (await untrusted.request('POST', '/api/v1/tokens', { token: owner, body: { scope: { kind: 'all' }, ip_allowlist: ['203.0.113.0/24'] } })).body;
        const spoofed = await untrusted.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: api.token }, { 'x-forwarded-for': '203.0.113.9' });
        assert.equal(spoofed.status, 400);
        assert.equal(spoofed.body.error, 'invalid_grant');
      } finally {
        await untrusted.close();
      }
    });

    it('runs every ip-allowlist vector through the token endpoint', async () => {
      const { readFileSync } = await import('node:fs');
      const vectors = JSON.parse(readFileSync(new URL('../../../../../shared/vectors/ip-allowlist.json', import.meta.url), 'utf8')) as {
        valid: { entry: string; allows: string[]; denies: string[] }[];
      };
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_tokens_per_user: 100 } });
      for (const [index, vector] of vectors.valid.entries()) {
        const api = await createToken({ name: `vector-${index}`, scope: { kind: 'all' }, ip_allowlist: [vector.entry] });
        for (const address of vector.allows) {
          const r = await refresh(api.token, {}, { 'x-forwarded-for': address });
          assert.equal(r.status, 200, `${vector.entry} allows ${address}: ${r.text}`);
        }
        for (const address of vector.denies) {
          const r = await refresh(api.token, {}, { 'x-forwarded-for': address });
          assert.equal(r.status, 400, `${vector.entry} denies ${address}`);
        }
      }
    });
  });

  describe('direct tokens and introspection (RFC 7662)', () => {
    it('introspects a direct preset token as active, refuses to exchange it', async () => {
      const preset = await ts.request('POST', '/api/v1/presets', {
        token: admin,
        body: { name: 'recovery', description: 'recovery operations', endpoints: ['GET /recovery/*', 'POST /recovery/restore'], mode: 'direct', scope_locked: true, default_lifetime: '30D' },
      });
      assert.equal(preset.status, 201, preset.text);
      const api = await createToken({ name: 'direct', scope: { kind: 'recovery' } });
      assert.equal(api.access_token, undefined, 'no access token for a direct token');
      assert.equal((await refresh(api.token)).body.error, 'invalid_grant');
      const active = JSON.parse(await introspect(api.token));
      assert.equal(active.active, true);
      assert.equal(active.scope, 'recovery');
      assert.deepEqual(active.endpoints, ['GET /recovery/*', 'POST /recovery/restore']);
      const scopeChange = await ts.request('PATCH', `/api/v1/tokens/${api.id}`, { token: user.token, body: { scope: { kind: 'all' } } });
      assert.equal(scopeChange.status, 409);
      const expiryChange = await ts.request('PATCH', `/api/v1/tokens/${api.id}`, { token: user.token, body: { expires: '10D' } });
      assert.equal(expiryChange.status, 200, 'the expiry of a direct token can change');
    });

    it('answers garbage, expired, revoked, idle and other-organization tokens with identical bytes', async () => {
      const inactive: string[] = [];
      inactive.push(await introspect('garbage'));
      const revoked = await createToken({ name: 'i-revoked', scope: { kind: 'all' } });
      const revokedAccess = (await refresh(revoked.token)).body.access_token;
      await ts.request('POST', `/api/v1/tokens/${revoked.id}/revoke`, { token: user.token });
      inactive.push(await introspect(revokedAccess), await introspect(revoked.token));
      const other = await createOrg(ts, admin, `other-${Date.now()}`);
      const foreignToken = (await ts.request('POST', '/api/v1/tokens', { token: other.token, body: { scope: { kind: 'all' } } })).body;
      inactive.push(await introspect(foreignToken.access_token), await introspect(foreignToken.token));
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: 3600 } });
      const idle = await createToken({ name: 'i-idle', scope: { kind: 'recovery' } });
      const expiring = await createToken({ name: 'i-expired', scope: { kind: 'all' }, expires: '1h' });
      const expiringAccess = (await refresh(expiring.token)).body.access_token;
      clock.advance(3601);
      inactive.push(await introspect(idle.token), await introspect(expiring.token), await introspect(expiringAccess));
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { idle_timeout_seconds: null } });
      for (const body of inactive) assert.equal(body, '{"active":false}');
    });
  });

  describe('token-derived callers on the management API (SPEC 2)', () => {
    it('are refused every change SPEC 2 forbids, with the reason, audited with the API token id; a login may do the same', async () => {
      const api = await createToken({ name: 'restricted', scope: { kind: 'all' } }, admin);
      const bearer = (await refresh(api.token)).body.access_token as string;
      const me = await ts.request('GET', '/api/v1/me', { token: bearer });
      assert.equal(me.status, 200, 'reads are allowed');
      assert.equal(me.body.auth_method, 'token');
      assert.equal(me.body.token_id, api.id);
      assert.equal((await ts.request('GET', '/api/v1/users', { token: bearer })).status, 200);
      assert.equal((await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: bearer })).status, 200);

      const forbidden: [string, string, unknown][] = [
        ['POST', '/api/v1/tokens', { scope: { kind: 'all' }, name: 'from-token' }],
        ['PATCH', `/api/v1/tokens/${api.id}`, { name: 'renamed' }],
        ['POST', `/api/v1/tokens/${api.id}/rotate`, undefined],
        ['POST', `/api/v1/tokens/${api.id}/revoke`, undefined],
        ['PUT', '/api/v1/me/password', { current_password: 'correct horse battery staple', new_password: 'something new and long' }],
        ['POST', '/api/v1/users', { username: 'via-token', password: userPassword }],
        ['POST', '/api/v1/roles', { name: 'via-token', rights: ['tokens.own'] }],
        ['POST', '/api/v1/apps', { name: 'via-token' }],
        ['PUT', '/api/v1/policy', { max_tokens_per_user: 9 }],
      ];
      for (const [method, path, body] of forbidden) {
        const response = await ts.request(method, path, { token: bearer, body });
        assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
        assert.equal(response.body.code, 'RESTRICTED_SESSION');
        assert.match(response.body.detail, /interactive login/);
      }
      const audit = await ts.request('GET', `/api/v1/audit-events?limit=50`, { token: admin });
      const denials = audit.body.items.filter((e: { outcome: string; actor_token_id: string | null }) => e.outcome === 'denied' && e.actor_token_id === api.id);
      assert.equal(denials.length, forbidden.length, 'each refusal audited with the acting API token id');
      assert.ok(denials.every((e: { details: { reason: string } }) => e.details.reason === 'restricted_session'));

      const own = await createToken({ name: 'by-login', scope: { kind: 'all' } }, admin);
      assert.equal((await ts.request('PATCH', `/api/v1/tokens/${own.id}`, { token: admin, body: { name: 'renamed-by-login' } })).status, 200);
      assert.equal((await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'via-login', password: userPassword } })).status, 201);
    });
  });
});
