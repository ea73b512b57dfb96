import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { databaseTargets } from '../support/databases.js';
import { basic, createApp, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * RFC 9700 §4.14.2 refresh-token families, with API tokens as refresh tokens (issue 13 item 4):
 * a token's rotations form one family, and presenting ANY secret rotation replaced (within
 * the last 32 generations) revokes the token, so every later secret and every access token
 * minted from the family die with it. A rotation and its `token.exchanged` audit event are one
 * transaction (item 3). On PGlite, and on PostgreSQL when configured.
 */
for (const target of databaseTargets) {
  describe(`refresh-token families on ${target.name}`, { timeout: 120_000 }, () => {
    let ts: TestServer;
    let admin: string;
    let user: TestPrincipal;
    let introspector: { clientId: string; clientSecret: string };
    let names = 0;

    before(async () => {
      ts = await startTestServer({ driver: target.name });
      admin = await loginAdmin(ts);
      user = await createUser(ts, admin, 'fay', ['member']);
      introspector = await createApp(ts, admin, { name: 'resource-server', can_introspect: true });
      const set = await ts.request('PUT', '/api/v1/policy', { token: admin, body: { refresh_token_rotation: true } });
      assert.equal(set.status, 200, set.text);
    });
    after(async () => ts.close());

    const createToken = async () => {
      const response = await ts.request('POST', '/api/v1/tokens', { token: user.token, body: { name: `family-${names++}`, scope: { kind: 'all' } } });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; token: string };
    };
    const refresh = (refreshToken: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
    const active = async (accessToken: string) =>
      JSON.parse((await ts.form('/oauth/introspect', { token: accessToken }, { authorization: basic(introspector.clientId, introspector.clientSecret) })).text).active as boolean;
    const audit = async (id: string, action: string) =>
      (await ts.request('GET', `/api/v1/audit-events?target=${id}&action=${action}&limit=100`, { token: admin })).body.items as { details: Record<string, unknown> }[];

    /** T0 → S1 → … → Sn: every secret of the family and the access token each exchange returned. */
    async function family(rotations: number) {
      const api = await createToken();
      const secrets = [api.token];
      const accessTokens: string[] = [];
      for (let i = 0; i < rotations; i++) {
        const answer = await refresh(secrets[i] as string);
        assert.equal(answer.status, 200, answer.text);
        secrets.push(answer.body.refresh_token);
        accessTokens.push(answer.body.access_token);
      }
      return { id: api.id, secrets, accessTokens };
    }

    async function assertFamilyRevoked(f: { id: string; secrets: string[]; accessTokens: string[] }, generationsBack: number) {
      for (const secret of f.secrets) {
        const answer = await refresh(secret);
        assert.equal(answer.status, 400, 'every generation is refused, the newest included');
        assert.equal(answer.body.error, 'invalid_grant');
      }
      for (const accessToken of f.accessTokens) assert.equal(await active(accessToken), false, 'every access token of the family is inactive');
      const shown = await ts.request('GET', `/api/v1/tokens/${f.id}`, { token: user.token });
      assert.equal(shown.body.status, 'revoked');
      assert.equal(shown.body.revoke_reason, 'refresh token reuse detected');
      const detected = await audit(f.id, 'token.reuse_detected');
      assert.equal(detected.length, 1, 'the reuse is audited once');
      assert.deepEqual(detected[0]?.details, { reason: 'reuse', generations_back: generationsBack });
    }

    it('T0 → S1 → S2, then T0: refused, S2 refused, the family\'s access tokens inactive', async () => {
      const f = await family(2);
      for (const accessToken of f.accessTokens) assert.equal(await active(accessToken), true);
      const replay = await refresh(f.secrets[0] as string);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      await assertFamilyRevoked(f, 2);
    });

    it('T0 → S1 → S2, then S1: the same', async () => {
      const f = await family(2);
      assert.equal((await refresh(f.secrets[1] as string)).status, 400);
      await assertFamilyRevoked(f, 1);
    });

    it('remembers the last 32 generations: the 32nd back revokes; older ones are refused without revoking', async () => {
      const f = await family(34);
      // Generation 34 is current; 33 … 2 are the last 32 replaced; 1 and 0 have left the history.
      for (const forgotten of [0, 1]) {
        const answer = await refresh(f.secrets[forgotten] as string);
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error, 'invalid_grant');
      }
      assert.equal(await active(f.accessTokens.at(-1) as string), true, 'beyond the bound, the family lives on');
      assert.equal((await refresh(f.secrets[2] as string)).status, 400);
      await assertFamilyRevoked(f, 32);
    });

    it('writes each rotation with its token.exchanged event: present when the grant answers, once each', async () => {
      const f = await family(3);
      // No flush of the usage buffer: the events were written in the rotation's own transactions.
      const exchanged = await audit(f.id, 'token.exchanged');
      assert.equal(exchanged.length, 3);
      for (const event of exchanged) assert.deepEqual(event.details, { grant: 'refresh_token', rotated: true, scope: 'all' });
      await ts.server.container.usage.flush();
      assert.equal((await audit(f.id, 'token.exchanged')).length, 3, 'and nothing audits them a second time');
    });

    it('keeps concurrent use of one secret at one live successor at most', async () => {
      for (let round = 0; round < 5; round++) {
        const api = await createToken();
        const answers = await Promise.all([0, 1, 2].map(() => refresh(api.token)));
        const live = [];
        for (const success of answers.filter((a) => a.status === 200)) if ((await refresh(success.body.refresh_token)).status === 200) live.push(success);
        assert.ok(live.length <= 1, `round ${round}: ${live.length} live successors`);
      }
    });

    // PostgreSQL only: the fault is a trigger set through a second connection to the server's database.
    if (target.name === 'postgres') {
      it('rolls a rotation back when its audit event cannot be written: the presented secret still works', async () => {
        const url = ts.server.container.config.databaseUrl as string;
        const sql = new pg.Client({ connectionString: url });
        await sql.connect();
        const api = await createToken();
        try {
          await sql.query(`CREATE FUNCTION refuse_exchange_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$`);
          await sql.query(`CREATE TRIGGER refuse_exchange_audit BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.action = 'token.exchanged') EXECUTE FUNCTION refuse_exchange_audit()`);
          // A fault injected into Tessera's own database is a 500 by design (the error mapper's
          // answer for faults of Tessera itself), which /openapi.json rightly does not promise:
          // sent past the test server's conformance check.
          const failed = await fetch(`${ts.url}/oauth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: api.token }),
          });
          assert.notEqual(failed.status, 200, 'no new secret without its audit event');
          assert.deepEqual(await failed.json(), { error: 'server_error', error_description: 'Something went wrong on our side' });
        } finally {
          await sql.query('DROP TRIGGER IF EXISTS refuse_exchange_audit ON audit_events');
          await sql.query('DROP FUNCTION IF EXISTS refuse_exchange_audit()');
          await sql.end();
        }
        const again = await refresh(api.token);
        assert.equal(again.status, 200, 'the secret was not rotated, so presenting it again is no reuse');
        assert.equal((await audit(api.id, 'token.exchanged')).length, 1);
      });
    }
  });
}
