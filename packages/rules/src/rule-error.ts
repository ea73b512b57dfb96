/**
 * The stable codes a {@link RuleError} carries. Callers branch on the code, never on the
 * message; the message is for people and may be reworded.
 */
export type RuleErrorCode =
  | 'INVALID_EXPIRY'
  | 'EXPIRY_IN_PAST'
  | 'EXPIRY_BEYOND_MAXIMUM'
  | 'INVALID_IP_ADDRESS'
  | 'INVALID_IP_ENTRY'
  | 'TOO_MANY_IP_ENTRIES'
  | 'INVALID_ENDPOINT_PATTERN'
  | 'TOO_MANY_ENDPOINT_PATTERNS'
  | 'INVALID_TOKEN_PREFIX'
  | 'MALFORMED_TOKEN';

// A registered symbol brands instances so isRuleError still works when two copies of this
// package are loaded (the `development` source and the built `dist`, or two bundles).
const brand = Symbol.for('tessera.rules.RuleError');

/**
 * Bad input refused by one of the rules. The message names the input and the fix and is shown
 * as is by the server (problem details), the CLI and the web console.
 *
 * @example
 * ```ts
 * try {
 *   parseIpEntry('010.0.0.1');
 * } catch (e) {
 *   if (isRuleError(e)) console.error(e.code, e.message); // INVALID_IP_ENTRY Invalid IP entry "010.0.0.1": ...
 * }
 * ```
 */
export class RuleError extends Error {
  /** Stable SCREAMING_SNAKE code, e.g. `INVALID_EXPIRY`. */
  readonly code: RuleErrorCode;

  /**
   * @param code - the stable code
   * @param message - a sentence for a person: the bad input and how to fix it
   */
  constructor(code: RuleErrorCode, message: string) {
    super(message);
    this.name = 'RuleError';
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * Whether `e` is a {@link RuleError}, also across copies of this package.
 *
 * @param e - anything caught
 */
export function isRuleError(e: unknown): e is RuleError {
  return (
    e instanceof RuleError ||
    (e instanceof Error && (e as unknown as Record<symbol, unknown>)[brand] === true)
  );
}

const MAX_QUOTED = 64;

// JSON.stringify escapes C0 controls, quotes and lone surrogates; these it leaves alone, yet
// they can hide or reorder text in a terminal or a web page (C1 controls, bidi overrides, line
// separators, BOM).
const INVISIBLE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Quotes user input for an error message: escaped (a newline cannot forge a second line in a
 * log or terminal) and cut short (a megabyte of input does not become a megabyte of message).
 * Internal; not exported from the package.
 */
export function quoteInput(input: string): string {
  const cut = input.length > MAX_QUOTED ? `${input.slice(0, MAX_QUOTED)}…` : input;
  return JSON.stringify(cut).replace(
    INVISIBLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
