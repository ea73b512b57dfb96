import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OAuthError } from '../../src/core/oauth-errors.js';
import { sanitizeErrorDescription, toOAuthError } from '../../src/http/error-mapper.js';
import { basic, createApp, createOrg, loginAdmin } from '../support/fixtures.js';
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
      // §5.1: refresh_token is optional and, when present, a string; none is issued here.
      assert.ok(!('refresh_token' in response.body), response.text);
      assert.deepEqual(Object.keys(response.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
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

    it('answers invalid_client with 401 and WWW-Authenticate for a wrong client_secret_post, an unknown client and none at all', async () => {
      const wrong = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'wrong' });
      const unknown = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: 'cl_unknown', client_secret: 'x' });
      const missing = await ts.form('/oauth/token', { grant_type: 'client_credentials' });
      const idOnly = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: app.clientId });
      const secretOnly = await ts.form('/oauth/token', { grant_type: 'client_credentials', client_secret: app.clientSecret });
      for (const response of [wrong, unknown, missing, idOnly, secretOnly]) {
        assertError(response, 401, 'invalid_client');
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="tessera"/);
      }
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

  describe('client authentication on the refresh_token grant (§6, §3.2.1)', () => {
    let api: { id: string; token: string };
    before(async () => {
      const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'refresh-client-auth', scope: { kind: 'all' } } });
      assert.equal(created.status, 201, created.text);
      api = created.body;
    });
    const refresh = (extra: Record<string, string>, headers: Record<string, string> = {}) =>
      ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: api.token, ...extra }, headers);

    it('refuses wrong client credentials with 401 invalid_client, however they are sent, and issues nothing', async () => {
      const answers = [
        await refresh({}, { authorization: basic(app.clientId, 'wrong') }),
        await refresh({ client_id: app.clientId, client_secret: 'wrong' }),
        await refresh({ client_id: 'cl_unknown', client_secret: 'whatever' }),
        await refresh({ client_secret: app.clientSecret }),
        await refresh({}, { authorization: 'Basic !!!' }),
      ];
      for (const response of answers) {
        assertError(response, 401, 'invalid_client');
        assert.equal(response.body.access_token, undefined);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
      }
    });

    it('accepts the right credentials of an app of the same organization, with Basic or in the body', async () => {
      assert.equal((await refresh({}, { authorization: basic(app.clientId, app.clientSecret) })).status, 200);
      assert.equal((await refresh({ client_id: app.clientId, client_secret: app.clientSecret })).status, 200);
    });

    it('takes no client authentication (the API token is the proof), or the API token id as a public client_id', async () => {
      const none = await refresh({});
      assert.equal(none.status, 200, none.text);
      assert.ok(!('refresh_token' in none.body), 'no rotation: no refresh_token member');
      assert.equal((await refresh({ client_id: api.id })).status, 200);
    });

    it('refuses a public client_id that is not the API token own client with invalid_grant', async () => {
      assertError(await refresh({ client_id: 'someone-else' }), 400, 'invalid_grant');
      assertError(await refresh({ client_id: app.clientId }), 400, 'invalid_grant');
    });

    it("refuses an app of another organization with invalid_grant", async () => {
      const other = await createOrg(ts, admin, 'refresh-elsewhere');
      const foreign = await createApp(ts, other.token, { name: 'foreign-app' });
      assertError(await refresh({}, { authorization: basic(foreign.clientId, foreign.clientSecret) }), 400, 'invalid_grant');
    });
  });

  describe('error_description (§5.2 character set, no echo)', () => {
    const allowed = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
    const hostile = ['"><script>alert(1)</script>', 'caf\u00e9 \u2014 \\ "quoted"', 'x'.repeat(300), '\u{1F600}', 'a\u202eb'];

    it('holds only the allowed characters and never echoes a hostile value, in every parameter', async () => {
      const bodies: { error: string; error_description: string }[] = [];
      for (const value of hostile) {
        const attempts = [
          await ts.form('/oauth/token', { grant_type: value }),
          await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: value }),
          await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: value, client_secret: value }),
          await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(value, value) }),
          await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: value }),
          await ts.form('/oauth/introspect', { token: value }, { authorization: basic(value, 'x') }),
          await ts.form('/oauth/revoke', { token: value, client_id: value, client_secret: value }),
        ];
        for (const response of attempts) {
          assert.ok(response.status >= 400, response.text);
          const description = response.body.error_description as string;
          assert.match(description, allowed, `${response.body.error}: ${JSON.stringify(description)}`);
          assert.ok(!description.includes(value.slice(0, 12)), `the value is not echoed: ${description}`);
          bodies.push(response.body);
        }
      }
      assert.ok(bodies.some((body) => body.error === 'unsupported_grant_type'));
      assert.ok(bodies.some((body) => body.error === 'invalid_client'));
    });

    it('reduces any description to the §5.2 set in the one mapper, whatever raised it', () => {
      const mapped = toOAuthError(new OAuthError('invalid_request', 'caf\u00e9 \u2014 say "hi" \\ \u{1F600}\u0000 done'));
      assert.equal(mapped.body.error_description, "caf - say 'hi' / done");
      assert.match(sanitizeErrorDescription('\u202e\t\r\nx'), allowed);
    });

    it('names the parameter instead: an unknown grant_type and an invalid scope', async () => {
      const grant = await ts.form('/oauth/token', { grant_type: 'evil"grant' });
      assert.match(grant.body.error_description, /grant_type/);
      assert.ok(!grant.body.error_description.includes('evil'), grant.body.error_description);
      const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'scope-echo', scope: { kind: 'custom', endpoints: ['/plans'] } } });
      const scope = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token, scope: 'GET:/caf\u00e9"x' });
      assertError(scope, 400, 'invalid_scope');
      assert.match(scope.body.error_description, /scope/);
      assert.match(scope.body.error_description, allowed);
      const wider = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token, scope: '/secret-admin-path' });
      assertError(wider, 400, 'invalid_scope');
      assert.ok(!wider.body.error_description.includes('secret-admin-path'));
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

/** The seeds' forms, each one setting away (SPEC 5.1); both off by default. */
describe('seed-compatible token endpoint settings', () => {
  let made = 0;
  const exchange = async (ts: TestServer, path = '/oauth/token') => {
    const admin = await loginAdmin(ts);
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: `seed-form-${++made}`, scope: { kind: 'all' } } });
    assert.equal(created.status, 201, created.text);
    return ts.form(path, { grant_type: 'refresh_token', refresh_token: created.body.token });
  };

  it('by default omits refresh_token and serves no /oauth/provider/token', async () => {
    const ts = await startTestServer();
    try {
      const response = await exchange(ts);
      assert.equal(response.status, 200);
      assert.ok(!response.text.includes('refresh_token'), response.text);
      const provider = await exchange(ts, '/oauth/provider/token');
      assert.equal(provider.status, 404);
    } finally {
      await ts.close();
    }
  });

  it('TESSERA_OAUTH_NULL_REFRESH_TOKEN=true answers "refresh_token": null, as the seeds show', async () => {
    const ts = await startTestServer({ env: { TESSERA_OAUTH_NULL_REFRESH_TOKEN: 'true' } });
    try {
      const response = await exchange(ts);
      assert.equal(response.status, 200);
      assert.equal(response.body.refresh_token, null);
      assert.match(response.text, /"refresh_token":null/);
      const app = await createApp(ts, await loginAdmin(ts), { name: 'seed-cc' });
      const cc = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
      assert.equal(cc.body.refresh_token, null);
    } finally {
      await ts.close();
    }
  });

  it('TESSERA_OAUTH_PROVIDER_PATH=true serves /oauth/provider/token exactly like /oauth/token', async () => {
    const ts = await startTestServer({ env: { TESSERA_OAUTH_PROVIDER_PATH: 'true' } });
    try {
      const provider = await exchange(ts, '/oauth/provider/token');
      assert.equal(provider.status, 200, provider.text);
      assert.deepEqual(Object.keys(provider.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
      assert.equal(provider.headers.get('cache-control'), 'no-store');
      const introspector = await createApp(ts, await loginAdmin(ts), { name: 'seed-introspector', can_introspect: true });
      const active = await ts.form('/oauth/introspect', { token: provider.body.access_token }, { authorization: basic(introspector.clientId, introspector.clientSecret) });
      assert.equal(active.body.active, true);
      // Errors too: the same handler, the same RFC 6749 §5.2 answers.
      const bad = await ts.form('/oauth/provider/token', { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error, 'invalid_client');
      assert.deepEqual(bad.body, (await ts.form('/oauth/token', { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' })).body);
    } finally {
      await ts.close();
    }
  });

  it('refuses a setting that is not true or false at boot', async () => {
    await assert.rejects(startTestServer({ env: { TESSERA_OAUTH_PROVIDER_PATH: 'yes' } }), /TESSERA_OAUTH_PROVIDER_PATH: expected true or false/);
  });
});
