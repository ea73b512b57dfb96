import { isRuleError, parseEndpointPatterns, parseIpAllowlist, parseIpEntry, resolveExpiry } from '@tessera/rules';

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

/** An IP allowlist, one entry per line: IPv4, IPv6, CIDR or a range a - b. */
export function checkIpAllowlist(text: string): string | undefined {
  return messageOf(() => parseIpAllowlist(linesOf(text)));
}

/** Allowed endpoints, one pattern per line: /plans/*, GET /clients, GET,POST /reports. */
export function checkEndpoints(text: string): string | undefined {
  return messageOf(() => parseEndpointPatterns(linesOf(text)));
}

/** An expiry as typed: relative (180D, 12h) or a date (2027-01-31); empty means the default. */
export function checkExpiry(text: string, now: Date = new Date(), maxSeconds?: number | null): string | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  return messageOf(() => resolveExpiry(value, now, { maxSeconds }));
}

/**
 * An IP allowlist textarea, every line checked: each bad line named by its line number as the
 * person sees it (blank lines count), all of them at once rather than only the first; then the
 * list as a whole (its length limit), as the server checks it.
 */
export function checkIpAllowlistLines(text: string): string | undefined {
  const bad: string[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const message = messageOf(() => parseIpEntry(line.trim()));
    if (message) bad.push(`Line ${index + 1}: ${message}`);
  });
  return bad.length > 0 ? bad.join('; ') : checkIpAllowlist(text);
}
