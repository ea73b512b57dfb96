import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SignJWT, base64url } from 'jose';
import { createVerifier, type RequestLike, type Verifier } from '../src/index.js';
import { startFakeIssuer, type FakeIssuer } from './issuer.js';

const request = (authorization: string | undefined, path = '/plans', method = 'GET', extra: Record<string, string> = {}, peer = '127.0.0.1'): RequestLike => ({
  method,
  url: path,
  header: (name) => (name === 'authorization' ? authorization : extra[name]),
  remoteAddress: peer,
});

describe('createVerifier', () => {
  let issuer: FakeIssuer;
  let verifier: Verifier;

  before(async () => {
    issuer = await startFakeIssuer();
    verifier = createVerifier({ issuer: issuer.issuer, audience: 'api', jwksCooldownSeconds: 30, trustedProxies: ['10.0.0.0/8'] });
  });
  after(async () => {
    verifier.close();
    await issuer.close();
  });

  it('accepts a valid token and exposes its auth', async () => {
    const token = await issuer.sign({ scope: 'custom', endpoints: ['GET /plans'], roles: ['member', 'auditor'] });
    const verdict = await verifier.verify(request(`Bearer ${token}`));
    assert.ok(verdict.ok);
    assert.deepEqual(verdict.auth.roles, ['member', 'auditor']);
    assert.equal(verdict.auth.sub, 'usr_1');
    assert.equal(verdict.auth.tokenId, 'tok_1');
    assert.deepEqual(verdict.auth.scope, { kind: 'custom', endpoints: ['GET /plans'] });
  });

  it('answers RFC 6750 failures', async () => {
    const none = await verifier.verify(request(undefined));
    assert.deepEqual([none.ok, !none.ok && none.status, !none.ok && none.error, !none.ok && none.wwwAuthenticate], [false, 401, undefined, 'Bearer realm="api"']);
    const bad = await verifier.verify(request('Bearer not-a-token'));
    assert.ok(!bad.ok && bad.status === 401 && bad.error === 'invalid_token');
    assert.match((!bad.ok && bad.wwwAuthenticate) || '', /^Bearer realm="api", error="invalid_token"/);
    const malformed = await verifier.verify(request('Bearer a b'));
    assert.ok(!malformed.ok && malformed.status === 400 && malformed.error === 'invalid_request');
    const basic = await verifier.verify(request('Basic dXNlcjpwYXNz'));
    assert.ok(!basic.ok && basic.status === 401 && basic.error === undefined);
    const scoped = await issuer.sign({ scope: 'custom', endpoints: ['/plans'] });
    const outside = await verifier.verify(request(`Bearer ${scoped}`, '/admin'));
    assert.ok(!outside.ok && outside.status === 403 && outside.error === 'insufficient_scope');
    assert.match((!outside.ok && outside.wwwAuthenticate) || '', /error="insufficient_scope"/);
  });

  it('gives the same answer for expired, unknown-key and wrong-audience tokens', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const answers = await Promise.all([
      issuer.sign({ iat: past - 600, exp: past }),
      issuer.sign({}, { kid: 'nope' }),
      issuer.sign({ aud: 'another-api' }),
    ].map(async (token) => verifier.verify(request(`Bearer ${await token}`))));
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.ok(!answers[0]?.ok && answers[0]?.status === 401);
  });

  it('rejects forged tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'usr_1', org: 'org_1', roles: ['org-owner'], scope: 'all', jti: 'j', iss: issuer.issuer, aud: 'api', iat: now, exp: now + 600 };
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const valid = await issuer.sign();
    const signature = valid.split('.')[2];
    const forged = [
      `${encode({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${encode(claims)}.`,
      `${encode({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${encode(claims)}.${signature}`,
      // HS256 keyed with the public key's bytes: the classic algorithm-confusion forgery.
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(issuer.publicJwk))),
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }).sign(base64url.decode(issuer.publicJwk.x as string)),
      await issuer.sign({}, { typ: 'JWT' }),
      await issuer.sign({ iss: 'http://evil.example' }),
      await issuer.sign({ aud: 'other' }),
      await issuer.sign({ iat: now - 7200, exp: now - 3600 }),
      await issuer.sign({ nbf: now + 3600 }),
      await issuer.sign({}, { kid: 'unknown-kid' }),
      `${valid.split('.')[0]}.${encode({ ...claims, roles: ['org-owner'] })}.${signature}`,
    ];
    for (const token of forged) {
      const verdict = await verifier.verify(request(`Bearer ${token}`));
      assert.ok(!verdict.ok && verdict.status === 401 && verdict.error === 'invalid_token', token);
    }
  });

  it('refetches the JWKS at most once per interval under a flood of random kids', async () => {
    const fresh = createVerifier({ issuer: issuer.issuer, audience: 'api', jwksCooldownSeconds: 30 });
    const before = issuer.jwksFetches;
    assert.ok((await fresh.verify(request(`Bearer ${await issuer.sign()}`))).ok);
    const flood = await Promise.all(Array.from({ length: 50 }, async (_, i) => fresh.verify(request(`Bearer ${await issuer.sign({}, { kid: `random-${i}` })}`))));
    assert.ok(flood.every((v) => !v.ok));
    assert.ok(issuer.jwksFetches - before <= 2, `JWKS fetched ${issuer.jwksFetches - before} times`);
    fresh.close();
  });

  it('enforces the IP allowlist against the client address behind trusted proxies only', async () => {
    const token = await issuer.sign({ ip_allowlist: ['203.0.113.0/24'] });
    const direct = await verifier.verify(request(`Bearer ${token}`, '/plans', 'GET', {}, '203.0.113.9'));
    assert.ok(direct.ok);
    const viaProxy = await verifier.verify(request(`Bearer ${token}`, '/plans', 'GET', { 'x-forwarded-for': '203.0.113.5' }, '10.1.2.3'));
    assert.ok(viaProxy.ok, 'the trusted proxy names the client');
    const spoofed = await verifier.verify(request(`Bearer ${token}`, '/plans', 'GET', { 'x-forwarded-for': '203.0.113.5' }, '198.51.100.7'));
    assert.ok(!spoofed.ok && spoofed.status === 401, 'an untrusted peer cannot claim an address');
    const outside = await verifier.verify(request(`Bearer ${token}`, '/plans', 'GET', {}, '198.51.100.7'));
    assert.ok(!outside.ok && outside.status === 401);
  });

  it('refuses direct API tokens unless introspection is configured', async () => {
    const verdict = await verifier.verify(request('Bearer tsr_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB000000'));
    assert.ok(!verdict.ok && verdict.status === 401);
  });

  describe('scope vectors (shared/vectors/scope-match.json) through the SDK', () => {
    const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/scope-match.json', import.meta.url), 'utf8')) as {
      cases: { patterns: string[]; method: string; path: string; allow: boolean }[];
    };
    for (const [index, vector] of vectors.cases.entries()) {
      it(`#${index} ${vector.method} ${vector.path} against ${vector.patterns.join(', ')} → ${vector.allow ? 'allow' : 'deny'}`, async () => {
        const token = await issuer.sign({ scope: 'custom', endpoints: vector.patterns });
        const verdict = await verifier.verify(request(`Bearer ${token}`, vector.path, vector.method));
        if (vector.allow) assert.ok(verdict.ok, JSON.stringify(verdict));
        else assert.ok(!verdict.ok && verdict.status === 403, JSON.stringify(verdict));
      });
    }
  });
});

describe('createVerifier and a key the issuer retires', () => {
  let issuer: FakeIssuer;
  before(async () => {
    issuer = await startFakeIssuer();
  });
  after(() => issuer.close());

  it('keeps a known key while the JWKS is unreachable, and stops trusting it once the JWKS no longer lists it', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: 'api', jwksMaxAgeSeconds: 1, jwksCooldownSeconds: 0 });
    try {
      assert.ok((await verifier.verify(request(`Bearer ${await issuer.sign()}`))).ok, 'the key is fetched and trusted');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      issuer.jwksMode = 'failing';
      const during = await verifier.verify(request(`Bearer ${await issuer.sign()}`));
      assert.ok(during.ok, 'an outage of the JWKS endpoint does not refuse tokens signed by a key already known');
      issuer.jwksMode = 'retired';
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const after = await verifier.verify(request(`Bearer ${await issuer.sign()}`));
      assert.ok(!after.ok && after.status === 401 && after.error === 'invalid_token', 'a new token signed by the retired key is refused');
    } finally {
      verifier.close();
      issuer.jwksMode = 'published';
    }
  });
});
