import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createVerifier, type RequestLike, type Verifier } from '@tessera/verify';
import { databaseTargets } from '../support/databases.js';
import { assertProblem, basic, createApp, createOrg, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const call = (token: string): RequestLike => ({ method: 'GET', url: '/plans', header: (n) => (n === 'authorization' ? `Bearer ${token}` : undefined), remoteAddress: '127.0.0.1' });

const waitFor = async (condition: () => Promise<boolean>, ms = 5000): Promise<number> => {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await condition()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
};

/** Flips one character of the secret and recomputes nothing: a value whose checksum no longer holds. */
const mistype = (token: string) => token.slice(0, -10) + (token.at(-10) === 'a' ? 'b' : 'a') + token.slice(-9);

for (const target of databaseTargets) {
  describe(`Revoke by value and before a cutoff (SPEC 9) on ${target.name}`, () => {
    let ts: TestServer;
    let admin: string;
    let member: TestPrincipal;
    let other: TestPrincipal;
    let foreign: TestPrincipal & { orgId: string };
    let verifier: Verifier;
    let worker: { clientId: string; clientSecret: string };

    before(async () => {
      ts = await startTestServer({ driver: target.name });
      admin = await loginAdmin(ts);
      member = await createUser(ts, admin, 'mona', ['member']);
      other = await createUser(ts, admin, 'otto', ['member']);
      foreign = await createOrg(ts, admin, 'faraway');
      const feedApp = await createApp(ts, admin, { name: 'api-server', can_introspect: true });
      worker = await createApp(ts, admin, { name: 'worker', roles: ['member'] });
      verifier = createVerifier({
        issuer: ts.url,
        audience: 'api',
        revocations: { clientId: feedApp.clientId, clientSecret: feedApp.clientSecret, maxStalenessSeconds: 5, reconnectDelayMs: 100 },
      });
      await verifier.ready();
    });
    after(async () => {
      verifier.close();
      await ts.close();
    });

    const create = async (token: string, name: string, owner?: string) => {
      const response = await ts.request('POST', '/api/v1/tokens', { token, body: { name, scope: { kind: 'all' }, ...(owner && { owner }) } });
      assert.equal(response.status, 201, response.text);
      return response.body as { id: string; token: string; access_token: string };
    };
    const refresh = (apiToken: string) => ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: apiToken });

    it('identifies a token by its value: metadata, never the secret', async () => {
      const made = await create(member.token, 'ci-identify');
      const response = await ts.request('POST', '/api/v1/tokens/identify', { token: admin, body: { token: made.token } });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.id, made.id);
      assert.equal(response.body.owner, 'mona');
      assert.equal(response.body.token, undefined);
      assert.ok(!response.text.includes(made.token.split('.')[1]!), 'no part of the secret in the answer');
      const audit = await ts.request('GET', `/api/v1/audit-events?target=${made.id}&action=token.identified`, { token: admin });
      assert.equal(audit.body.items.length, 1, audit.text);
    });

    it('answers 404 for a well-formed unknown value, a mistyped one and another organization\'s, without echoing it', async () => {
      const made = await create(member.token, 'ci-unknown');
      const foreignToken = await create(foreign.token, 'far-token');
      const [prefix, rest] = made.token.split('.') as [string, string];
      const wrongSecret = await ts.request('POST', '/api/v1/tokens/identify', { token: admin, body: { token: `${prefix}.${'x'.repeat(rest.length)}` } });
      assertProblem(wrongSecret, 404, 'NOT_FOUND');
      for (const value of [mistype(made.token), foreignToken.token, 'not a token at all']) {
        const response = await ts.request('POST', '/api/v1/tokens/identify', { token: admin, body: { token: value } });
        assertProblem(response, 404, 'NOT_FOUND');
        assert.ok(!response.text.includes(value), 'the value is never echoed');
      }
    });

    it('refuses bad input and callers without tokens.all', async () => {
      assertProblem(await ts.request('POST', '/api/v1/tokens/identify', { token: admin, body: {} }), 400, undefined, '/token');
      assertProblem(await ts.request('POST', '/api/v1/tokens/identify', { token: admin, body: { token: 'x'.repeat(201) } }), 400, undefined, '/token');
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-by-value', { token: admin, body: { token: 'a', extra: 1 } }), 400);
      const made = await create(other.token, 'otto-secret');
      for (const path of ['/api/v1/tokens/identify', '/api/v1/tokens/revoke-by-value']) {
        assertProblem(await ts.request('POST', path, { token: member.token, body: { token: made.token } }), 403, 'FORBIDDEN');
      }
      assertProblem(await ts.request('POST', '/api/v1/tokens/identify', { body: { token: made.token } }), 401);
      assert.equal((await refresh(made.token)).status, 200, 'a refused caller changed nothing');
    });

    it('revokes by value: the token and its access tokens stop working, at the server and the SDK', async () => {
      const made = await create(member.token, 'ci-leaked');
      assert.ok((await verifier.verify(call(made.access_token))).ok);
      const response = await ts.request('POST', '/api/v1/tokens/revoke-by-value', { token: admin, body: { token: made.token, reason: 'found in a CI log' } });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.status, 'revoked');
      assert.equal(response.body.revoke_reason, 'found in a CI log');
      assert.equal((await refresh(made.token)).status, 400);
      await waitFor(async () => !(await verifier.verify(call(made.access_token))).ok);
      const again = await ts.request('POST', '/api/v1/tokens/revoke-by-value', { token: admin, body: { token: made.token } });
      assert.equal(again.status, 200, 'idempotent');
    });

    it('revoke-all for one owner: older tokens and their access tokens stop (server and SDK), newer ones and other owners\' keep working', async () => {
      const older = await create(member.token, 'old-1');
      const older2 = await create(admin, 'old-2', 'mona');
      const bystander = await create(other.token, 'otto-keeps');
      const app = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(worker.clientId, worker.clientSecret) });
      assert.equal(app.status, 200);
      for (const token of [older.access_token, older2.access_token, bystander.access_token, app.body.access_token]) assert.ok((await verifier.verify(call(token))).ok);

      const response = await ts.request('POST', '/api/v1/tokens/revoke-all', { token: admin, body: { owner: 'mona', reason: 'laptop stolen' } });
      assert.equal(response.status, 200, response.text);
      assert.ok(response.body.revoked >= 2, response.text);
      assert.ok(Date.parse(response.body.issued_before) <= Date.now(), 'the answer comes once the cutoff has passed');

      const newer = await create(member.token, 'after-cutoff');
      const latency = await waitFor(async () => !(await verifier.verify(call(older.access_token))).ok && !(await verifier.verify(call(older2.access_token))).ok);
      assert.ok(latency < 5000);
      for (const token of [newer.access_token, bystander.access_token, app.body.access_token]) assert.ok((await verifier.verify(call(token))).ok, 'newer tokens, other owners and apps keep working');
      assert.equal((await refresh(older.token)).status, 400);
      assert.equal((await refresh(newer.token)).status, 200);
      // Server-side: the management API and introspection refuse the old access token too.
      assertProblem(await ts.request('GET', '/api/v1/tokens', { token: older.access_token }), 401);
      const shown = await ts.request('GET', `/api/v1/tokens/${older.id}`, { token: admin });
      assert.equal(shown.body.revoke_reason, 'laptop stolen');
    });

    it('revoke-all for the organization with a cutoff in the past spares tokens issued after it', async () => {
      const old = await create(other.token, 'org-old');
      await new Promise((r) => setTimeout(r, 1100));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 1100));
      const recent = await create(other.token, 'org-recent');
      const response = await ts.request('POST', '/api/v1/tokens/revoke-all', { token: admin, body: { issued_before: cutoff } });
      assert.equal(response.status, 200, response.text);
      assert.equal((await refresh(old.token)).status, 400);
      assert.equal((await refresh(recent.token)).status, 200);
      await waitFor(async () => !(await verifier.verify(call(old.access_token))).ok);
      assert.ok((await verifier.verify(call(recent.access_token))).ok);
      const shown = await ts.request('GET', `/api/v1/tokens/${old.id}`, { token: admin });
      assert.equal(shown.body.revoke_reason, 'cutoff');
      const foreignToken = await create(foreign.token, 'far-keeps');
      assert.equal((await refresh(foreignToken.token)).status, 200, 'another organization is untouched');
    });

    it('revoke-all refuses a future cutoff, an unknown owner and callers without the right', async () => {
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-all', { token: admin, body: { issued_before: future } }), 400, 'VALIDATION_FAILED', '/issued_before');
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-all', { token: admin, body: { issued_before: 'yesterday' } }), 400);
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-all', { token: admin, body: { owner: 'nobody' } }), 400, 'VALIDATION_FAILED', '/owner');
      const kept = await create(other.token, 'kept');
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-all', { token: member.token, body: {} }), 403);
      assertProblem(await ts.request('POST', '/api/v1/tokens/revoke-all', { token: member.token, body: { owner: 'otto' } }), 403);
      assert.equal((await refresh(kept.token)).status, 200, 'nothing changed');
      const own = await ts.request('POST', '/api/v1/tokens/revoke-all', { token: member.token, body: { owner: 'mona' } });
      assert.equal(own.status, 200, 'one may revoke all of one\'s own tokens');
    });

    it('never logs a token value', async () => {
      for (const line of ts.logs.lines) for (const secret of ts.knownSecrets) assert.ok(!line.includes(secret));
    });
  });
}
