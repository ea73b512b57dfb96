import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApp, loginAdmin } from '../../../packages/server/test/support/fixtures.js';
import { startTestServer, type TestServer } from '../../../packages/server/test/support/server.js';
import { createProtectedApi, type ProtectedApi } from '../src/create-protected-api.js';

/** The example's routes in-process, against a real Tessera: what each one answers, and to whom. */
describe('createProtectedApi', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let api: ProtectedApi;
  let url: string;
  let admin: string;

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    const app = await createApp(ts, admin, { name: 'plans-api', can_introspect: true });
    api = createProtectedApi({ tesseraUrl: ts.url, clientId: app.clientId, clientSecret: app.clientSecret });
    await api.verifier.ready();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await api?.app.close();
    await ts?.close();
  });

  /** A refreshable API token with this scope, exchanged at the token endpoint. */
  async function accessToken(scope: { kind: string; endpoints?: string[] }): Promise<{ id: string; accessToken: string }> {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: `t${Math.random().toString(36).slice(2, 8)}`, scope } });
    assert.equal(created.status, 201, created.text);
    const exchanged = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token });
    assert.equal(exchanged.status, 200, exchanged.text);
    return { id: created.body.id, accessToken: exchanged.body.access_token };
  }
  const call = async (path: string, token?: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...(init.body !== undefined && { 'content-type': 'application/json' }) },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };

  it('leaves /healthz open and refuses the plans without credentials (401, no error code)', async () => {
    assert.deepEqual((await call('/healthz')).body, { status: 'ok' });
    const refused = await call('/plans');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="api"');
    assert.deepEqual(refused.body, { error: 'unauthorized', error_description: 'Authentication required' });
  });

  it('serves every route to a token with scope all, and records who created a plan', async () => {
    const { id, accessToken: token } = await accessToken({ kind: 'all' });
    assert.equal(((await call('/plans', token)).body['items'] as unknown[]).length, 2);
    assert.deepEqual((await call('/plans/2', token)).body, { id: '2', name: 'Business', price_cents: 4900, created_by: null });
    const missing = await call('/plans/99', token);
    assert.equal(missing.status, 404);
    assert.equal(missing.body['error'], 'not_found');

    const me = await call('/me', token);
    assert.equal(me.status, 200);
    assert.equal(me.body['tokenId'], id);
    assert.deepEqual(me.body['scope'], { kind: 'all', endpoints: [] });
    assert.deepEqual(me.body['amr'], ['token']);

    const created = await call('/plans', token, { method: 'POST', body: { name: 'Team', price_cents: 1900 } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, { id: '3', name: 'Team', price_cents: 1900, created_by: me.body['sub'] });
    assert.equal((await call('/plans', token, { method: 'POST', body: { price_cents: 1 } })).status, 400, 'the body schema still applies');
  });

  it('holds a custom scope at path-segment boundaries (403 insufficient_scope outside it)', async () => {
    const { accessToken: token } = await accessToken({ kind: 'custom', endpoints: ['GET /plans'] });
    assert.equal((await call('/plans/1', token)).status, 200, 'GET /plans covers /plans/1');
    for (const [method, path] of [['GET', '/me'], ['POST', '/plans']] as const) {
      const refused = await call(path, token, { method, ...(method === 'POST' && { body: { name: 'x' } }) });
      assert.equal(refused.status, 403, `${method} ${path}`);
      assert.equal(refused.body['error'], 'insufficient_scope');
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer realm="api", error="insufficient_scope"/);
    }
  });

  it('refuses a malformed header (400) and a forged token (401 invalid_token)', async () => {
    const malformed = await fetch(`${url}/plans`, { headers: { authorization: 'Bearer a b' } });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: string }).error, 'invalid_request');
    const { accessToken: token } = await accessToken({ kind: 'all' });
    const [header, payload] = token.split('.') as [string, string];
    const forged = `${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`;
    const refused = await call('/plans', forged);
    assert.equal(refused.status, 401);
    assert.equal(refused.body['error'], 'invalid_token');
  });

  it('stops an access token within 2 seconds when its API token is revoked at POST /oauth/revoke (RFC 7009)', async () => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'revoked-by-rfc7009', scope: { kind: 'all' } } });
    const exchanged = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token });
    const token = exchanged.body.access_token as string;
    assert.equal((await call('/plans', token)).status, 200);
    assert.equal((await ts.form('/oauth/revoke', { token: created.body.token })).status, 200);
    const started = Date.now();
    let status = 200;
    while (Date.now() - started <= 2000 && status !== 401) {
      status = (await call('/plans', token)).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 401);
  });
});
