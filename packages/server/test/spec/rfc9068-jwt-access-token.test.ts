import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

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
    jwtVerify(token, await jwks(), { typ: 'at+jwt', issuer: ts.url, audience: 'api', algorithms: ['EdDSA'], currentDate: clock.now() });

  it('verifies with jose against the JWKS, with typ, iss, aud and exp checked', async () => {
    const token = await mint();
    const { payload, protectedHeader } = await verify(token);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'EdDSA');
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
