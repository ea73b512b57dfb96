import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createVerifier } from '@tessera/verify';
import { loadConfig } from '../../src/config/config.js';
import { maxAccessTokenTtlSeconds } from '../../src/core/policy.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { createPostgresDatabase } from '../support/databases.js';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { TestClock, adminPassword, startTestServer, testSecretKey, type TestServer } from '../support/server.js';

/** RFC 9068 JWT access tokens, verified with jose against the published JWKS; key rotation. */
describe('RFC 9068 JWT access tokens', () => {
  let ts: TestServer;
  let app: { id: string; clientId: string; clientSecret: string };
  const clock = new TestClock();

  before(async () => {
    ts = await startTestServer({ clock, env: { TESSERA_SIGNING_KEY_ROTATION_DAYS: '7' } });
    const admin = await loginAdmin(ts);
    app = await createApp(ts, admin, { name: 'jwt-app', roles: ['auditor'] });
  });
  after(async () => ts.close());

  const mint = async () => {
    const response = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) });
    assert.equal(response.status, 200, response.text);
    return response.body.access_token as string;
  };
  const jwks = async () => createLocalJWKSet((await ts.request('GET', '/.well-known/jwks.json')).body);
  const verify = async (token: string) =>
    jwtVerify(token, await jwks(), { typ: 'at+jwt', issuer: ts.url, audience: 'api', algorithms: ['ES256'], currentDate: clock.now() });

  it('verifies with jose against the JWKS, with typ, iss, aud and exp checked', async () => {
    const token = await mint();
    const { payload, protectedHeader } = await verify(token);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'ES256', 'the default algorithm');
    // RFC 7518 §3.4: the JOSE form of an ES256 signature is R || S, 64 bytes (not DER).
    assert.equal(Buffer.from(token.split('.')[2] as string, 'base64url').length, 64);
    assert.ok(protectedHeader.kid);
    assert.equal(payload.iss, ts.url);
    assert.equal(payload.aud, 'api');
    assert.equal(payload.sub, app.clientId);
    assert.equal(payload['client_id'], app.clientId);
    assert.deepEqual(payload['roles'], ['auditor']);
    assert.deepEqual(payload['amr'], ['client']);
    assert.equal(payload['scope'], 'all');
    assert.equal(typeof payload.jti, 'string');
    assert.equal((payload.exp as number) - (payload.iat as number), 1800, 'the organization default lifetime');
    assert.ok(payload['org']);
  });

  it('is refused by jose with the wrong audience or issuer, or once expired', async () => {
    const token = await mint();
    const keys = await jwks();
    await assert.rejects(jwtVerify(token, keys, { typ: 'at+jwt', issuer: ts.url, audience: 'other', currentDate: clock.now() }));
    await assert.rejects(jwtVerify(token, keys, { typ: 'at+jwt', issuer: 'http://evil', audience: 'api', currentDate: clock.now() }));
    await assert.rejects(jwtVerify(token, keys, { typ: 'at+jwt', issuer: ts.url, audience: 'api', currentDate: new Date(clock.now().getTime() + 1801_000) }));
  });

  it('after a rotation, old tokens still verify until they expire and new ones carry the new kid', async () => {
    const before = await mint();
    const oldKid = decodeProtectedHeader(before).kid;
    const publishedBefore = (await ts.request('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    clock.advance(8 * 86_400);
    assert.equal(await ts.server.container.keyring.rotateIfDue(), true);
    const after = await mint();
    const newKid = decodeProtectedHeader(after).kid;
    assert.notEqual(newKid, oldKid);
    // RFC 7517 rollover: a resource server that cached the JWKS before the rotation already
    // holds the key new tokens name, so none is refused while its cache waits to refetch.
    assert.ok(publishedBefore.includes(newKid), 'the new key was published before it signed');
    const published = (await ts.request('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    assert.ok(published.includes(oldKid) && published.includes(newKid), 'both keys are published');
    // The old token is past its own expiry by now; check its signature at its own time.
    await jwtVerify(before, await jwks(), { typ: 'at+jwt', issuer: ts.url, audience: 'api', currentDate: new Date(clock.now().getTime() - 8 * 86_400_000) });
    await verify(after);
    assert.equal(await ts.server.container.keyring.rotateIfDue(), false, 'not due again yet');
    // Policy and apps may give access tokens up to 30 days (SPEC 4), so a retired key stays
    // published that long: a 30-day token signed just before the rotation must still verify.
    clock.advance(29 * 86_400);
    await ts.server.container.keyring.refresh();
    const stillPublished = (await ts.request('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    assert.ok(stillPublished.includes(oldKid), 'a retired key stays published for the longest access-token lifetime');
    clock.advance(86_400 + 301);
    await ts.server.container.keyring.refresh();
    const later = (await ts.request('GET', '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    assert.ok(!later.includes(oldKid), 'a retired key leaves the JWKS once every token it signed has expired');
    assert.ok(later.includes(newKid));
    assert.equal(later.length, 2, 'the active key and the next one, already published');
  });

  it('keeps the private key out of the JWKS and the database', async () => {
    const jwksText = (await ts.request('GET', '/.well-known/jwks.json')).text;
    assert.ok(!/"d"\s*:/.test(jwksText));
    const stored = await ts.server.container.store.signingKeys.listPublished(new Date(0));
    for (const key of stored) assert.ok(!('d' in key.publicKey));
  });
});

/** Each algorithm end to end: what the server signs, jose and @tessera/verify accept against the JWKS. */
describe('RFC 9068 access tokens for each signing algorithm', () => {
  for (const algorithm of ['ES256', 'RS256', 'EdDSA'] as const) {
    it(`${algorithm}: signed with the configured algorithm, verified by jose, @tessera/verify and introspection`, async () => {
      const ts = await startTestServer({ env: { TESSERA_SIGNING_ALGORITHM: algorithm } });
      const verifier = createVerifier({ issuer: ts.url, audience: 'api' });
      try {
        const admin = await loginAdmin(ts);
        const app = await createApp(ts, admin, { name: 'alg-app', can_introspect: true });
        const token = (await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(app.clientId, app.clientSecret) })).body.access_token as string;
        const keys = createLocalJWKSet((await ts.request('GET', '/.well-known/jwks.json')).body);
        const { protectedHeader } = await jwtVerify(token, keys, { typ: 'at+jwt', issuer: ts.url, audience: 'api', algorithms: [algorithm] });
        assert.equal(protectedHeader.alg, algorithm);
        const verdict = await verifier.verify({ method: 'GET', url: '/', header: (name) => (name === 'authorization' ? `Bearer ${token}` : undefined), remoteAddress: '127.0.0.1' });
        assert.equal(verdict.ok, true, JSON.stringify(verdict));
        const introspected = await ts.form('/oauth/introspect', { token }, { authorization: basic(app.clientId, app.clientSecret) });
        assert.equal(introspected.body.active, true);
        // RFC 8725 §3.1: a token naming another algorithm for the same key is refused.
        const [, payload, signature] = token.split('.') as [string, string, string];
        const other = algorithm === 'ES256' ? 'RS256' : 'ES256';
        const swapped = `${Buffer.from(JSON.stringify({ ...protectedHeader, alg: other })).toString('base64url')}.${payload}.${signature}`;
        assert.equal((await ts.form('/oauth/introspect', { token: swapped }, { authorization: basic(app.clientId, app.clientSecret) })).text, '{"active":false}');
        const refused = await verifier.verify({ method: 'GET', url: '/', header: (name) => (name === 'authorization' ? `Bearer ${swapped}` : undefined), remoteAddress: '127.0.0.1' });
        assert.equal(refused.ok, false);
      } finally {
        verifier.close();
        await ts.close();
      }
    });
  }
});

/**
 * Changing TESSERA_SIGNING_ALGORITHM (SPEC 5.2): the next start signs with a key of the new
 * algorithm, and tokens signed before stay valid until they expire, at introspection and in
 * @tessera/verify. The same database across two starts: PGlite on disk, and PostgreSQL when set.
 */
describe('changing the signing algorithm rotates keys without breaking earlier tokens', () => {
  const targets: { name: string; open(): Promise<{ config: Record<string, unknown>; dispose(): Promise<void> }> }[] = [
    {
      name: 'pglite',
      async open() {
        const dir = await mkdtemp(join(tmpdir(), 'tessera-rotation-'));
        return { config: { dataDir: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
      },
    },
  ];
  if (process.env['TESSERA_TEST_DATABASE_URL']) {
    targets.push({
      name: 'postgres',
      async open() {
        const database = await createPostgresDatabase();
        return { config: { databaseUrl: database.url }, dispose: () => database.drop() };
      },
    });
  }

  for (const target of targets) {
    it(`EdDSA to ES256 on ${target.name}: old tokens verify until they expire, new ones are ES256`, async () => {
      const clock = new TestClock();
      const database = await target.open();
      const issuer = 'http://tessera.rotation.test';
      const start = (algorithm: string) =>
        startServer(
          loadConfig({ TESSERA_LOG_LEVEL: 'silent', TESSERA_SIGNING_ALGORITHM: algorithm, TESSERA_ISSUER: issuer }, { port: 0, adminPassword, secretKey: testSecretKey, ...database.config }),
          { clock },
        );
      const form = async (server: RunningServer, path: string, params: Record<string, string>, authorization: string) => {
        const response = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body: new URLSearchParams(params) });
        return (await response.json()) as Record<string, unknown>;
      };
      let server: RunningServer | undefined;
      try {
        server = await start('EdDSA');
        const session = await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) });
        const sessionToken = ((await session.json()) as { session_token: string }).session_token;
        const created = await fetch(`${server.url}/api/v1/apps`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionToken}` }, body: JSON.stringify({ name: 'rotation', can_introspect: true }) });
        const app = (await created.json()) as { client_id: string; client_secret: string };
        const auth = basic(app.client_id, app.client_secret);
        const before = (await form(server, '/oauth/token', { grant_type: 'client_credentials' }, auth))['access_token'] as string;
        assert.equal(decodeProtectedHeader(before).alg, 'EdDSA');
        await server.close();

        clock.advance(60);
        server = await start('ES256');
        const after = (await form(server, '/oauth/token', { grant_type: 'client_credentials' }, auth))['access_token'] as string;
        assert.equal(decodeProtectedHeader(after).alg, 'ES256', 'the new start signs with the new algorithm at once');
        const { keys } = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string }[] };
        assert.ok(keys.some((key) => key.kid === decodeProtectedHeader(before).kid && key.alg === 'EdDSA'), 'the EdDSA key is still published');
        assert.ok(keys.some((key) => key.kid === decodeProtectedHeader(after).kid && key.alg === 'ES256'));
        const waiting = keys.filter((key) => key.kid !== decodeProtectedHeader(before).kid && key.kid !== decodeProtectedHeader(after).kid);
        assert.ok(waiting.every((key) => key.alg === 'ES256'), 'the key waiting to sign next is ES256 too');

        assert.equal((await form(server, '/oauth/introspect', { token: before }, auth))['active'], true, 'introspection still accepts the EdDSA token');
        assert.equal((await form(server, '/oauth/introspect', { token: after }, auth))['active'], true);
        const verifier = createVerifier({ issuer, audience: 'api', jwksUri: `${server.url}/.well-known/jwks.json`, now: () => clock.now().getTime() });
        try {
          for (const token of [before, after]) {
            const verdict = await verifier.verify({ method: 'GET', url: '/', header: (name) => (name === 'authorization' ? `Bearer ${token}` : undefined), remoteAddress: '127.0.0.1' });
            assert.equal(verdict.ok, true, `${decodeProtectedHeader(token).alg}: ${JSON.stringify(verdict)}`);
          }
        } finally {
          verifier.close();
        }
        // Once every EdDSA token could have expired (the longest lifetime a policy allows, plus
        // the five-minute margin), the EdDSA key leaves the JWKS.
        clock.advance(maxAccessTokenTtlSeconds + 301);
        await server.container.keyring.refresh();
        const later = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { alg: string }[] };
        assert.ok(later.keys.every((key) => key.alg === 'ES256'), 'only ES256 keys remain');
      } finally {
        await server?.close();
        await database.dispose();
      }
    });
  }
});
