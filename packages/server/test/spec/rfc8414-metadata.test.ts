import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('RFC 8414 authorization server metadata', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => ts.close());

  it('publishes the issuer and endpoints at the well-known location', async () => {
    const response = await ts.request('GET', '/.well-known/oauth-authorization-server');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const metadata = response.body;
    // §3.3: the issuer must be identical to the one the metadata was fetched for.
    assert.equal(metadata.issuer, ts.url);
    assert.equal(metadata.token_endpoint, `${ts.url}/oauth/token`);
    assert.equal(metadata.introspection_endpoint, `${ts.url}/oauth/introspect`);
    assert.equal(metadata.revocation_endpoint, `${ts.url}/oauth/revoke`);
    assert.equal(metadata.jwks_uri, `${ts.url}/.well-known/jwks.json`);
    assert.deepEqual(metadata.grant_types_supported.sort(), ['client_credentials', 'refresh_token']);
    assert.deepEqual(metadata.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
    assert.deepEqual(metadata.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    assert.deepEqual(metadata.revocation_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
    // §2: REQUIRED even without an authorization endpoint; the true list is empty.
    assert.deepEqual(metadata.response_types_supported, []);
  });

  it('advertises only what is true: no member for a feature Tessera lacks', async () => {
    const metadata = (await ts.request('GET', '/.well-known/oauth-authorization-server')).body;
    // No JWT client authentication (RFC 7523), no authorization endpoint, no PKCE, no DPoP.
    for (const member of [
      'token_endpoint_auth_signing_alg_values_supported',
      'introspection_endpoint_auth_signing_alg_values_supported',
      'revocation_endpoint_auth_signing_alg_values_supported',
      'authorization_endpoint',
      'code_challenge_methods_supported',
      'dpop_signing_alg_values_supported',
      'registration_endpoint',
    ]) {
      assert.equal(metadata[member], undefined, member);
    }
    assert.deepEqual(Object.keys(metadata).sort(), [
      'grant_types_supported',
      'introspection_endpoint',
      'introspection_endpoint_auth_methods_supported',
      'issuer',
      'jwks_uri',
      'response_types_supported',
      'revocation_endpoint',
      'revocation_endpoint_auth_methods_supported',
      'scopes_supported',
      'token_endpoint',
      'token_endpoint_auth_methods_supported',
    ]);
  });

  it('tells the truth about token_endpoint_auth_methods_supported: each method works at the token endpoint', async () => {
    const admin = await loginAdmin(ts);
    const app = await createApp(ts, admin, { name: 'metadata-check' });
    const api = (await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'metadata-check', scope: { kind: 'all' } } })).body;
    const basicAuth = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
    assert.equal(basicAuth.status, 200);
    const post = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
    assert.equal(post.status, 200);
    const none = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: api.token });
    assert.equal(none.status, 200, 'no client authentication: the API token is the proof');
  });

  it('publishes the JWKS with only public keys of the default algorithm, ES256, each with kid, alg and use', async () => {
    const response = await ts.request('GET', '/.well-known/jwks.json');
    assert.equal(response.status, 200);
    assert.ok(response.body.keys.length >= 1);
    for (const key of response.body.keys) {
      assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['EC', 'P-256', 'ES256', 'sig']);
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.d, undefined);
    }
  });

  for (const [algorithm, kty] of [['RS256', 'RSA'], ['EdDSA', 'OKP']] as const) {
    it(`publishes ${algorithm} keys when TESSERA_SIGNING_ALGORITHM=${algorithm}`, async () => {
      const other = await startTestServer({ env: { TESSERA_SIGNING_ALGORITHM: algorithm } });
      try {
        const { keys } = (await other.request('GET', '/.well-known/jwks.json')).body;
        assert.ok(keys.length >= 1);
        for (const key of keys) {
          assert.deepEqual([key.kty, key.alg, key.use], [kty, algorithm, 'sig']);
          assert.equal(typeof key.kid, 'string');
          for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[part], undefined, `no private ${part}`);
        }
      } finally {
        await other.close();
      }
    });
  }

  it('refuses an unknown TESSERA_SIGNING_ALGORITHM at boot, naming the choices', async () => {
    await assert.rejects(startTestServer({ env: { TESSERA_SIGNING_ALGORITHM: 'HS256' } }), /TESSERA_SIGNING_ALGORITHM: expected one of ES256, RS256, EdDSA/);
  });
});
