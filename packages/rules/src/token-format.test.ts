import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { anyString, assertRuleError } from '../test/assert-rule-error.js';
import {
  assertTokenPrefix,
  DEFAULT_TOKEN_PREFIX,
  formatToken,
  generateSecret,
  generateToken,
  generateTokenId,
  parseToken,
  tokenDisplayPrefix,
  type RandomBytes,
} from './token-format.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID = 'AbCdEf012345';
const SECRET = '0123456789abcdefghijABCDEFGHIJzz';


/** A byte source that replays `bytes` cyclically. */
function replay(bytes: readonly number[]): RandomBytes {
  let next = 0;
  return (count) => Uint8Array.from({ length: count }, () => bytes[next++ % bytes.length] ?? 0);
}

/** Reference checksum: node's own CRC-32, written as 6 big-endian base62 digits. */
function referenceChecksum(body: string): string {
  let value = crc32(body);
  let digits = '';
  for (let i = 0; i < 6; i++) {
    digits = BASE62.charAt(value % 62) + digits;
    value = Math.floor(value / 62);
  }
  return digits;
}

describe('generateToken', () => {
  it('round-trips through parseToken', () => {
    const { id, secret, token } = generateToken('tsr');
    assert.deepEqual(parseToken(token, 'tsr'), { ok: true, id, secret });
  });

  it('has the documented shape and lengths', () => {
    for (const prefix of ['tsr', 'ab', 'acme2024prodkeys']) {
      const { id, secret, token } = generateToken(prefix);
      assert.match(id, /^[0-9A-Za-z]{12}$/);
      assert.match(secret, /^[0-9A-Za-z]{32}$/);
      assert.equal(token.length, prefix.length + 1 + 12 + 1 + 32 + 6);
      assert.ok(token.startsWith(`${prefix}_${id}.${secret}`));
    }
  });

  it('carries a CRC-32 checksum of everything before it', () => {
    const { token } = generateToken('tsr');
    assert.equal(token.slice(-6), referenceChecksum(token.slice(0, -6)));
  });

  it('is deterministic for an injected byte source', () => {
    const bytes = Array.from({ length: 256 }, (_, i) => (i * 37) % 256);
    const first = generateToken('tsr', replay(bytes));
    assert.deepEqual(generateToken('tsr', replay(bytes)), first);
    assert.deepEqual(first, {
      id: first.token.slice(4, 16),
      secret: first.token.slice(17, 49),
      token: formatToken('tsr', first.id, first.secret),
    });
  });

  it('skips bytes of 248 and above so base62 stays uniform (rejection sampling)', () => {
    const random = replay([248, 255, 0, 249, 61, 62, 123, 247]);
    // 0→"0", 61→"z", 62→"0", 123→"z" (123 % 62 = 61), 247→"z" (247 % 62 = 61)
    assert.equal(generateTokenId(random).slice(0, 5), '0z0zz');
  });

  it('uses all 62 characters', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of generateSecret()) seen.add(c);
    assert.equal(seen.size, 62);
  });

  it('spreads characters evenly (chi-squared, 61 degrees of freedom)', () => {
    const counts = new Map<string, number>();
    const draws = 1000;
    for (let i = 0; i < draws; i++) for (const c of generateSecret()) counts.set(c, (counts.get(c) ?? 0) + 1);
    const expected = (draws * 32) / 62;
    const chi = [...BASE62].reduce((sum, c) => sum + ((counts.get(c) ?? 0) - expected) ** 2 / expected, 0);
    // p < 1e-6 at 61 degrees of freedom is about 125: a biased sampler fails, chance does not.
    assert.ok(chi < 125, `chi-squared ${chi.toFixed(1)}`);
  });

  it('gives distinct ids and secrets', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateTokenId()));
    assert.equal(ids.size, 1000);
  });

  it('fails loudly on a broken byte source instead of looping', () => {
    assert.throws(() => generateSecret(() => new Uint8Array(64).fill(255)), /random source/);
    assert.throws(() => generateSecret(() => new Uint8Array(0)), /random source/);
  });

  it('refuses an invalid prefix', () => {
    assertRuleError(() => generateToken('TSR'), 'INVALID_TOKEN_PREFIX');
  });
});

describe('assertTokenPrefix', () => {
  for (const prefix of ['tsr', 'ab', 'a1', 'acme2024prodkeys']) {
    it(`accepts ${prefix}`, () => assertTokenPrefix(prefix));
  }
  for (const prefix of ['', 'a', 'Tsr', '1ab', 'ts_r', 'ts.r', 'acme2024prodkeysx', 'tsr ', 'tšr']) {
    it(`refuses ${JSON.stringify(prefix)}`, () => {
      assert.match(assertRuleError(() => assertTokenPrefix(prefix), 'INVALID_TOKEN_PREFIX').message, /use 2 to 16 characters, a lowercase letter first/);
    });
  }
  it('has a valid default', () => assertTokenPrefix(DEFAULT_TOKEN_PREFIX));
});

describe('formatToken', () => {
  it('appends the checksum', () => {
    const body = `tsr_${ID}.${SECRET}`;
    assert.equal(formatToken('tsr', ID, SECRET), body + referenceChecksum(body));
  });

  it('refuses malformed parts without repeating the secret', () => {
    assertRuleError(() => formatToken('tsr', 'short', SECRET), 'MALFORMED_TOKEN');
    const error = assertRuleError(() => formatToken('tsr', ID, `${SECRET}!`), 'MALFORMED_TOKEN');
    assert.ok(!error.message.includes(SECRET));
    const swapped = assertRuleError(() => formatToken('tsr', SECRET, ID), 'MALFORMED_TOKEN');
    assert.ok(!swapped.message.includes(SECRET));
  });
});

describe('parseToken', () => {
  const token = formatToken('tsr', ID, SECRET);

  it('accepts a well-formed token', () => assert.deepEqual(parseToken(token, 'tsr'), { ok: true, id: ID, secret: SECRET }));

  const malformed: [string, string][] = [
    ['empty', ''],
    ['prefix only', 'tsr_'],
    ['missing dot', token.replace('.', '')],
    ['dot replaced', token.replace('.', '-')],
    ['truncated', token.slice(0, -1)],
    ['extended', `${token}0`],
    ['surrounding space', ` ${token}`],
    ['trailing newline', `${token}\n`],
    ['non-base62 character', token.replace(SECRET.slice(0, 1), '+')],
    ['upper-case prefix', token.replace('tsr', 'TSR')],
    ['too long', `tsr_${'a'.repeat(300)}`],
    ['Bearer included', `Bearer ${token}`],
  ];
  for (const [what, input] of malformed) {
    it(`refuses a token with ${what} as malformed`, () => assert.deepEqual(parseToken(input, 'tsr'), { ok: false, reason: 'malformed' }));
  }

  it('refuses a token of another prefix', () => {
    assert.deepEqual(parseToken(formatToken('acme', ID, SECRET), 'tsr'), { ok: false, reason: 'wrong_prefix' });
  });

  it('refuses a wrong checksum', () => {
    const wrong = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    assert.deepEqual(parseToken(wrong, 'tsr'), { ok: false, reason: 'bad_checksum' });
  });

  it('refuses input over 200 characters without reading it', () => {
    assert.deepEqual(parseToken('x'.repeat(201), 'tsr'), { ok: false, reason: 'malformed' });
    assert.deepEqual(parseToken(`tsr_${'a'.repeat(1_000_000)}`, 'tsr'), { ok: false, reason: 'malformed' });
  });

  const valid = fc
    .tuple(fc.stringMatching(/^[a-z][a-z0-9]{1,15}$/), fc.stringMatching(/^[0-9A-Za-z]{12}$/), fc.stringMatching(/^[0-9A-Za-z]{32}$/))
    .map(([prefix, id, secret]) => ({ prefix, token: formatToken(prefix, id, secret) }));

  it('rejects every single-character substitution (property)', () => {
    fc.assert(
      fc.property(valid, fc.nat(), fc.constantFrom(...BASE62, 'a', '_', '.', '-'), ({ prefix, token: original }, at, replacement) => {
        const index = at % original.length;
        fc.pre(original[index] !== replacement);
        const typo = original.slice(0, index) + replacement + original.slice(index + 1);
        assert.equal(parseToken(typo, prefix).ok, false, typo);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects every swap of neighbouring characters, deletion and insertion (property)', () => {
    fc.assert(
      fc.property(valid, fc.nat(), fc.constantFrom(...BASE62), ({ prefix, token: original }, at, extra) => {
        const index = at % (original.length - 1);
        const swapped = original.slice(0, index) + original.charAt(index + 1) + original.charAt(index) + original.slice(index + 2);
        if (swapped !== original) assert.equal(parseToken(swapped, prefix).ok, false, swapped);
        assert.equal(parseToken(original.slice(0, index) + original.slice(index + 1), prefix).ok, false);
        assert.equal(parseToken(original.slice(0, index) + extra + original.slice(index), prefix).ok, false);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws and accepts nothing random (property)', () => {
    fc.assert(
      fc.property(fc.oneof(anyString(80), fc.stringMatching(/^tsr_[0-9A-Za-z]{12}\.[0-9A-Za-z]{38}$/)), (input) => {
        assert.equal(parseToken(input, 'tsr').ok, false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('tokenDisplayPrefix', () => {
  const token = formatToken('tsr', ID, SECRET);

  it('keeps only prefix and id of a token', () => {
    const shown = tokenDisplayPrefix(token);
    assert.equal(shown, `tsr_${ID}`);
    assert.ok(!shown.includes(SECRET.slice(0, 8)));
  });

  it('adds the prefix to a bare id', () => {
    assert.equal(tokenDisplayPrefix(ID), `tsr_${ID}`);
    assert.equal(tokenDisplayPrefix(ID, 'acme'), `acme_${ID}`);
    assert.equal(tokenDisplayPrefix(`acme_${ID}`), `acme_${ID}`);
  });

  it('refuses anything else without repeating it', () => {
    for (const input of [SECRET, '', 'tsr_short', `${ID}x`]) {
      const error = assertRuleError(() => tokenDisplayPrefix(input), 'MALFORMED_TOKEN');
      if (input !== '') assert.ok(!error.message.includes(input), error.message);
    }
  });
});
