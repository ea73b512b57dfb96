import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, createOrg, loginAdmin } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

/** RFC 7662 introspection, for access tokens here; direct API tokens are covered with them. */
describe('RFC 7662 token introspection', () => {
  let ts: TestServer;
  const clock = new TestClock();
  let introspector: { clientId: string; clientSecret: string };
  let plain: { clientId: string; clientSecret: string };
  let foreign: { clientId: string; clientSecret: string };

  before(async () => {
    ts = await startTestServer({ clock });
    const admin = await loginAdmin(ts);
    introspector = await createApp(ts, admin, { name: 'api-server', can_introspect: true });
    plain = await createApp(ts, admin, { name: 'worker', roles: ['member'] });
    const other = await createOrg(ts, admin, 'elsewhere');
    foreign = await createApp(ts, other.token, { name: 'foreign-worker' });
  });
  after(async () => ts.close());

  const mint = async (client: { clientId: string; clientSecret: string }) =>
    (await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(client.clientId, client.clientSecret) })).body.access_token as string;
  const introspect = (token: string, auth = basic(introspector.clientId, introspector.clientSecret)) =>
    ts.form('/oauth/introspect', { token }, { authorization: auth });

  it('answers an active token with its claims', async () => {
    const response = await introspect(await mint(plain));
    assert.equal(response.status, 200);
    assert.equal(response.body.active, true);
    assert.equal(response.body.sub, plain.clientId);
    assert.deepEqual(response.body.roles, ['member']);
    assert.equal(response.body.scope, 'all');
    assert.equal(typeof response.body.exp, 'number');
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  it('answers a byte-identical {"active":false} for garbage, expired, revoked and other-organization tokens', async () => {
    const revoked = await mint(plain);
    assert.equal((await ts.form('/oauth/revoke', { token: revoked })).status, 200);
    const expired = await mint(plain);
    const foreignToken = await mint(foreign);
    const tampered = (await mint(plain)).slice(0, -3) + 'AAA';
    const bodies: string[] = [];
    for (const token of ['garbage', 'a.b.c', tampered, revoked, foreignToken]) bodies.push((await introspect(token)).text);
    clock.advance(1801);
    bodies.push((await introspect(expired)).text);
    for (const body of bodies) assert.equal(body, '{"active":false}');
    await ts.server.container.usage.flush();
    const audit = await ts.request('GET', '/api/v1/audit-events?action=token.introspected&limit=20', { token: await loginAdmin(ts) });
    const reasons = audit.body.items.map((e: { details: { reason: string } }) => e.details.reason);
    for (const reason of ['malformed', 'bad_signature', 'revoked', 'other_organization', 'expired']) assert.ok(reasons.includes(reason), `${reason} audited`);
  });

  it('refuses callers that are not apps allowed to introspect, with 401', async () => {
    const token = await mint(plain);
    const notAllowed = await introspect(token, basic(plain.clientId, plain.clientSecret));
    assert.equal(notAllowed.status, 401);
    assert.equal(notAllowed.body.error, 'invalid_client');
    // §2.3 and RFC 6749 §5.2: every failed client authentication is 401 invalid_client.
    const anonymous = await ts.form('/oauth/introspect', { token });
    const wrong = await introspect(token, basic(introspector.clientId, 'nope'));
    const wrongPost = await ts.form('/oauth/introspect', { token, client_id: introspector.clientId, client_secret: 'nope' });
    const idOnly = await ts.form('/oauth/introspect', { token, client_id: introspector.clientId });
    for (const response of [anonymous, wrong, wrongPost, idOnly]) {
      assert.equal(response.status, 401, response.text);
      assert.equal(response.body.error, 'invalid_client');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="tessera"/);
      assert.equal(response.body.active, undefined, 'nothing about the token');
    }
    const post = await ts.form('/oauth/introspect', { token, client_id: introspector.clientId, client_secret: introspector.clientSecret });
    assert.equal(post.status, 200, 'client_secret_post works');
    assert.equal(post.body.active, true);
  });

  it('requires the token parameter', async () => {
    const response = await ts.form('/oauth/introspect', {}, { authorization: basic(introspector.clientId, introspector.clientSecret) });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'invalid_request');
  });
});
