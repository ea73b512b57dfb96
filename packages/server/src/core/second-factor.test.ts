import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashRecoveryCode, matchRecoveryCode, newRecoveryCodes, openSeed, sealSeed } from './second-factor.js';

describe('second factor: sealed seeds and recovery codes', () => {
  it('seals seeds under the server key: unreadable at rest, opened only with that key', () => {
    const key = randomBytes(32);
    const seed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
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
