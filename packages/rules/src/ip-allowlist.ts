import { quoteInput, RuleError } from './rule-error.js';

/**
 * One parsed allowlist entry: an inclusive range of addresses of one family. A single address
 * is a range of one; IPv4-mapped IPv6 entries (`::ffff:10.0.0.1`, `::ffff:10.0.0.0/120`) are
 * stored as IPv4.
 */
export type IpRange = {
  readonly family: 4 | 6;
  /** First address, as an unsigned 32- or 128-bit integer. */
  readonly start: bigint;
  /** Last address, inclusive. */
  readonly end: bigint;
  /** The entry as written (without surrounding spaces), for display. */
  readonly source: string;
};

/** A parsed address: IPv4 as a 32-bit integer, IPv6 as a 128-bit integer. */
export type IpAddress = { readonly family: 4 | 6; readonly value: bigint };

/** Most entries one allowlist may hold (SPEC 3.6). */
const MAX_ENTRIES = 100;
/** Longer than any address, CIDR block or spaced range; refused before any work. */
const MAX_ENTRY_LENGTH = 100;

/**
 * The shape of one allowlist entry as a JSON Schema `pattern` (ECMA-262), for API documents:
 * an address (hex digits, colons and dots), a CIDR block, or a range with one `-` or `–`.
 * Every entry {@link parseIpEntry} accepts matches it; the groups, octets and prefix bounds
 * are then its checks.
 */
export const IP_ENTRY_SHAPE =
  '^[ \\t]*[0-9A-Fa-f:.]+(?:/(?:0|[1-9][0-9]{0,2})|[ \\t]*[-\\u2013][ \\t]*[0-9A-Fa-f:.]+)?[ \\t]*$';

/** Longest entry and most entries per allowlist, for API documents. */
export const IP_ALLOWLIST_LIMITS = { maxLength: MAX_ENTRY_LENGTH, maxItems: MAX_ENTRIES } as const;

// RFC 4291 §2.5.5.2: ::ffff:0:0/96 holds IPv4-mapped addresses. SPEC 3.6 matches them as IPv4.
const MAPPED_START = 0xffff_0000_0000n;
const MAPPED_END = 0xffff_ffff_ffffn;

const ENTRY_FORMS =
  'write an address (10.0.0.1, 2001:db8::1), a CIDR block (1.1.1.0/24, 2001:db8::/64) or a range (1.1.1.0 - 1.1.1.25)';

type Reading<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Parses one IPv4 or IPv6 address, strictly: IPv4 as four decimal octets 0-255 without leading
 * zeros (some parsers read `010` as octal); IPv6 full or compressed (RFC 4291 §2.2), with an
 * optional dotted IPv4 tail, without zone id or brackets. IPv4-mapped IPv6 becomes IPv4.
 *
 * @param input - the address, e.g. `10.0.0.1`, `2001:db8::1`, `::ffff:10.0.0.1`
 * @throws {@link RuleError} `INVALID_IP_ADDRESS`
 *
 * @example
 * ```ts
 * parseIpAddress('::ffff:1.2.3.4'); // { family: 4, value: 16909060n }
 * ```
 */
export function parseIpAddress(input: string): IpAddress {
  const read = readAddress(input);
  if (read.ok) return read.value;
  throw new RuleError('INVALID_IP_ADDRESS', `Invalid IP address ${quoteInput(input)}: ${read.problem}`);
}

/**
 * Parses one allowlist entry (SPEC 3.6): an address, a CIDR block (`1.1.1.0/24`, `/0` to `/32`;
 * `2001:db8::/64`, `/0` to `/128`) or an inclusive range of two addresses of one family joined
 * by `-` or an en dash `–`, spaces around it optional. Surrounding spaces are ignored.
 *
 * A CIDR block whose address has host bits set (`1.1.1.7/24`) is refused rather than silently
 * widened: the writer may have meant `1.1.1.0/24` or just `1.1.1.7`, and the message offers both.
 *
 * @param entry - the entry as written
 * @throws {@link RuleError} `INVALID_IP_ENTRY` naming the entry and the fix
 *
 * @example
 * ```ts
 * parseIpEntry('1.1.1.0 – 1.1.1.25'); // { family: 4, start: 16843008n, end: 16843033n, source: '1.1.1.0 – 1.1.1.25' }
 * ```
 */
export function parseIpEntry(entry: string): IpRange {
  const read = readEntry(entry);
  if (read.ok) return read.value;
  throw new RuleError('INVALID_IP_ENTRY', `Invalid IP entry ${quoteInput(entry)}: ${read.problem}`);
}

/**
 * Parses an allowlist: at most 100 entries, each as {@link parseIpEntry}. An empty list allows
 * every address.
 *
 * @param entries - the entries as written
 * @throws {@link RuleError} `TOO_MANY_IP_ENTRIES` naming the limit, or `INVALID_IP_ENTRY`
 *   naming the entry and its position (from 1)
 *
 * @example
 * ```ts
 * const list = parseIpAllowlist(['10.0.0.0/8', '2001:db8::/32']);
 * ```
 */
export function parseIpAllowlist(entries: readonly string[]): IpRange[] {
  if (entries.length > MAX_ENTRIES) {
    throw new RuleError(
      'TOO_MANY_IP_ENTRIES',
      `The IP allowlist has ${entries.length} entries; the limit is ${MAX_ENTRIES}. Merge neighbouring addresses into CIDR blocks or ranges (e.g. 10.0.0.0/24 or 10.0.0.1 - 10.0.0.50)`,
    );
  }
  return entries.map((entry, index) => {
    const read = readEntry(entry);
    if (read.ok) return read.value;
    throw new RuleError(
      'INVALID_IP_ENTRY',
      `Invalid IP entry ${quoteInput(entry)} at position ${index + 1}: ${read.problem}`,
    );
  });
}

/**
 * Whether an allowlist lets `address` through. An empty list allows every address (SPEC 3.6),
 * whatever `address` is; otherwise an address that does not parse is refused. IPv4 entries
 * match IPv4 and IPv4-mapped IPv6 clients; IPv6 entries (even `::/0`) match only IPv6 clients.
 *
 * @param list - a parsed allowlist
 * @param address - the client address, e.g. from {@link resolveClientAddress}
 *
 * @example
 * ```ts
 * isIpAllowed(parseIpAllowlist(['1.1.1.0/24']), '::ffff:1.1.1.7'); // true
 * ```
 */
export function isIpAllowed(list: readonly IpRange[], address: string): boolean {
  if (list.length === 0) return true;
  const read = readAddress(address);
  return read.ok && inRanges(list, read.value);
}

/**
 * Finds the client address of a request (SPEC 3.6). It is the socket peer, unless the peer is a
 * trusted proxy: then `X-Forwarded-For` is walked from the right, trusted hops skipped, and the
 * right-most untrusted hop is the client. If every hop is trusted, the left-most is used. A hop
 * that is not a bare address stops the walk at the last good address seen (a proxy), so text a
 * client wrote itself is never believed. The result is canonical (RFC 5952 for IPv6;
 * IPv4-mapped addresses as IPv4; a zone id on the peer dropped); a peer that is not an address
 * is returned as given.
 *
 * @param peer - the socket's remote address, e.g. `::ffff:127.0.0.1`
 * @param forwardedFor - the `X-Forwarded-For` header, several headers joined with commas
 * @param trustedProxies - the configured proxies; empty trusts none
 *
 * @example
 * ```ts
 * const proxies = parseIpAllowlist(['10.0.0.0/8']);
 * resolveClientAddress('::ffff:10.0.0.2', '203.0.113.9, 10.0.0.7', proxies); // "203.0.113.9"
 * resolveClientAddress('198.51.100.1', '203.0.113.9', proxies); // "198.51.100.1"
 * ```
 */
export function resolveClientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trustedProxies: readonly IpRange[],
): string {
  const zone = peer.includes(':') ? peer.indexOf('%') : -1;
  const peerRead = readAddress(zone === -1 ? peer : peer.slice(0, zone));
  if (!peerRead.ok) return peer;
  let client = formatAddress(peerRead.value);
  if (!inRanges(trustedProxies, peerRead.value) || forwardedFor === undefined) return client;
  if (forwardedFor.trim() === '') return client;

  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = readAddress((hops[i] ?? '').trim());
    if (!hop.ok) return client;
    client = formatAddress(hop.value);
    if (!inRanges(trustedProxies, hop.value)) return client;
  }
  return client;
}

function inRanges(list: readonly IpRange[], address: IpAddress): boolean {
  return list.some(
    (range) => range.family === address.family && range.start <= address.value && address.value <= range.end,
  );
}

function readEntry(entry: string): Reading<IpRange> {
  if (entry.length > MAX_ENTRY_LENGTH) return fail(`it is too long; ${ENTRY_FORMS}`);
  const source = entry.replace(/^[ \t]+|[ \t]+$/g, '');
  if (source === '') return fail(`it is empty; ${ENTRY_FORMS}`);
  if (source === '*') return fail('to allow every address, leave the list empty');
  if (/[,;]/.test(source)) return fail(`write one address, CIDR block or range per entry`);

  const dashes = source.match(/[-–]/g)?.length ?? 0;
  if (dashes > 1) return fail(`a range has one dash between two addresses, e.g. 1.1.1.0 - 1.1.1.25`);
  if (dashes === 1) return readRange(source);
  if (/\s/.test(source)) return fail('spaces are allowed only around the dash of a range');
  if (source.includes('/')) return readCidr(source);
  const address = readAddress(source);
  if (!address.ok) return address;
  const { family, value } = address.value;
  return { ok: true, value: { family, start: value, end: value, source } };
}

function readRange(source: string): Reading<IpRange> {
  const dash = source.search(/[-–]/);
  const left = source.slice(0, dash).replace(/[ \t]+$/, '');
  const right = source.slice(dash + 1).replace(/^[ \t]+/, '');
  if (left.endsWith('/')) return fail('the prefix length after / is a whole number, e.g. /24');
  if (left.includes('/') || right.includes('/')) {
    return fail('a range joins two addresses, not CIDR blocks; write either 1.1.1.0 - 1.1.1.255 or 1.1.1.0/24');
  }
  if (left === '' || right === '') return fail('a range needs an address on each side of the dash, e.g. 1.1.1.0 - 1.1.1.25');
  if (/\s/.test(left) || /\s/.test(right)) return fail('spaces are allowed only around the dash of a range');
  const start = readAddress(left);
  if (!start.ok) return start;
  const end = readAddress(right);
  if (!end.ok) return end;
  if (start.value.family !== end.value.family) {
    return fail("a range's ends must be of one family: both IPv4 or both IPv6");
  }
  if (start.value.value > end.value.value) {
    return fail(`the range starts after it ends; write ${right} - ${left}`);
  }
  return {
    ok: true,
    value: { family: start.value.family, start: start.value.value, end: end.value.value, source },
  };
}

function readCidr(source: string): Reading<IpRange> {
  const slash = source.indexOf('/');
  const addressText = source.slice(0, slash);
  const lengthText = source.slice(slash + 1);
  const v6 = addressText.includes(':');
  const bits = v6 ? 128 : 32;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return fail(`the prefix length after / is a whole number from 0 to ${bits} for ${v6 ? 'IPv6' : 'IPv4'}, e.g. ${v6 ? '2001:db8::/64' : '1.1.1.0/24'}`);
  }
  const base = v6 ? readIpv6(addressText) : readIpv4(addressText);
  if (!base.ok) return base;
  const length = Number(lengthText);
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  const start = base.value;
  if ((start & hostMask) !== 0n) {
    const network = formatAddress({ family: v6 ? 6 : 4, value: start & ~hostMask });
    return fail(
      `the address has bits set beyond the /${length} prefix; write ${network}/${length} for the block, or ${addressText} alone for one address`,
    );
  }
  const end = start | hostMask;
  if (v6 && start >= MAPPED_START && end <= MAPPED_END) {
    return { ok: true, value: { family: 4, start: start - MAPPED_START, end: end - MAPPED_START, source } };
  }
  return { ok: true, value: { family: v6 ? 6 : 4, start, end, source } };
}

function readAddress(text: string): Reading<IpAddress> {
  if (text.length > MAX_ENTRY_LENGTH) return fail('it is too long to be an IP address');
  if (text.includes(':')) {
    const v6 = readIpv6(text);
    if (!v6.ok) return v6;
    if (v6.value >= MAPPED_START && v6.value <= MAPPED_END) {
      return { ok: true, value: { family: 4, value: v6.value - MAPPED_START } };
    }
    return { ok: true, value: { family: 6, value: v6.value } };
  }
  if (/[A-Za-z]/.test(text)) {
    return fail('host names are not allowed; write the IP address, e.g. 127.0.0.1');
  }
  const v4 = readIpv4(text);
  return v4.ok ? { ok: true, value: { family: 4, value: v4.value } } : v4;
}

function readIpv4(text: string): Reading<bigint> {
  const octets = text.split('.');
  if (octets.length !== 4 || !octets.every((octet) => /^[0-9]+$/.test(octet))) {
    return fail('an IPv4 address is four numbers from 0 to 255 separated by dots, e.g. 10.0.0.1');
  }
  if (octets.some((octet) => octet.length > 1 && octet.startsWith('0'))) {
    const fixed = octets.map((octet) => octet.replace(/^0+(?=[0-9])/, ''));
    const hint = fixed.every((octet) => Number(octet) <= 255) ? ` (write ${fixed.join('.')})` : '';
    return fail(`IPv4 octets must not have leading zeros${hint}`);
  }
  let value = 0n;
  for (const octet of octets) {
    if (Number(octet) > 255) return fail(`IPv4 octets are 0 to 255, and ${octet} is larger`);
    value = (value << 8n) | BigInt(octet);
  }
  return { ok: true, value };
}

function readIpv6(text: string): Reading<bigint> {
  if (text.includes('%')) return fail('zone ids (from %) are not allowed; write the address alone');
  if (text.startsWith('[')) return fail('remove the brackets around the IPv6 address');
  if (text.includes(':::')) return fail('an IPv6 address has at most two colons in a row');
  const elided = text.indexOf('::');
  if (elided !== -1 && text.indexOf('::', elided + 1) !== -1) {
    return fail('"::" may appear only once in an IPv6 address');
  }
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = readGroups(elided === -1 ? text.split(':') : split(text.slice(0, elided)), elided === -1);
  if (!head.ok) return head;
  const tail = readGroups(elided === -1 ? [] : split(text.slice(elided + 2)), true);
  if (!tail.ok) return tail;
  const written = head.value.length + tail.value.length;
  if (elided === -1 ? written !== 8 : written > 7) {
    return fail('an IPv6 address has eight groups, or fewer with "::" standing for the zeros, e.g. 2001:db8::1');
  }
  const zeros = new Array<number>(8 - written).fill(0);
  let value = 0n;
  for (const group of [...head.value, ...zeros, ...tail.value]) value = (value << 16n) | BigInt(group);
  return { ok: true, value };
}

/**
 * Reads colon-separated IPv6 groups into 16-bit numbers. A dotted IPv4 tail (two groups) is
 * allowed only as the last group of the address (RFC 4291 §2.2 form 3), so `endsAddress` says
 * whether these parts end it.
 */
function readGroups(parts: readonly string[], endsAddress: boolean): Reading<number[]> {
  const groups: number[] = [];
  for (const [index, group] of parts.entries()) {
    if (endsAddress && index === parts.length - 1 && group.includes('.')) {
      const v4 = readIpv4(group);
      if (!v4.ok) return v4;
      groups.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) {
      groups.push(parseInt(group, 16));
    } else {
      return fail(
        group === ''
          ? 'an IPv6 address cannot start or end with a single colon'
          : 'IPv6 groups are 1 to 4 hexadecimal digits separated by colons, e.g. 2001:db8::1',
      );
    }
  }
  return { ok: true, value: groups };
}

/** Canonical text of an address: dotted IPv4, or IPv6 per RFC 5952 §4. */
function formatAddress(address: IpAddress): string {
  if (address.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((address.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952 §4.2: "::" replaces the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function fail(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}
