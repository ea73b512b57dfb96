// Shared by the colocated tests in src/. Lives outside src/ so the build never ships it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRuleError, type RuleError } from '../src/rule-error.js';

/** Asserts that `fn` throws a RuleError with `code`, and returns it for checks on the message. */
export function assertRuleError(fn: () => unknown, code: string): RuleError {
  try {
    fn();
  } catch (error) {
    assert.ok(isRuleError(error), `expected a RuleError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

/** Runs `fn`, letting only a RuleError pass: the property "parsers throw nothing else". */
export function assertOnlyRuleErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!isRuleError(error)) throw error;
  }
}

/**
 * Strings of any UTF-16 code units, lone surrogates and controls included, weighted towards
 * the characters the parsers care about. (fast-check's `unit: 'binary'` costs close to a second
 * to set up in every test process.)
 */
export function anyString(maxLength: number): fc.Arbitrary<string> {
  const unit = fc.oneof(
    fc.constantFrom(...'0123456789aAfFxXyYzZ /.:-–%,*_?#\\\t\n'),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  );
  return fc.string({ unit, maxLength });
}
