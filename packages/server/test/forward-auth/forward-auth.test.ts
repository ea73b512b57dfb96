import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationOf, corpus, type CorpusSigner } from '../../../../sdks/corpus/corpus.js';
import { loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * GET /forward-auth held to the conformance corpus (the verdicts @tessera/verify and the Python
 * and Go SDKs give), then against real tokens: exchange, scope, direct tokens and revocation.
 */
describe('GET /forward-auth', () => {
  let ts: TestServer;
  let signer: CorpusSigner;
  let admin: string;

  before(async () => {
    // The test process is the proxy (127.0.0.1); the corpus's own trusted proxies come after it.
    // The corpus signs with Ed25519 (its cases name alg EdDSA), so this server signs with EdDSA.
    ts = await startTestServer({ env: { TESSERA_SIGNING_ALGORITHM: 'EdDSA', TESSERA_TRUSTED_PROXIES: ['127.0.0.1', '::1', ...corpus.settings.trusted_proxies].join(',') } });
    const key = ts.server.container.keyring.active();
    signer = { issuer: ts.server.container.issuer.value, kid: key.kid, privateKey: key.privateKey };
    admin = await loginAdmin(ts);
  });
  after(() => ts.close());

  /** What nginx sends for a request: the original method and URI, and X-Forwarded-For with the client appended. */
  const ask = (method: string, uri: string, authorization: string | undefined, forwardedFor: string, extra: Record<string, string> = {}) =>
    fetch(`${ts.url}/forward-auth`, {
      headers: {
        'x-forwarded-method': method,
        'x-forwarded-uri': uri,
        'x-forwarded-for': forwardedFor,
        ...(authorization !== undefined && { authorization }),
        ...extra,
      },
    });

  describe('the conformance corpus (sdks/corpus/cases.json)', () => {
    for (const testCase of corpus.cases) {
      it(testCase.name, async () => {
        const { method, path, peer, forwarded_for } = testCase.request;
        const response = await ask(method, path, authorizationOf(testCase, signer), forwarded_for ? `${forwarded_for}, ${peer}` : peer);
        const body = response.status === 200 ? undefined : ((await response.json()) as { error: string });
        const error = body === undefined || body.error === 'unauthorized' ? null : body.error;
        assert.deepEqual({ status: response.status, error }, { status: testCase.expect.status, error: testCase.expect.error });
        if (response.status === 401 || response.status === 403) {
          const challenge = response.headers.get('www-authenticate') ?? '';
          assert.match(challenge, /^Bearer realm="api"/);
          if (error !== null) assert.match(challenge, new RegExp(`error="${error}"`));
        }
      });
    }
  });

  it('hands the upstream the identity of an exchanged API token, and stops it within the feed poll of a revocation', async () => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'fa', scope: { kind: 'custom', endpoints: ['/plans', 'GET /clients'] } } });
    assert.equal(created.status, 201, created.text);
    const bearer = `Bearer ${created.body.access_token as string}`;
    const allowed = await ask('GET', '/plans/7?x=1', bearer, '203.0.113.9');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('x-tessera-token-id'), created.body.id);
    assert.match(allowed.headers.get('x-tessera-subject') ?? '', /./);
    assert.match(allowed.headers.get('x-tessera-org') ?? '', /./);
    assert.equal(allowed.headers.get('x-tessera-roles'), 'org-owner');
    assert.equal(allowed.headers.get('cache-control'), 'no-store');
    // nginx's own header names (X-Original-URI, X-Original-Method) count the same.
    const nginxStyle = await fetch(`${ts.url}/forward-auth`, { headers: { authorization: bearer, 'x-original-uri': '/clients', 'x-original-method': 'DELETE' } });
    assert.equal(nginxStyle.status, 403);
    assert.match(nginxStyle.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);

    const revoked = await ts.request('POST', `/api/v1/tokens/${created.body.id}/revoke`, { token: admin });
    assert.equal(revoked.status, 200, revoked.text);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 2000) {
      status = (await ask('GET', '/plans', bearer, '203.0.113.9')).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 401, 'refused within 2 s of the revocation');
  });

  it('checks a direct API token through the token service, and refuses an exchangeable one', async () => {
    const preset = await ts.request('POST', '/api/v1/presets', {
      token: admin,
      body: { name: 'fa-recovery', description: 'recovery', endpoints: ['GET /recovery/*'], mode: 'direct', scope_locked: true, default_lifetime: '30D' },
    });
    assert.equal(preset.status, 201, preset.text);
    const direct = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'fa-direct', scope: { kind: 'fa-recovery' } } });
    assert.equal(direct.status, 201, direct.text);
    const bearer = `Bearer ${direct.body.token as string}`;
    assert.equal((await ask('GET', '/recovery/jobs', bearer, '203.0.113.9')).status, 200);
    assert.equal((await ask('POST', '/recovery/jobs', bearer, '203.0.113.9')).status, 403);
    await ts.request('POST', `/api/v1/tokens/${direct.body.id}/revoke`, { token: admin });
    assert.equal((await ask('GET', '/recovery/jobs', bearer, '203.0.113.9')).status, 401, 'a revoked direct token stops at once');

    const refreshable = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'fa-refreshable', scope: { kind: 'all' } } });
    const refused = await ask('GET', '/plans', `Bearer ${refreshable.body.token as string}`, '203.0.113.9');
    assert.equal(refused.status, 401);
    assert.match(((await refused.json()) as { error_description: string }).error_description, /exchange/);
  });

  it('believes the original-request headers only from a trusted proxy', async () => {
    const created = await ts.request('POST', '/api/v1/tokens', {
      token: admin,
      body: { name: 'fa-untrusted', scope: { kind: 'custom', endpoints: ['/plans'] }, ip_allowlist: ['203.0.113.0/24'] },
    });
    const headers = { authorization: `Bearer ${created.body.access_token as string}`, 'x-forwarded-uri': '/plans', 'x-forwarded-for': '203.0.113.9' };
    const trusted = await ts.server.app.inject({ method: 'GET', url: '/forward-auth', headers, remoteAddress: '127.0.0.1' });
    assert.equal(trusted.statusCode, 200);
    // From an untrusted peer neither the URI nor the forwarded address counts: its own address is outside the allowlist.
    const untrusted = await ts.server.app.inject({ method: 'GET', url: '/forward-auth', headers, remoteAddress: '198.51.100.7' });
    assert.equal(untrusted.statusCode, 401);
    const inside = await ts.server.app.inject({ method: 'GET', url: '/forward-auth', headers, remoteAddress: '203.0.113.50' });
    assert.equal(inside.statusCode, 403, 'the URI it names is ignored: /forward-auth itself is outside the scope');
  });

  it('reads Envoy ext_authz requests: the original method, and the original path after /forward-auth', async () => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'fa-envoy', scope: { kind: 'custom', endpoints: ['POST /plans'] } } });
    const authorization = `Bearer ${created.body.access_token as string}`;
    assert.equal((await fetch(`${ts.url}/forward-auth/plans/7?x=1`, { method: 'POST', headers: { authorization } })).status, 200);
    assert.equal((await fetch(`${ts.url}/forward-auth/plans/7`, { method: 'DELETE', headers: { authorization } })).status, 403);
    assert.equal((await fetch(`${ts.url}/forward-auth/admin`, { method: 'POST', headers: { authorization } })).status, 403);
  });
});
