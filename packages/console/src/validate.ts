import { isRuleError, parseEndpointPatterns, parseIpAllowlist, resolveExpiry } from '@tessera/rules';

/**
 * Inline checks with @tessera/rules, the code the server runs, so a mistake is named in the
 * server's own words before anything is sent. Each returns the message, or undefined if fine.
 */

/** The non-blank lines of a textarea, trimmed: what the console sends as a list. */
export function linesOf(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function messageOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (isRuleError(error)) return error.message;
    throw error;
  }
}

/**
 * Checks each line of a textarea on its own and names every bad one by the line the person
 * sees ("line 2: …", blank lines counted), so one pass fixes them all; when every line is fine
 * the whole list is checked for its own limits (how many entries). `strip` removes the rules'
 * "at position 1" of a one-entry list.
 */
function checkLines(text: string, check: (lines: string[]) => unknown, strip: RegExp): string | undefined {
  const bad: string[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const message = messageOf(() => check([line.trim()]));
    if (message) bad.push(`line ${index + 1}: ${message.replace(strip, '')}`);
  });
  if (bad.length) return bad.join('\n');
  return messageOf(() => check(linesOf(text)));
}

/** An IP allowlist, one entry per line: IPv4, IPv6, CIDR or a range a - b. */
export function checkIpAllowlist(text: string): string | undefined {
  return checkLines(text, parseIpAllowlist, / at position 1(?=:)/);
}

/** Allowed endpoints, one pattern per line: /plans/*, GET /clients, GET,POST /reports. */
export function checkEndpoints(text: string): string | undefined {
  return checkLines(text, parseEndpointPatterns, / at position 1(?=,)/);
}

/** A name's length against the server's limit: refused visibly, never cut short. */
export function checkLength(text: string, max: number, what = 'A name'): string | undefined {
  const length = text.trim().length;
  return length > max ? `${what} has at most ${max} characters; this one has ${length}. Shorten it by ${length - max}.` : undefined;
}

/** An expiry as typed: relative (180D, 12h) or a date (2027-01-31); empty means the default. */
export function checkExpiry(text: string, now: Date = new Date(), maxSeconds?: number | null): string | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  return messageOf(() => resolveExpiry(value, now, { maxSeconds }));
}
