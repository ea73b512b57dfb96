import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_post'));
  });

  it('publishes the JWKS with only public Ed25519 keys', async () => {
    const response = await ts.request('GET', '/.well-known/jwks.json');
    assert.equal(response.status, 200);
    assert.ok(response.body.keys.length >= 1);
    for (const key of response.body.keys) {
      assert.deepEqual([key.kty, key.crv, key.alg, key.use], ['OKP', 'Ed25519', 'EdDSA', 'sig']);
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.d, undefined);
    }
  });
});
