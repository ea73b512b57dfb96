import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkTotp, hashRecoveryCode, matchRecoveryCode, newRecoveryCodes, newTotpSeed, openSeed, otpauthUri, sealSeed } from './second-factor.js';

/** RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890", in base32. */
const rfcSeed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const at = (seconds: number) => new Date(seconds * 1000);

describe('second factor (TOTP, RFC 6238)', () => {
  it('accepts RFC 6238 Appendix B codes (their last six digits) at their times', async () => {
    for (const [time, code] of [[59, '287082'], [1_111_111_109, '081804'], [1_234_567_890, '005924'], [2_000_000_000, '279037']] as const) {
      assert.equal(await checkTotp(rfcSeed, code, at(time), null), Math.floor(time / 30), `T=${time}`);
    }
  });

  it('allows one step of drift either side, not two, and refuses malformed codes', async () => {
    assert.equal(await checkTotp(rfcSeed, '005924', at(1_234_567_890 + 30), null), Math.floor(1_234_567_890 / 30), 'a step late');
    assert.equal(await checkTotp(rfcSeed, '005924', at(1_234_567_890 - 30), null), Math.floor(1_234_567_890 / 30), 'a step early');
    assert.equal(await checkTotp(rfcSeed, '005924', at(1_234_567_890 + 90), null), undefined, 'three steps late');
    for (const bad of ['', '00592', '0059240', 'abcdef', ' 005924']) assert.equal(await checkTotp(rfcSeed, bad, at(1_234_567_890), null), undefined, bad);
  });

  it('never accepts a code of a step already used (no replay)', async () => {
    const step = await checkTotp(rfcSeed, '005924', at(1_234_567_890), null);
    assert.ok(step !== undefined);
    assert.equal(await checkTotp(rfcSeed, '005924', at(1_234_567_890), step), undefined);
  });

  it('makes 160-bit seeds and an otpauth URI naming issuer and account', () => {
    const seed = newTotpSeed();
    assert.match(seed, /^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri('Tessera', 'alice', seed));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), seed);
    assert.equal(uri.searchParams.get('issuer'), 'Tessera');
  });

  it('seals seeds under the server key: unreadable at rest, opened only with that key', () => {
    const key = randomBytes(32);
    const seed = newTotpSeed();
    const sealed = sealSeed(key, seed);
    assert.ok(!sealed.toString('latin1').includes(seed));
    assert.equal(openSeed(key, sealed), seed);
    assert.throws(() => openSeed(randomBytes(32), sealed));
  });

  it('recovery codes: ten distinct, stored as keyed hashes, matched loosely and only by the right key', () => {
    const key = randomBytes(32);
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    const hashes = codes.map((code) => hashRecoveryCode(key, code));
    assert.ok(hashes.every((hash, i) => !hash.includes(codes[i] as string)));
    assert.equal(matchRecoveryCode(key, (codes[3] as string).toUpperCase().replace(/-/g, ' '), hashes), 3);
    assert.equal(matchRecoveryCode(key, 'aaaa-bbbb-cccc', hashes), -1);
    assert.equal(matchRecoveryCode(randomBytes(32), codes[3] as string, hashes), -1);
  });
});
