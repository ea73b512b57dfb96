import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRuleError, quoteInput, RuleError } from './rule-error.js';

describe('RuleError', () => {
  it('carries a code and a message', () => {
    const error = new RuleError('INVALID_EXPIRY', 'Invalid expiry "x": use 90D');
    assert.equal(error.code, 'INVALID_EXPIRY');
    assert.equal(error.name, 'RuleError');
    assert.ok(error instanceof Error);
  });

  it('is recognised by isRuleError, also from another copy of the package', () => {
    assert.equal(isRuleError(new RuleError('MALFORMED_TOKEN', 'm')), true);
    // A second copy has its own class but the same registered brand.
    const foreign = Object.defineProperty(new Error('m'), Symbol.for('tessera.rules.RuleError'), { value: true });
    assert.equal(isRuleError(foreign), true);
    assert.equal(isRuleError(new Error('m')), false);
    assert.equal(isRuleError({ code: 'INVALID_EXPIRY', message: 'm' }), false);
    assert.equal(isRuleError(null), false);
  });
});

describe('quoteInput', () => {
  it('quotes like JSON and escapes what could hide or forge text', () => {
    assert.equal(quoteInput('1.5D'), '"1.5D"');
    assert.equal(quoteInput('a\nb'), '"a\\nb"');
    assert.equal(quoteInput('a\u202eb\u2028'), '"a\\u202eb\\u2028"');
    assert.equal(quoteInput('१D'), '"१D"');
  });

  it('cuts long input short', () => {
    assert.equal(quoteInput('x'.repeat(1000)), `"${'x'.repeat(64)}…"`);
  });
});
