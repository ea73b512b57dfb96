import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otplibTotp } from './totp.js';

/** RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890", in base32. */
const rfcSeed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const at = (seconds: number) => new Date(seconds * 1000);

describe('TOTP port on otplib (RFC 6238)', () => {
  it('accepts RFC 6238 Appendix B codes (their last six digits) at their times', async () => {
    for (const [time, code] of [[59, '287082'], [1_111_111_109, '081804'], [1_234_567_890, '005924'], [2_000_000_000, '279037']] as const) {
      assert.equal(await otplibTotp.check(rfcSeed, code, at(time), null), Math.floor(time / 30), `T=${time}`);
    }
  });

  it('allows one step of drift either side, not two, and refuses malformed codes', async () => {
    assert.equal(await otplibTotp.check(rfcSeed, '005924', at(1_234_567_890 + 30), null), Math.floor(1_234_567_890 / 30), 'a step late');
    assert.equal(await otplibTotp.check(rfcSeed, '005924', at(1_234_567_890 - 30), null), Math.floor(1_234_567_890 / 30), 'a step early');
    assert.equal(await otplibTotp.check(rfcSeed, '005924', at(1_234_567_890 + 90), null), undefined, 'three steps late');
    for (const bad of ['', '00592', '0059240', 'abcdef', ' 005924']) assert.equal(await otplibTotp.check(rfcSeed, bad, at(1_234_567_890), null), undefined, bad);
  });

  it('never accepts a code of a step already used (no replay)', async () => {
    const step = await otplibTotp.check(rfcSeed, '005924', at(1_234_567_890), null);
    assert.ok(step !== undefined);
    assert.equal(await otplibTotp.check(rfcSeed, '005924', at(1_234_567_890), step), undefined);
  });

  it('makes 160-bit seeds and an otpauth URI naming issuer and account', () => {
    const seed = otplibTotp.newSeed();
    assert.match(seed, /^[A-Z2-7]{32}$/);
    const uri = new URL(otplibTotp.uri('Tessera', 'alice', seed));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), seed);
    assert.equal(uri.searchParams.get('issuer'), 'Tessera');
  });

});
