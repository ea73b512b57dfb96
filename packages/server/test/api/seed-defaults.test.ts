import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, basic, createApp, createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { databaseTargets } from '../support/databases.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

const day = 86_400;

/**
 * Seed statements about defaults, through the management API (issue 15, items 1, 2 and 5):
 * tokens that do not expire unless given an expiry where policy allows it (`apitoken create`:
 * "If password expiration is not enabled, tokens do not expire unless --expiry-date is set";
 * Cloud Director: "API tokens do not expire"); access tokens up to 30 days (Cloud Director's
 * `"expires_in":2592000`); a second default-named token is numbered, not refused.
 */
// On PGlite, and on PostgreSQL when TESSERA_TEST_DATABASE_URL is set: the concurrent
// default-named creates race for real there.
for (const target of databaseTargets) describe(`seed defaults: expiry, 30-day access tokens, default names (${target.name})`, () => {
  let ts: TestServer;
  const clock = new TestClock();
  let owner: string;
  let member: { token: string };

  before(async () => {
    ts = await startTestServer({ clock, driver: target.name === 'postgres' ? 'postgres' : 'pglite' });
    owner = await loginAdmin(ts);
    member = await createUser(ts, owner, 'nina', ['member']);
  });
  after(async () => ts.close());

  const setPolicy = (body: Record<string, unknown>) => ts.request('PUT', '/api/v1/policy', { token: owner, body });
  const create = (body: Record<string, unknown>) => ts.request('POST', '/api/v1/tokens', { token: member.token, body });
  const revoke = (id: string) => ts.request('POST', `/api/v1/tokens/${id}/revoke`, { token: member.token });
  const lifetimeDays = (token: { expires_at: string | null }) => (token.expires_at === null ? null : (Date.parse(token.expires_at) - clock.now().getTime()) / 86_400_000);

  describe('tokens without expiry by default (renewable period "none")', () => {
    it('keeps the safe default: 90 days, and "none" is refused while tokens without expiry are not allowed', async () => {
      const made = await create({ scope: { kind: 'all' } });
      assert.equal(made.status, 201, made.text);
      assert.equal(lifetimeDays(made.body), 90);
      await revoke(made.body.id);
      const refused = await setPolicy({ renewable_period_seconds: null });
      assertProblem(refused, 400, 'VALIDATION_FAILED', '/renewable_period_seconds');
      assert.match(refused.body.detail, /allow_no_expiry/);
      assert.equal((await ts.request('GET', '/api/v1/policy', { token: owner })).body.renewable_period_seconds, 90 * day, 'nothing changed');
    });

    it('with password expiry off and the period "none", tokens do not expire unless an expiry is given', async () => {
      const set = await setPolicy({ allow_no_expiry: true, renewable_period_seconds: null });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.renewable_period_seconds, null);
      assert.equal(set.body.default_token_lifetime_seconds, null, 'direct tokens follow the renewable period');

      const plain = await create({ scope: { kind: 'all' } });
      assert.equal(plain.status, 201, plain.text);
      assert.equal(plain.body.expires_at, null, 'no expiry given: none');
      assert.equal(plain.body.status, 'active');
      clock.advance(400 * day);
      // Sessions last hours; the token outlives them.
      owner = await loginAdmin(ts);
      member = { token: await ts.login('nina', userPassword) };
      assert.equal((await ts.request('GET', `/api/v1/tokens/${plain.body.id}`, { token: member.token })).body.status, 'active', 'still active a year later');
      assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: plain.body.token })).status, 200, 'and still exchanged');

      const dated = await create({ name: 'one-day', expires: '1D', scope: { kind: 'all' } });
      assert.equal(lifetimeDays(dated.body), 1, 'an expiry given still applies');

      // A direct token (the seeds' SCIM preset) without an expiry does not expire either.
      const preset = await ts.request('POST', '/api/v1/presets', { token: owner, body: { name: 'scim-seed', description: 'SCIM', endpoints: ['/scim/v2/*'], mode: 'direct', scope_locked: true } });
      assert.equal(preset.status, 201, preset.text);
      const direct = await create({ name: 'scim', scope: { kind: 'scim-seed' } });
      assert.equal(direct.status, 201, direct.text);
      assert.equal(direct.body.expires_at, null);
      for (const id of [plain.body.id, dated.body.id, direct.body.id]) await revoke(id);
    });

    it('with password expiry on, the password expiry is the default and the maximum (the seeds\' CLI rule)', async () => {
      await setPolicy({ password_expiry_seconds: 60 * day });
      const plain = await create({ scope: { kind: 'all' } });
      assert.equal(lifetimeDays(plain.body), 60);
      assertProblem(await create({ name: 'never', expires: null, scope: { kind: 'all' } }), 400, 'VALIDATION_FAILED', '/expires');
      assertProblem(await create({ name: 'long', expires: '61D', scope: { kind: 'all' } }), 400, 'EXPIRY_TOO_LONG', '/expires');
      await revoke(plain.body.id);
      // A maximum stands in for a "none" default even when tokens without expiry are off.
      const set = await setPolicy({ password_expiry_seconds: null, max_token_lifetime_seconds: 30 * day, allow_no_expiry: false });
      assert.equal(set.status, 200, set.text);
      const capped = await create({ scope: { kind: 'all' } });
      assert.equal(lifetimeDays(capped.body), 30);
      await revoke(capped.body.id);
      // Without the maximum the combination is refused again.
      assertProblem(await setPolicy({ max_token_lifetime_seconds: null }), 400, 'VALIDATION_FAILED', '/renewable_period_seconds');
      assert.equal((await setPolicy({ max_token_lifetime_seconds: null, renewable_period_seconds: 90 * day })).status, 200);
    });
  });

  describe('access tokens up to 30 days', () => {
    it('policy takes 2592000 seconds and refuses one more, naming the range', async () => {
      assertProblem(await setPolicy({ access_token_ttl_seconds: 2_592_001 }), 400, 'VALIDATION_FAILED', '/access_token_ttl_seconds');
      const set = await setPolicy({ access_token_ttl_seconds: 2_592_000 });
      assert.equal(set.status, 200, set.text);
      const made = await create({ name: 'month', scope: { kind: 'all' } });
      assert.equal(made.body.expires_in, 2_592_000);
      const exchanged = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: made.body.token });
      assert.equal(exchanged.status, 200, exchanged.text);
      assert.equal(exchanged.body.expires_in, 2_592_000, 'the Cloud Director seed\'s answer');
      await revoke(made.body.id);
      await setPolicy({ access_token_ttl_seconds: 1800 });
    });

    it('apps take up to 30 days too', async () => {
      assertProblem(await ts.request('POST', '/api/v1/apps', { token: owner, body: { name: 'too-long', access_token_ttl_seconds: 2_592_001 } }), 400, 'VALIDATION_FAILED', '/access_token_ttl_seconds');
      const app = await createApp(ts, owner, { name: 'monthly', roles: ['member'], access_token_ttl_seconds: 2_592_000 });
      const granted = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
      assert.equal(granted.status, 200, granted.text);
      assert.equal(granted.body.expires_in, 2_592_000);
    });
  });

  describe('default names', () => {
    it('numbers the next default-named token <owner>_api_token_2, _3, and reuses a revoked one\'s name', async () => {
      const names: string[] = [];
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const made = await create({ scope: { kind: 'all' } });
        assert.equal(made.status, 201, made.text);
        names.push(made.body.name);
        ids.push(made.body.id);
      }
      assert.deepEqual(names, ['nina_api_token', 'nina_api_token_2', 'nina_api_token_3']);
      await revoke(ids[1] as string);
      const again = await create({ scope: { kind: 'all' } });
      assert.equal(again.body.name, 'nina_api_token_2', 'the lowest free number');
      for (const id of [ids[0], ids[2], again.body.id]) await revoke(id as string);
    });

    it('gives concurrent default-named creates distinct names', async () => {
      const made = await Promise.all([1, 2, 3, 4].map(() => create({ scope: { kind: 'all' } })));
      for (const response of made) assert.equal(response.status, 201, response.text);
      assert.deepEqual(made.map((r) => r.body.name).sort(), ['nina_api_token', 'nina_api_token_2', 'nina_api_token_3', 'nina_api_token_4']);
      for (const response of made) await revoke(response.body.id);
    });
  });
});
