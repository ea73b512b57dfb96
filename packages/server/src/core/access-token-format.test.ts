import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { generateSigningKey, openSigningKey, signAccessToken, verifyAccessToken, type AccessTokenClaims } from './access-token-format.js';

const secretKey = randomBytes(32);
const now = new Date('2026-06-01T12:00:00Z');
const iat = Math.floor(now.getTime() / 1000);
const claims: AccessTokenClaims = {
  iss: 'http://tessera.test',
  sub: 'usr_1',
  aud: 'http://api.test',
  exp: iat + 1800,
  iat,
  jti: 'jti-1',
  client_id: 'tessera-api-token',
  org: 'org_1',
  roles: ['member'],
  scope: 'custom',
  endpoints: ['GET /plans'],
  tid: 'tok_1',
  amr: ['token'],
};

for (const algorithm of ['ES256', 'RS256', 'EdDSA'] as const) describe(`access token format (${algorithm})`, () => {
  const stored = generateSigningKey(secretKey, 'key-1', randomBytes(12), now, algorithm);
  const key = openSigningKey(secretKey, stored);
  const keys = (kid: string) => (kid === 'key-1' ? key : undefined);

  it('stores no usable private key without the secret key', () => {
    assert.ok(!stored.encryptedPrivateKey.toString('latin1').includes('PRIVATE'));
    assert.throws(() => openSigningKey(randomBytes(32), stored));
    assert.throws(() => openSigningKey(secretKey, { ...stored, kid: 'key-2' }), 'the kid is bound to the ciphertext');
    assert.equal('d' in stored.publicKey, false, 'the public JWK has no private part');
  });

  it('signs a JWT that jose verifies against the JWKS with typ, iss, aud and exp checked', async () => {
    const token = signAccessToken(key, claims);
    const jwks = createLocalJWKSet({ keys: [key.publicJwk] });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      typ: 'at+jwt',
      issuer: 'http://tessera.test',
      audience: 'http://api.test',
      algorithms: [algorithm],
      currentDate: now,
    });
    assert.equal(protectedHeader.kid, 'key-1');
    assert.equal(protectedHeader.alg, algorithm);
    assert.deepEqual([key.publicJwk.alg, key.publicJwk.use, key.publicJwk.kid], [algorithm, 'sig', 'key-1']);
    assert.equal(payload.sub, 'usr_1');
    assert.deepEqual(payload['endpoints'], ['GET /plans']);
  });

  it('verifies its own tokens and rejects tampering, other keys, wrong type and expiry', () => {
    const token = signAccessToken(key, claims);
    assert.deepEqual(verifyAccessToken(token, keys, { issuer: claims.iss, now }), { valid: true, claims, kid: 'key-1' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, roles: ['org-owner'] })).toString('base64url');
    assert.equal(verifyAccessToken(`${h}.${forgedPayload}.${s}`, keys, { issuer: claims.iss, now }).valid, false);
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    assert.deepEqual(verifyAccessToken(`${h}.${p}.${flipped}`, keys, { issuer: claims.iss, now }), { valid: false, reason: 'bad_signature' });
    assert.deepEqual(verifyAccessToken(token, () => undefined, { issuer: claims.iss, now }), { valid: false, reason: 'unknown_key' });
    assert.deepEqual(verifyAccessToken(token, keys, { issuer: 'http://evil', now }), { valid: false, reason: 'wrong_issuer' });
    assert.deepEqual(verifyAccessToken(token, keys, { issuer: claims.iss, now: new Date(now.getTime() + 1800_000) }), { valid: false, reason: 'expired' });
    const jwtHeader = Buffer.from(JSON.stringify({ alg: algorithm, typ: 'JWT', kid: 'key-1' })).toString('base64url');
    // RFC 8725 §3.1: the key's algorithm decides; a header naming another one never verifies.
    for (const other of ['ES256', 'RS256', 'EdDSA', 'HS256'].filter((alg) => alg !== algorithm)) {
      const swapped = Buffer.from(JSON.stringify({ alg: other, typ: 'at+jwt', kid: 'key-1' })).toString('base64url');
      assert.equal(verifyAccessToken(`${swapped}.${p}.${s}`, keys, { issuer: claims.iss, now }).valid, false, other);
    }
    assert.deepEqual(verifyAccessToken(`${jwtHeader}.${p}.${s}`, keys, { issuer: claims.iss, now }), { valid: false, reason: 'wrong_type' });
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'key-1' })).toString('base64url');
    assert.equal(verifyAccessToken(`${none}.${p}.${s}`, keys, { issuer: claims.iss, now }).valid, false);
    for (const garbage of ['', 'a.b.c', 'x'.repeat(5000), `${h}.${p}`, `${h}.!!!.${s}`]) {
      assert.deepEqual(verifyAccessToken(garbage, keys, { issuer: claims.iss, now }), { valid: false, reason: 'malformed' });
    }
  });
});
