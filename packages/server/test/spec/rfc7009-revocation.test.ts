import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** RFC 7009 revocation, for access tokens here; API tokens are covered with them. */
describe('RFC 7009 token revocation', () => {
  let ts: TestServer;
  let app: { clientId: string; clientSecret: string };
  let introspector: { clientId: string; clientSecret: string };

  before(async () => {
    ts = await startTestServer();
    const admin = await loginAdmin(ts);
    app = await createApp(ts, admin, { name: 'revoker' });
    introspector = await createApp(ts, admin, { name: 'checker', can_introspect: true });
  });
  after(async () => ts.close());

  const mint = async () => (await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) })).body.access_token as string;
  const active = async (token: string) =>
    (await ts.form('/oauth/introspect', { token }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).body.active as boolean;

  it('revokes an access token: 200 with an empty body, and it is inactive afterwards', async () => {
    const token = await mint();
    assert.equal(await active(token), true);
    const response = await ts.form('/oauth/revoke', { token, token_type_hint: 'access_token' });
    assert.equal(response.status, 200);
    assert.equal(response.text, '');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(await active(token), false);
    assert.equal((await ts.form('/oauth/revoke', { token })).status, 200, 'revoking twice is fine');
  });

  it('treats token_type_hint as a hint only (§2.1)', async () => {
    const token = await mint();
    assert.equal((await ts.form('/oauth/revoke', { token, token_type_hint: 'refresh_token' })).status, 200);
    assert.equal(await active(token), false);
  });

  it('answers 200 for unknown and invalid tokens (§2.2)', async () => {
    for (const token of ['garbage', 'tsr_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB000000', 'a.b.c']) {
      assert.equal((await ts.form('/oauth/revoke', { token })).status, 200);
    }
  });

  it('requires the token parameter', async () => {
    const response = await ts.form('/oauth/revoke', {});
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_request');
  });
});
