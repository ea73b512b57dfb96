import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ENDPOINT_PATTERN_SHAPE,
  EXPIRY_INPUT_PATTERN,
  IP_ENTRY_SHAPE,
  RELATIVE_DURATION_PATTERN,
  parseEndpointPatterns,
  parseIpEntry,
  parseRelativeExpiry,
  resolveExpiry,
} from './index.js';

/**
 * The shapes are what API documents publish of these rules; a shape must never refuse what
 * the rule accepts, or a client generated from the document would refuse valid input.
 */
const accepts = (parse: () => unknown) => {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
};

const from = (alphabet: string, maxLength = 40) => fc.string({ unit: fc.constantFrom(...alphabet), maxLength });
const params = { numRuns: 3000, seed: 12 };

describe('rule shapes for API documents', () => {
  it('every expiry resolveExpiry accepts matches EXPIRY_INPUT_PATTERN', () => {
    const shape = new RegExp(EXPIRY_INPUT_PATTERN, 'u');
    const now = new Date('2026-01-01T00:00:00Z');
    const candidates = fc.oneof(from('0123456789-T:Zz+.YMDdhms ', 30), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.nat(99).map((n) => `${n}D`));
    fc.assert(fc.property(candidates, (input) => !accepts(() => resolveExpiry(input, now)) || shape.test(input)), params);
    for (const valid of ['90D', '2027-01-31', '2027-01-31T10:00:00Z', '2027-01-31T12:00+02:00']) assert.match(valid, shape);
  });

  it('every duration parseRelativeExpiry accepts matches RELATIVE_DURATION_PATTERN (the 1000-year cap is the parser\'s)', () => {
    const shape = new RegExp(RELATIVE_DURATION_PATTERN, 'u');
    fc.assert(fc.property(from('0123456789YMwWdDhHmsSx -', 8), (input) => !accepts(() => parseRelativeExpiry(input)) || shape.test(input)), params);
  });

  it('every endpoint pattern parseEndpointPatterns accepts matches ENDPOINT_PATTERN_SHAPE', () => {
    const shape = new RegExp(ENDPOINT_PATTERN_SHAPE, 'u');
    const candidates = fc.oneof(from('/ab*.?#%\\ \t,GETPOSgetx\u0000é'), fc.webPath(), fc.webPath().map((p) => `GET,POST /${p}*`));
    fc.assert(fc.property(candidates, (line) => !accepts(() => parseEndpointPatterns([line])) || shape.test(line)), params);
  });

  it('every allowlist entry parseIpEntry accepts matches IP_ENTRY_SHAPE', () => {
    const shape = new RegExp(IP_ENTRY_SHAPE, 'u');
    const candidates = fc.oneof(from('0123456789abcdefABCDEF:./- \t\u2013[]%g'), fc.ipV4(), fc.ipV6(), fc.tuple(fc.ipV4(), fc.nat(40)).map(([a, n]) => `${a}/${n}`));
    fc.assert(fc.property(candidates, (entry) => !accepts(() => parseIpEntry(entry)) || shape.test(entry)), params);
  });
});
