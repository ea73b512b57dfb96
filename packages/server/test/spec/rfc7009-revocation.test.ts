import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, createOrg, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** RFC 7009 revocation: access tokens and API tokens, and client authentication (§2.1). */
describe('RFC 7009 token revocation', () => {
  let ts: TestServer;
  let admin: string;
  let app: { clientId: string; clientSecret: string };
  let introspector: { clientId: string; clientSecret: string };
  let bystander: { clientId: string; clientSecret: string };
  let foreign: { clientId: string; clientSecret: string };

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    app = await createApp(ts, admin, { name: 'revoker' });
    introspector = await createApp(ts, admin, { name: 'checker', can_introspect: true });
    bystander = await createApp(ts, admin, { name: 'bystander' });
    const other = await createOrg(ts, admin, 'revocation-elsewhere');
    foreign = await createApp(ts, other.token, { name: 'foreign-checker', can_introspect: true });
  });
  after(async () => ts.close());

  const mint = async () => (await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) })).body.access_token as string;
  const active = async (token: string) =>
    (await ts.form('/oauth/introspect', { token }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).body.active as boolean;
  let named = 0;
  const apiToken = async () => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: `revocable-${++named}`, scope: { kind: 'all' } } });
    assert.equal(created.status, 201, created.text);
    return created.body as { id: string; token: string; access_token: string };
  };

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

  describe('client authentication (§2.1)', () => {
    it('refuses wrong client credentials with 401 invalid_client, Basic or in the body, and revokes nothing', async () => {
      const token = await mint();
      const api = await apiToken();
      for (const subject of [token, api.token]) {
        const answers = [
          await ts.form('/oauth/revoke', { token: subject }, { authorization: basic(app.clientId, 'wrong') }),
          await ts.form('/oauth/revoke', { token: subject, client_id: app.clientId, client_secret: 'wrong' }),
          await ts.form('/oauth/revoke', { token: subject, client_id: 'cl_unknown', client_secret: 'x' }),
        ];
        for (const response of answers) {
          assert.equal(response.status, 401, response.text);
          assert.equal(response.body.error, 'invalid_client');
          assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="tessera"/);
        }
      }
      assert.equal(await active(token), true, 'the access token still works');
      assert.equal(await active(api.access_token), true, 'the API token still works');
    });

    it('lets the holder of an API token revoke it without client credentials (proof by possession)', async () => {
      const api = await apiToken();
      assert.equal((await ts.form('/oauth/revoke', { token: api.token })).status, 200);
      assert.equal(await active(api.access_token), false);
      const shown = await ts.request('GET', `/api/v1/tokens/${api.id}`, { token: admin });
      assert.equal(shown.body.status, 'revoked');
    });

    it('lets an app revoke an access token it was issued, with client_secret_basic and client_secret_post', async () => {
      const first = await mint();
      assert.equal((await ts.form('/oauth/revoke', { token: first }, { authorization: basic(app.clientId, app.clientSecret) })).status, 200);
      assert.equal(await active(first), false);
      const second = await mint();
      assert.equal((await ts.form('/oauth/revoke', { token: second, client_id: app.clientId, client_secret: app.clientSecret })).status, 200);
      assert.equal(await active(second), false);
    });

    it('lets an app revoke only what it was issued or may introspect: others answer 200 and stay active', async () => {
      const token = await mint();
      const api = await apiToken();
      for (const client of [bystander, foreign]) {
        for (const subject of [token, api.token]) {
          const response = await ts.form('/oauth/revoke', { token: subject }, { authorization: basic(client.clientId, client.clientSecret) });
          assert.equal(response.status, 200, '§2.2: no answer tells which tokens exist');
        }
      }
      assert.equal(await active(token), true, 'an app without can_introspect, or of another organization, revoked nothing');
      assert.equal(await active(api.access_token), true);
      // A public client naming another client revokes nothing either.
      assert.equal((await ts.form('/oauth/revoke', { token: api.token, client_id: 'someone-else' })).status, 200);
      assert.equal(await active(api.access_token), true);
      // The organization's introspecting app may revoke what it may introspect.
      assert.equal((await ts.form('/oauth/revoke', { token }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).status, 200);
      assert.equal((await ts.form('/oauth/revoke', { token: api.token }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).status, 200);
      assert.equal(await active(token), false);
      assert.equal(await active(api.access_token), false);
    });

    it('accepts the API token id as the public client_id of its holder', async () => {
      const api = await apiToken();
      assert.equal((await ts.form('/oauth/revoke', { token: api.token, client_id: api.id })).status, 200);
      assert.equal(await active(api.access_token), false);
    });
  });
});
