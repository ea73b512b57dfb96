import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** RFC 6749 token endpoint: client_credentials (§4.4) and the error responses of §5.2. */
describe('RFC 6749 token endpoint', () => {
  let ts: TestServer;
  let admin: string;
  let app: { id: string; clientId: string; clientSecret: string };

  before(async () => {
    ts = await startTestServer({ env: { TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '30' } });
    admin = await loginAdmin(ts);
    app = await createApp(ts, admin, { name: 'billing-sync', roles: ['member'], access_token_ttl_seconds: 600 });
  });
  after(async () => ts.close());

  const assertNoStore = (headers: Headers) => {
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(headers.get('pragma'), 'no-cache');
  };
  const assertError = (response: { status: number; headers: Headers; body: { error?: string; error_description?: string } }, status: number, error: string) => {
    assert.equal(response.status, status, JSON.stringify(response.body));
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.body.error, error);
    assert.equal(typeof response.body.error_description, 'string');
    assertNoStore(response.headers);
  };

  describe('client_credentials (§4.4)', () => {
    it('issues an access token with client_secret_basic, without a refresh token (§4.4.3)', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
      assert.equal(response.status, 200, response.text);
      assertNoStore(response.headers);
      assert.equal(response.body.token_type, 'Bearer');
      assert.equal(response.body.expires_in, 600, 'the app TTL applies');
      assert.equal(response.body.refresh_token, null);
      assert.equal(response.body.scope, 'all');
      assert.equal(response.body.access_token.split('.').length, 3);
    });

    it('issues an access token with client_secret_post', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
      assert.equal(response.status, 200, response.text);
    });

    it('answers invalid_client with 401 and WWW-Authenticate when Basic was used', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, 'wrong') });
      assertError(response, 401, 'invalid_client');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="tessera"/);
    });

    it('answers invalid_client with 400 and no WWW-Authenticate for a wrong client_secret_post', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'wrong' });
      assertError(response, 400, 'invalid_client');
      assert.equal(response.headers.get('www-authenticate'), null);
      const unknown = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: 'cl_unknown', client_secret: 'x' });
      assertError(unknown, 400, 'invalid_client');
      const missing = await ts.form('/oauth/token', { grant_type: 'client_credentials' });
      assertError(missing, 400, 'invalid_client');
    });

    it('refuses two authentication methods at once', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_secret: app.clientSecret }, { authorization: basic(app.clientId, app.clientSecret) });
      assertError(response, 400, 'invalid_request');
    });

    it('stops accepting a regenerated secret at once', async () => {
      const other = await createApp(ts, admin, { name: 'rotating' });
      const regenerated = await ts.request('POST', `/api/v1/apps/${other.id}/secret`, { token: admin });
      assert.equal(regenerated.status, 200);
      assertError(await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(other.clientId, other.clientSecret) }), 401, 'invalid_client');
      const fresh = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(other.clientId, regenerated.body.client_secret) });
      assert.equal(fresh.status, 200);
    });
  });

  describe('request errors (§5.2)', () => {
    it('invalid_request for a missing grant_type', async () => {
      assertError(await ts.form('/oauth/token', {}), 400, 'invalid_request');
    });

    it('invalid_request for a repeated parameter (§3.1)', async () => {
      const response = await ts.form('/oauth/token', `grant_type=client_credentials&grant_type=client_credentials&client_id=${app.clientId}&client_secret=${app.clientSecret}`);
      assertError(response, 400, 'invalid_request');
      assert.match(response.body.error_description, /grant_type/);
    });

    it('treats an empty parameter as omitted (§3.1)', async () => {
      assertError(await ts.form('/oauth/token', 'grant_type='), 400, 'invalid_request');
    });

    it('invalid_request for a JSON body or no body', async () => {
      const json = await ts.request('POST', '/oauth/token', { body: { grant_type: 'client_credentials' } });
      assertError(json, 400, 'invalid_request');
      const none = await ts.request('POST', '/oauth/token');
      assertError(none, 400, 'invalid_request');
    });

    it('unsupported_grant_type for an unknown grant', async () => {
      assertError(await ts.form('/oauth/token', { grant_type: 'password', username: 'a', password: 'b' }), 400, 'unsupported_grant_type');
      assertError(await ts.form('/oauth/token', { grant_type: '__proto__' }), 400, 'unsupported_grant_type');
      assertError(await ts.form('/oauth/token', { grant_type: 'authorization_code', code: 'x' }), 400, 'unsupported_grant_type');
    });

    it('invalid_grant for a refresh token that is not a valid API token', async () => {
      assertError(await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'garbage' }), 400, 'invalid_grant');
      assertError(await ts.form('/oauth/token', { grant_type: 'refresh_token' }), 400, 'invalid_request');
    });

    it('refuses an oversized body', async () => {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials', pad: 'x'.repeat(200_000) });
      assert.equal(response.status, 413);
      assert.equal(response.body.error, 'invalid_request');
    });

    it('rate-limits a client with 429 and Retry-After', async () => {
      const limited = await createApp(ts, admin, { name: 'hammer' });
      let last;
      for (let i = 0; i < 31; i++) last = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: limited.clientId, client_secret: limited.clientSecret });
      assert.ok(last);
      assertError(last, 429, 'slow_down');
      assert.ok(Number(last.headers.get('retry-after')) >= 1);
    });
  });
});
