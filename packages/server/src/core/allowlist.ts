import { isRuleError, parseIpAllowlist, type IpRange } from '@tessera/rules';
import { invalid } from './errors.js';

/** Validates the entries with the same rules the token endpoint enforces; keeps them as written. */
export function checkIpAllowlist(entries: readonly string[], field: string): readonly string[] {
  try {
    parseIpAllowlist(entries);
    return entries;
  } catch (error) {
    if (isRuleError(error)) throw invalid(field, error.message);
    throw error;
  }
}

/** Most entries an allowlist may hold (SPEC 3.6); the SDK refuses longer ones. */
const maxEntries = 100;

/**
 * Addresses no client has (`0.0.0.0`, `::`): what an access token carries when its lists
 * share no address, since an empty allowlist would mean "any address".
 */
const nowhere = ['0.0.0.0/32', '::/128'];

/**
 * One allowlist admitting exactly the addresses every given list admits (SPEC 3.6: the token's,
 * the principal's and the organization's lists must all allow the address). Access tokens carry
 * a single `ip_allowlist`, so the SDK can enforce all three only through their intersection.
 * Empty lists allow everything and drop out; a single list comes back as written. The result is
 * never wider than the intersection: beyond 100 ranges, the rest are left out.
 *
 * @param lists - valid allowlists (entries as stored)
 */
export function intersectAllowlists(lists: readonly (readonly string[])[]): string[] {
  const restricting = lists.filter((list) => list.length > 0);
  if (restricting.length === 0) return [];
  if (restricting.length === 1) return [...(restricting[0] as readonly string[])];
  let ranges: { family: 4 | 6; start: bigint; end: bigint }[] = parseIpAllowlist(restricting[0] as readonly string[]);
  for (const list of restricting.slice(1)) {
    const other = parseIpAllowlist(list);
    ranges = ranges.flatMap((a) =>
      other.flatMap((b: IpRange) => {
        const start = a.start > b.start ? a.start : b.start;
        const end = a.end < b.end ? a.end : b.end;
        return a.family === b.family && start <= end ? [{ family: a.family, start, end }] : [];
      }),
    );
  }
  const merged = merge(ranges);
  if (merged.length === 0) return [...nowhere];
  return merged.slice(0, maxEntries).map(({ family, start, end }) => (start === end ? format(family, start) : `${format(family, start)} - ${format(family, end)}`));
}

/** Sorts ranges and joins those that overlap or touch, per family. */
function merge(ranges: readonly { family: 4 | 6; start: bigint; end: bigint }[]) {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { family: 4 | 6; start: bigint; end: bigint }[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === range.family && range.start <= last.end + 1n) {
      if (range.end > last.end) last.end = range.end;
    } else out.push({ ...range });
  }
  return out;
}

/** An address in a form @tessera/rules reads back: dotted IPv4, or eight hexadecimal IPv6 groups. */
function format(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(':');
}
