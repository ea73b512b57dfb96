import { quoteInput, RuleError } from './rule-error.js';

const DAY = 86_400;

// SPEC 3.4: Y is 365 days and M is 30 days, fixed lengths, so "1M" means the same lifetime
// whatever the month it is entered in. `M` and `m` differ; `y` is deliberately not a unit.
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  Y: 365 * DAY,
  M: 30 * DAY,
  w: 7 * DAY,
  W: 7 * DAY,
  d: DAY,
  D: DAY,
  h: 3_600,
  H: 3_600,
  m: 60,
  s: 1,
  S: 1,
};

// SPEC 3.4, exactly. `[0-9]` rather than `\d`: only ASCII digits, so "१D" is refused.
const RELATIVE_SOURCE = '[1-9][0-9]*[YMwWdDhHmsS]';
const RELATIVE = new RegExp(`^${RELATIVE_SOURCE}$`);

/**
 * A relative duration (SPEC 3.4) as a JSON Schema `pattern` (ECMA-262), for API documents:
 * {@link parseRelativeExpiry} accepts exactly the strings it matches, up to 1000 years.
 */
export const RELATIVE_DURATION_PATTERN = `^${RELATIVE_SOURCE}$`;

/**
 * The shape of expiry input as a JSON Schema `pattern`: a relative duration, an ISO 8601 date,
 * or a date-time with a zone. Every input {@link resolveExpiry} accepts matches it; the
 * calendar (no 31 April), the range of the offset and the time of day are then its checks.
 */
export const EXPIRY_INPUT_PATTERN =
  `^(?:${RELATIVE_SOURCE}|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]{1,9})?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2}))$`;

/** The longest relative expiry accepted: far beyond any policy, far inside what a Date holds. */
const MAX_RELATIVE_YEARS = 1000;
const MAX_RELATIVE_SECONDS = MAX_RELATIVE_YEARS * 365 * DAY;

const RELATIVE_FORM =
  'a whole positive number followed by a unit (Y = 365 days, M = 30 days, w = weeks, d = days, h = hours, m = minutes, s = seconds; e.g. 180D)';
const ABSOLUTE_FORM =
  'an ISO 8601 date such as 2027-01-31 or a date-time with a zone such as 2027-01-31T10:00:00Z';

/** A number read from the input, or what is wrong with the input (ending in "; "). */
type Reading = { ok: true; value: number } | { ok: false; problem: string };

/**
 * Parses a relative expiry (SPEC 3.4) into seconds: a whole positive number followed by one
 * unit, `Y` (365 days), `M` (30 days), `w`/`W` (weeks), `d`/`D` (days), `h`/`H` (hours),
 * `m` (minutes) or `s`/`S` (seconds). Nothing else: no spaces, signs, fractions or other digits.
 * At most 1000 years.
 *
 * @param input - the duration as typed, e.g. `180D`
 * @returns the duration in seconds
 * @throws {@link RuleError} `INVALID_EXPIRY`, naming the accepted form
 *
 * @example
 * ```ts
 * parseRelativeExpiry('90D'); // 7776000
 * parseRelativeExpiry('2M');  // 5184000 (60 days)
 * parseRelativeExpiry('2m');  // 120
 * ```
 */
export function parseRelativeExpiry(input: string): number {
  const reading = readRelative(input);
  if (reading.ok) return reading.value;
  throw new RuleError(
    'INVALID_EXPIRY',
    `Invalid duration ${quoteInput(input)}: ${reading.problem}use ${RELATIVE_FORM}`,
  );
}

/** Options of {@link resolveExpiry}. */
export interface ResolveExpiryOptions {
  /**
   * The longest lifetime allowed, in seconds (the organization's maximum token lifetime,
   * SPEC 4). `null` or absent: no maximum.
   */
  readonly maxSeconds?: number | null;
}

/**
 * Turns expiry input (SPEC 3.4) into the instant the token expires.
 *
 * Accepted forms:
 * - relative, as {@link parseRelativeExpiry}: `now` plus the duration;
 * - an ISO 8601 calendar date, `2027-01-31`: 00:00:00 UTC at the start of that day (as GitLab
 *   does), so today's date is already in the past;
 * - an ISO 8601 date-time with `Z` or a `±HH:MM` offset, `2027-01-31T10:00:00Z`,
 *   `2027-01-31T12:00+02:00`, seconds and fractions optional. A date-time without a zone is
 *   refused rather than guessed: the server, the CLI and the browser would guess differently.
 *
 * @param input - the expiry as typed
 * @param now - the current instant (injected so tests and the server's clock agree)
 * @param options - optional maximum lifetime
 * @returns a Date strictly after `now`
 * @throws {@link RuleError} `INVALID_EXPIRY` for anything else (naming the accepted forms),
 *   `EXPIRY_IN_PAST` when the instant is not after `now`, `EXPIRY_BEYOND_MAXIMUM` when it is
 *   further than `options.maxSeconds` from `now` (naming the maximum)
 *
 * @example
 * ```ts
 * const now = new Date('2026-01-01T00:00:00Z');
 * resolveExpiry('90D', now);        // 2026-04-01T00:00:00.000Z
 * resolveExpiry('2027-01-31', now); // 2027-01-31T00:00:00.000Z
 * resolveExpiry('1Y', now, { maxSeconds: 90 * 86400 }); // throws: the maximum is 90D
 * ```
 */
export function resolveExpiry(input: string, now: Date, options: ResolveExpiryOptions = {}): Date {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new TypeError('resolveExpiry: `now` is an invalid Date');

  const isAbsolute = /^[0-9]{4}-/.test(input);
  const reading = isAbsolute ? readIsoInstant(input) : readRelative(input);
  if (!reading.ok) {
    throw new RuleError(
      'INVALID_EXPIRY',
      `Invalid expiry ${quoteInput(input)}: ${reading.problem}use ${RELATIVE_FORM}, or ${ABSOLUTE_FORM}`,
    );
  }
  // An absolute reading is epoch milliseconds; a relative one, seconds from now.
  const expiresMs = isAbsolute ? reading.value : nowMs + reading.value * 1000;
  if (Number.isNaN(new Date(expiresMs).getTime())) {
    throw new RuleError(
      'INVALID_EXPIRY',
      `Invalid expiry ${quoteInput(input)}: it is too far in the future; use ${RELATIVE_FORM}, or ${ABSOLUTE_FORM}`,
    );
  }

  if (expiresMs <= nowMs) {
    const dayNote = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(input)
      ? ' (a date means 00:00 UTC at the start of that day)'
      : '';
    throw new RuleError(
      'EXPIRY_IN_PAST',
      `Expiry ${quoteInput(input)} is not in the future${dayNote}: choose a later date, or a relative expiry such as 90D`,
    );
  }

  const max = options.maxSeconds;
  if (max !== undefined && max !== null && expiresMs - nowMs > max * 1000) {
    const latest = new Date(nowMs + max * 1000).toISOString().replace('.000Z', 'Z');
    throw new RuleError(
      'EXPIRY_BEYOND_MAXIMUM',
      `Expiry ${quoteInput(input)} is beyond the maximum token lifetime of ${formatDuration(max)}: choose ${formatDuration(max)} or less (no later than ${latest})`,
    );
  }
  return new Date(expiresMs);
}

const FORMAT_UNITS: readonly (readonly [string, number])[] = [
  ['Y', 365 * DAY],
  ['D', DAY],
  ['h', 3_600],
  ['m', 60],
];

/**
 * Writes a duration in the relative expiry syntax, in the largest unit that divides it exactly,
 * for messages such as "the maximum is 90D". Days are preferred to `M` and `w`: "90D" reads
 * unambiguously, "3M" invites a calendar reading. The result parses back with
 * {@link parseRelativeExpiry} (except `0s`).
 *
 * @param seconds - a whole, non-negative number of seconds
 * @throws RangeError when `seconds` is negative or not a safe integer (a programming error)
 *
 * @example
 * ```ts
 * formatDuration(7776000); // "90D"
 * formatDuration(31536000); // "1Y"
 * formatDuration(1800); // "30m"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`formatDuration: expected whole non-negative seconds, got ${seconds}`);
  }
  for (const [unit, size] of FORMAT_UNITS) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function readRelative(input: string): Reading {
  if (RELATIVE.test(input)) {
    const digits = input.slice(0, -1);
    const size = UNIT_SECONDS[input.slice(-1)] ?? 0;
    // Sixteen digits or more cannot be below the cap; fewer are exact in a double.
    const seconds = digits.length > 15 ? Infinity : Number(digits) * size;
    if (seconds <= MAX_RELATIVE_SECONDS) return { ok: true, value: seconds };
    return { ok: false, problem: `that is more than ${MAX_RELATIVE_YEARS} years; ` };
  }
  return { ok: false, problem: diagnoseRelative(input) };
}

/** Says what is wrong with input that fails the relative grammar, or '' when unsure. */
function diagnoseRelative(input: string): string {
  if (input === '') return 'it is empty; ';
  if (/\s/.test(input)) return 'remove the spaces; ';
  if (/^[+-]/.test(input)) return 'signs are not allowed; ';
  if (/^[0-9]+[.,][0-9]/.test(input)) return 'fractions are not allowed; ';
  if (/^0+[YMwWdDhHmsS]$/.test(input)) return 'the number must be at least 1; ';
  if (/^0[0-9]+[YMwWdDhHmsS]$/.test(input)) return 'remove the leading zeros; ';
  if (/^[0-9]+$/.test(input)) return 'add a unit after the number; ';
  if (/^[YMwWdDhHmsS]/.test(input)) return 'put a number before the unit; ';
  if (/^[1-9][0-9]*y$/.test(input)) return 'unknown unit "y" (years are Y); ';
  if (/^[1-9][0-9]*[A-Za-z]$/.test(input)) return `unknown unit ${quoteInput(input.slice(-1))}; `;
  if (/^[1-9][0-9]*[A-Za-z]{2,}$/.test(input)) return 'the unit is a single letter; ';
  if (/^\p{Nd}/u.test(input)) return 'write the number in plain decimal digits 0-9; ';
  return '';
}

const DATE_ONLY = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
// RFC 3339 §5.6 profile of ISO 8601; §5.6 NOTE allows lower-case "t" and "z".
const DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?$/;

/** Reads an ISO 8601 date or zoned date-time into epoch milliseconds. */
function readIsoInstant(input: string): Reading {
  const date = DATE_ONLY.exec(input);
  const parts = date ?? DATE_TIME.exec(input);
  if (parts === null) return { ok: false, problem: 'it is not an ISO 8601 date or date-time; ' };

  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(parts[i] ?? '0'),
  ) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return { ok: false, problem: `there is no month ${month}; ` };
  const monthDays = daysInMonth(year, month);
  if (day < 1 || day > monthDays) {
    return { ok: false, problem: `${MONTHS[month - 1]} ${year} has no day ${day}; ` };
  }
  if (date === null) {
    if (hour > 23 || minute > 59 || second > 59) {
      return { ok: false, problem: 'the time is not a valid time of day (00:00:00 to 23:59:59); ' };
    }
    if (parts[8] === undefined && parts[9] === undefined) {
      return { ok: false, problem: 'add Z (UTC) or an offset such as +02:00 after the time; ' };
    }
  }
  const offsetHours = Number(parts[10] ?? '0');
  const offsetMinutes = Number(parts[11] ?? '0');
  if (offsetHours > 23 || offsetMinutes > 59) {
    return { ok: false, problem: 'the offset must be between -23:59 and +23:59; ' };
  }

  const ms = Number((parts[7] ?? '').padEnd(3, '0').slice(0, 3));
  const instant = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute, second, ms);
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (parts[9] === '-' ? -1 : 1);
  return { ok: true, value: instant.getTime() - offsetMs };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
