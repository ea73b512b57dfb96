import { InvalidArgumentError } from 'commander';
import { parseEndpointPatterns, parseIpAllowlist, parseRelativeExpiry, resolveExpiry } from '@tessera/rules';
import { UsageError, checkInput } from './errors.js';

/**
 * Checks of command-line input before anything is sent. Token fields go through the same
 * @tessera/rules functions the server applies, so a refusal reads exactly as the server's
 * problem detail would, and nothing leaves the machine.
 */

/** Commander collector for repeatable options (`--endpoint A --endpoint B`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Commander parser for `--limit` and other counts. */
export function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

/**
 * `--expiry-date`: relative (180D) or ISO 8601 (2027-01-31), checked as the server does
 * (SPEC 3.4), and sent as typed so the server's clock and policy decide the instant;
 * `never` asks for no expiry (where the policy allows it).
 */
export function checkExpiry(input: string): string | null {
  if (input === 'never') return null;
  checkInput('/expires', () => resolveExpiry(input, new Date()));
  return input;
}

/** `--allow-ip` entries: the whole list, as the server checks it (SPEC 3.6). */
export function checkIpAllowlist(entries: readonly string[], field = '/ip_allowlist'): string[] {
  checkInput(field, () => parseIpAllowlist(entries));
  return [...entries];
}

/** `--endpoint` patterns of a custom scope (SPEC 3.5). */
export function checkEndpoints(entries: readonly string[]): string[] {
  checkInput('/scope/endpoints', () => parseEndpointPatterns(entries));
  return [...entries];
}

/** A duration in the relative expiry syntax (30m, 90D), in seconds. */
export function durationSeconds(field: string, input: string): number {
  return checkInput(field, () => parseRelativeExpiry(input));
}

/** A duration, or null for `none`. */
export function optionalDurationSeconds(field: string, input: string): number | null {
  return input === 'none' ? null : durationSeconds(field, input);
}

/**
 * `--since` / `--until`: an ISO 8601 date or date-time, or a duration meaning that long ago
 * (`1h`, `7D`). Returned as an ISO date-time, as the API takes it.
 */
export function pointInTime(flag: string, input: string, now = new Date()): string {
  if (/^[0-9]{4}-/.test(input)) {
    // The rules' reader of absolute expiry input accepts exactly the dates and zoned date-times
    // the API does; resolveExpiry refuses the past, so it reads against the epoch instead.
    const instant = checkInput(flag, () => resolveExpiry(input, new Date(-8_640_000_000_000_000)));
    return instant.toISOString();
  }
  let seconds: number;
  try {
    seconds = parseRelativeExpiry(input);
  } catch {
    throw new UsageError(`Invalid ${flag} ${JSON.stringify(input)}: use a date (2026-01-31), a date-time with a zone (2026-01-31T10:00:00Z) or a duration meaning that long ago (30m, 12h, 7D)`, flag);
  }
  return new Date(now.getTime() - seconds * 1000).toISOString();
}

/** `true`/`false` (also yes/no, on/off) for policy switches. */
export function booleanValue(value: string): boolean {
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^(false|no|off)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}
