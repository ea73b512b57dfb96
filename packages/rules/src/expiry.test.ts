import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { anyString, assertOnlyRuleErrors, assertRuleError } from '../test/assert-rule-error.js';
import { formatDuration, parseRelativeExpiry, resolveExpiry } from './expiry.js';

type ExpiryVectors = { valid: { input: string; seconds: number }[]; invalid: string[] };
const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/vectors/expiry.json', import.meta.url), 'utf8'),
) as ExpiryVectors;

const NOW = new Date('2026-06-15T12:00:00Z');
const UNITS: Record<string, number> = {
  Y: 31_536_000, M: 2_592_000, w: 604_800, W: 604_800, d: 86_400, D: 86_400,
  h: 3_600, H: 3_600, m: 60, s: 1, S: 1,
};



describe('expiry vectors: valid relative input', () => {
  for (const { input, seconds } of vectors.valid) {
    it(`${input} is ${seconds} seconds`, () => {
      assert.equal(parseRelativeExpiry(input), seconds);
      assert.equal(resolveExpiry(input, NOW).getTime(), NOW.getTime() + seconds * 1000);
    });
  }
});

describe('expiry vectors: invalid input is refused naming the accepted forms', () => {
  for (const input of vectors.invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      const relative = assertRuleError(() => parseRelativeExpiry(input), 'INVALID_EXPIRY');
      assert.match(relative.message, /whole positive number followed by a unit \(Y = 365 days, M = 30 days/);
      assert.ok(relative.message.includes(JSON.stringify(input)), relative.message);

      const resolved = assertRuleError(() => resolveExpiry(input, NOW), 'INVALID_EXPIRY');
      assert.match(resolved.message, /whole positive number followed by a unit/);
      assert.match(resolved.message, /ISO 8601 date such as 2027-01-31/);
      assert.ok(resolved.message.startsWith(`Invalid expiry ${JSON.stringify(input)}: `), resolved.message);
    });
  }
});

describe('parseRelativeExpiry', () => {
  it('keeps M (30 days) and m (minutes) apart', () => {
    assert.equal(parseRelativeExpiry('1M'), 30 * 86_400);
    assert.equal(parseRelativeExpiry('1m'), 60);
  });

  it('accepts up to 1000 years and refuses more, saying so', () => {
    assert.equal(parseRelativeExpiry('1000Y'), 1000 * 31_536_000);
    assert.equal(parseRelativeExpiry('365000D'), 1000 * 31_536_000);
    assert.match(assertRuleError(() => parseRelativeExpiry('1001Y'), 'INVALID_EXPIRY').message, /more than 1000 years/);
    assert.match(assertRuleError(() => parseRelativeExpiry('365001d'), 'INVALID_EXPIRY').message, /more than 1000 years/);
  });

  it('says what is wrong before listing the forms', () => {
    assert.match(assertRuleError(() => parseRelativeExpiry('1.5D'), 'INVALID_EXPIRY').message, /^Invalid duration "1\.5D": fractions are not allowed; use /);
    assert.match(assertRuleError(() => parseRelativeExpiry('1y'), 'INVALID_EXPIRY').message, /years are Y/);
    assert.match(assertRuleError(() => parseRelativeExpiry('010D'), 'INVALID_EXPIRY').message, /leading zeros/);
  });

  it('quotes hostile input escaped and cut short', () => {
    const message = assertRuleError(() => parseRelativeExpiry(`1D\nFAKE LOG LINE${'x'.repeat(500)}`), 'INVALID_EXPIRY').message;
    assert.ok(!message.includes('\n'));
    assert.ok(message.length < 400, `message is ${message.length} characters`);
    assert.ok(!assertRuleError(() => parseRelativeExpiry('1\u202eD'), 'INVALID_EXPIRY').message.includes('\u202e'));
  });

  it('is n times the unit for every whole n and unit (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 365_000 }), fc.constantFrom(...Object.keys(UNITS)), (n, unit) => {
        const seconds = n * (UNITS[unit] ?? 0);
        if (seconds > 1000 * 31_536_000) return;
        assert.equal(parseRelativeExpiry(`${n}${unit}`), seconds);
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but RuleError for any string (property)', () => {
    fc.assert(fc.property(anyString(30), (input) => assertOnlyRuleErrors(() => parseRelativeExpiry(input))), { numRuns: 300 });
    fc.assert(fc.property(fc.stringMatching(/^[0-9+\-., ]{0,25}[A-Za-z]?$/), (input) => assertOnlyRuleErrors(() => parseRelativeExpiry(input))), { numRuns: 300 });
  });
});

describe('resolveExpiry', () => {
  it('reads a bare date as 00:00 UTC at the start of that day', () => {
    assert.equal(resolveExpiry('2027-01-31', NOW).toISOString(), '2027-01-31T00:00:00.000Z');
  });

  it('reads date-times with Z or an offset, seconds and fractions optional', () => {
    assert.equal(resolveExpiry('2027-01-31T10:00:00Z', NOW).toISOString(), '2027-01-31T10:00:00.000Z');
    assert.equal(resolveExpiry('2027-01-31T10:00Z', NOW).toISOString(), '2027-01-31T10:00:00.000Z');
    assert.equal(resolveExpiry('2027-01-31T12:00:00+02:00', NOW).toISOString(), '2027-01-31T10:00:00.000Z');
    assert.equal(resolveExpiry('2027-01-31T05:30:00-04:30', NOW).toISOString(), '2027-01-31T10:00:00.000Z');
    assert.equal(resolveExpiry('2027-01-31t10:00:00.123456z', NOW).toISOString(), '2027-01-31T10:00:00.123Z');
  });

  it('refuses a date-time without a zone rather than guessing one', () => {
    assert.match(assertRuleError(() => resolveExpiry('2027-01-31T10:00:00', NOW), 'INVALID_EXPIRY').message, /add Z \(UTC\) or an offset/);
  });

  for (const input of ['2027-02-29', '2100-02-29', '2027-04-31', '2027-13-01', '2027-00-10', '2027-01-00', '2027-01-31T24:00:00Z', '2027-01-31T10:60Z', '2027-01-31T10:00:60Z', '2027-01-31T10:00+24:00', '2027-1-31', '2027-01-31 10:00:00Z', '20270131', '2027-W05', '2027-01-31T10Z']) {
    it(`refuses the impossible or non-ISO date ${input}`, () => {
      const error = assertRuleError(() => resolveExpiry(input, NOW), 'INVALID_EXPIRY');
      assert.match(error.message, /ISO 8601 date such as 2027-01-31/);
    });
  }

  it('accepts leap days in leap years', () => {
    assert.equal(resolveExpiry('2028-02-29', NOW).toISOString(), '2028-02-29T00:00:00.000Z');
    assert.equal(resolveExpiry('2400-02-29', NOW).toISOString(), '2400-02-29T00:00:00.000Z');
  });

  it('refuses instants that are not strictly after now', () => {
    assertRuleError(() => resolveExpiry('2020-01-01', NOW), 'EXPIRY_IN_PAST');
    assertRuleError(() => resolveExpiry(NOW.toISOString(), NOW), 'EXPIRY_IN_PAST');
    assertRuleError(() => resolveExpiry('0001-01-01', NOW), 'EXPIRY_IN_PAST');
    assert.equal(resolveExpiry('2026-06-15T12:00:01Z', NOW).toISOString(), '2026-06-15T12:00:01.000Z');
  });

  it("explains that today's date has already begun", () => {
    const error = assertRuleError(() => resolveExpiry('2026-06-15', NOW), 'EXPIRY_IN_PAST');
    assert.match(error.message, /00:00 UTC at the start of that day/);
    assert.match(error.message, /choose a later date, or a relative expiry such as 90D/);
  });

  it('refuses beyond the maximum, naming it', () => {
    const max = 90 * 86_400;
    assert.equal(resolveExpiry('90D', NOW, { maxSeconds: max }).getTime(), NOW.getTime() + max * 1000);
    const error = assertRuleError(() => resolveExpiry('91D', NOW, { maxSeconds: max }), 'EXPIRY_BEYOND_MAXIMUM');
    assert.match(error.message, /maximum token lifetime of 90D: choose 90D or less \(no later than 2026-09-13T12:00:00Z\)/);
    assertRuleError(() => resolveExpiry('2030-01-01', NOW, { maxSeconds: max }), 'EXPIRY_BEYOND_MAXIMUM');
    assert.ok(resolveExpiry('1000Y', NOW, { maxSeconds: null }));
  });

  it('gives back any instant written by toISOString (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2026-06-16T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        assert.equal(resolveExpiry(date.toISOString(), NOW).getTime(), date.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('accepts exactly the calendar dates that exist (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2027, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (year, month, day) => {
        const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        const reference = new Date(Date.UTC(year, month - 1, day));
        const exists = month >= 1 && month <= 12 && reference.getUTCMonth() === month - 1 && reference.getUTCDate() === day;
        if (exists) assert.equal(resolveExpiry(text, NOW).getTime(), reference.getTime());
        else assertRuleError(() => resolveExpiry(text, NOW), 'INVALID_EXPIRY');
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but RuleError for any string (property)', () => {
    fc.assert(fc.property(anyString(40), (input) => assertOnlyRuleErrors(() => resolveExpiry(input, NOW))), { numRuns: 300 });
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt][0-9:.]{0,14}([Zz]|[+-][0-9:]{0,6})?)?$/), (input) => assertOnlyRuleErrors(() => resolveExpiry(input, NOW))),
      { numRuns: 300 },
    );
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [7_776_000, '90D'], [31_536_000, '1Y'], [63_072_000, '2Y'], [86_400, '1D'], [1_209_600, '14D'],
    [1_800, '30m'], [7_200, '2h'], [90, '90s'], [0, '0s'],
  ];
  for (const [seconds, text] of cases) {
    it(`writes ${seconds} seconds as ${text}`, () => assert.equal(formatDuration(seconds), text));
  }

  it('refuses negative and fractional seconds as a programming error', () => {
    assert.throws(() => formatDuration(-1), RangeError);
    assert.throws(() => formatDuration(1.5), RangeError);
  });

  it('round-trips through parseRelativeExpiry (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 * 31_536_000 }), (seconds) => {
        assert.equal(parseRelativeExpiry(formatDuration(seconds)), seconds);
      }),
      { numRuns: 500 },
    );
  });
});
