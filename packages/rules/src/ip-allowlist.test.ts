import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { anyString, assertOnlyRuleErrors, assertRuleError } from '../test/assert-rule-error.js';
import {
  isIpAllowed,
  parseIpAddress,
  parseIpAllowlist,
  parseIpEntry,
  resolveClientAddress,
} from './ip-allowlist.js';

type IpVectors = {
  valid: { entry: string; allows: string[]; denies: string[] }[];
  invalid: string[];
};
const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/vectors/ip-allowlist.json', import.meta.url), 'utf8'),
) as IpVectors;



const ipv4Text = (value: number): string => [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');

describe('ip-allowlist vectors: valid entries', () => {
  for (const { entry, allows, denies } of vectors.valid) {
    it(`parses ${JSON.stringify(entry)}`, () => {
      const range = parseIpEntry(entry);
      assert.equal(range.source, entry);
      assert.ok(range.start <= range.end);
    });
    for (const address of allows) {
      it(`${JSON.stringify(entry)} allows ${address}`, () => {
        assert.equal(isIpAllowed([parseIpEntry(entry)], address), true);
      });
    }
    for (const address of denies) {
      it(`${JSON.stringify(entry)} denies ${address}`, () => {
        assert.equal(isIpAllowed([parseIpEntry(entry)], address), false);
      });
    }
  }
});

describe('ip-allowlist vectors: invalid entries', () => {
  for (const entry of vectors.invalid) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      const error = assertRuleError(() => parseIpEntry(entry), 'INVALID_IP_ENTRY');
      assert.ok(error.message.startsWith(`Invalid IP entry ${JSON.stringify(entry)}: `), error.message);
      assertRuleError(() => parseIpAllowlist(['10.0.0.1', entry]), 'INVALID_IP_ENTRY');
    });
  }
});

describe('parseIpEntry messages name the fix', () => {
  const cases: [string, RegExp][] = [
    ['010.0.0.1', /IPv4 octets must not have leading zeros \(write 10\.0\.0\.1\)$/],
    ['10.0.0.256', /0 to 255, and 256 is larger/],
    ['10.0.0.1/33', /from 0 to 32 for IPv4/],
    ['2001:db8::/129', /from 0 to 128 for IPv6/],
    ['10.0.0.1/08', /whole number from 0 to 32/],
    ['1.1.1.25 - 1.1.1.0', /starts after it ends; write 1\.1\.1\.0 - 1\.1\.1\.25/],
    ['1.1.1.0 - 2001:db8::1', /both IPv4 or both IPv6/],
    ['1.1.1.0/24 - 1.1.1.255', /not CIDR blocks/],
    ['1.1.1.7/24', /bits set beyond the \/24 prefix; write 1\.1\.1\.0\/24 for the block, or 1\.1\.1\.7 alone/],
    ['2001:db8::1/64', /write 2001:db8::\/64 for the block/],
    ['localhost', /host names are not allowed/],
    ['*', /leave the list empty/],
    ['fe80::1%eth0', /zone ids/],
    ['[::1]', /remove the brackets/],
    ['1.1.1.0 -', /an address on each side of the dash/],
    ['1.1.1.0 - 1.1.1.5 - 1.1.1.9', /one dash/],
    ['1.2.3.4::', /IPv6 groups/],
    [':1::', /single colon/],
    ['1:2:3:4:5:6:7', /eight groups/],
    ['1:2:3:4:5:6:7:8:9', /eight groups/],
    ['1::2:3:4:5:6:7:8', /eight groups/],
    ['1::2::3', /only once/],
  ];
  for (const [entry, message] of cases) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      assert.match(assertRuleError(() => parseIpEntry(entry), 'INVALID_IP_ENTRY').message, message);
    });
  }

  it('ignores surrounding spaces and keeps the entry as source', () => {
    assert.deepEqual(parseIpEntry('  10.0.0.0/8\t'), { family: 4, start: 0x0a000000n, end: 0x0affffffn, source: '10.0.0.0/8' });
  });

  it('accepts an en dash or a hyphen, spaces optional', () => {
    for (const entry of ['1.1.1.0–1.1.1.25', '1.1.1.0 –1.1.1.25', '1.1.1.0-  1.1.1.25']) {
      assert.equal(parseIpEntry(entry).end, 0x01010119n, entry);
    }
  });

  it('reads IPv4-mapped entries as IPv4', () => {
    assert.deepEqual(parseIpEntry('::ffff:10.0.0.1'), { family: 4, start: 0x0a000001n, end: 0x0a000001n, source: '::ffff:10.0.0.1' });
    assert.deepEqual(parseIpEntry('::ffff:10.0.0.0/104'), { family: 4, start: 0x0a000000n, end: 0x0affffffn, source: '::ffff:10.0.0.0/104' });
    assert.deepEqual(parseIpEntry('::ffff:0:0/96'), { family: 4, start: 0n, end: 0xffffffffn, source: '::ffff:0:0/96' });
    assert.equal(parseIpEntry('::/80').family, 6);
  });
});

describe('parseIpAddress', () => {
  const cases: [string, 4 | 6, bigint][] = [
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::ffff:1.2.3.4', 4, 0x01020304n],
    ['::FFFF:0102:0304', 4, 0x01020304n],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['1::', 6, 1n << 112n],
    ['2001:DB8::1', 6, 0x20010db8000000000000000000000001n],
    ['2001:db8:0:0:0:0:2:1', 6, 0x20010db8000000000000000000020001n],
    ['64:ff9b::192.0.2.33', 6, 0x0064ff9b0000000000000000c0000221n],
    ['::1.2.3.4', 6, 0x01020304n],
  ];
  for (const [text, family, value] of cases) {
    it(`reads ${text}`, () => assert.deepEqual(parseIpAddress(text), { family, value }));
  }

  it('refuses with INVALID_IP_ADDRESS', () => {
    assert.match(assertRuleError(() => parseIpAddress(' 10.0.0.1'), 'INVALID_IP_ADDRESS').message, /^Invalid IP address " 10\.0\.0\.1": /);
    assertRuleError(() => parseIpAddress('10.0.0.1/32'), 'INVALID_IP_ADDRESS');
  });

  it('reads every address fast-check writes (property)', () => {
    fc.assert(fc.property(fc.ipV4(), (text) => assert.equal(parseIpAddress(text).family, 4)), { numRuns: 200 });
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        // The WHATWG URL parser is an independent IPv6 reader; compare the 128-bit values.
        const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        const parsed = parseIpAddress(text);
        const reference = parseIpAddress(canonical);
        assert.deepEqual(parsed, reference);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the IPv4 forms other parsers accept loosely (property)', () => {
    fc.assert(
      fc.property(fc.ipV4Extended(), (text) => {
        const strict = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(text) && text.split('.').every((octet) => Number(octet) <= 255);
        if (strict) assert.equal(parseIpAddress(text).family, 4);
        else assertRuleError(() => parseIpAddress(text), 'INVALID_IP_ADDRESS');
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but RuleError for any string (property)', () => {
    fc.assert(fc.property(anyString(50), (text) => assertOnlyRuleErrors(() => parseIpAddress(text))), { numRuns: 300 });
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-fA-F:.%[\]]{0,45}$/), (text) => assertOnlyRuleErrors(() => parseIpAddress(text))), { numRuns: 300 });
  });
});

describe('parseIpAllowlist', () => {
  it('accepts 100 entries and refuses 101, naming the limit', () => {
    const entries = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
    assert.equal(parseIpAllowlist(entries.slice(0, 100)).length, 100);
    assert.match(assertRuleError(() => parseIpAllowlist(entries), 'TOO_MANY_IP_ENTRIES').message, /has 101 entries; the limit is 100/);
  });

  it('names the offending entry and its position', () => {
    const error = assertRuleError(() => parseIpAllowlist(['10.0.0.1', '2001:db8::/64', '10.0.0.01']), 'INVALID_IP_ENTRY');
    assert.equal(error.message, 'Invalid IP entry "10.0.0.01" at position 3: IPv4 octets must not have leading zeros (write 10.0.0.1)');
  });

  it('throws nothing but RuleError for any strings (property)', () => {
    const entry = fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[0-9a-f:.]{0,20}( ?[-–/] ?[0-9a-f:.]{0,20})?$/));
    fc.assert(fc.property(fc.array(entry, { maxLength: 5 }), (entries) => assertOnlyRuleErrors(() => parseIpAllowlist(entries))), { numRuns: 300 });
  });
});

describe('isIpAllowed', () => {
  it('allows any address when the list is empty', () => {
    assert.equal(isIpAllowed([], '203.0.113.9'), true);
    assert.equal(isIpAllowed([], 'not an address'), true);
  });

  it('refuses an address that does not parse', () => {
    const list = parseIpAllowlist(['0.0.0.0/0', '::/0']);
    for (const address of ['', 'garbage', '010.0.0.1', ' 10.0.0.1', 'fe80::1%eth0', '[::1]']) {
      assert.equal(isIpAllowed(list, address), false, address);
    }
  });

  it('allows when any entry allows', () => {
    const list = parseIpAllowlist(['10.0.0.1', '192.168.0.0/16', '2001:db8::1 - 2001:db8::ff']);
    assert.equal(isIpAllowed(list, '192.168.4.4'), true);
    assert.equal(isIpAllowed(list, '2001:db8::80'), true);
    assert.equal(isIpAllowed(list, '2001:db8::100'), false);
  });

  it('agrees with 32-bit arithmetic on IPv4 CIDR membership (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.boolean(), (address, base, length, mapped) => {
        const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
        const network = (base & mask) >>> 0;
        const inside = ((address & mask) >>> 0) === network;
        const client = mapped ? `::ffff:${ipv4Text(address)}` : ipv4Text(address);
        assert.equal(isIpAllowed([parseIpEntry(`${ipv4Text(network)}/${length}`)], client), inside);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with node:net BlockList on IPv6 CIDR membership (property)', () => {
    const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
    const text = (value: bigint): string => value.toString(16).padStart(32, '0').match(/.{4}/g)?.join(':') ?? '';
    fc.assert(
      fc.property(v6, v6, fc.integer({ min: 1, max: 128 }), fc.integer({ min: 0, max: 128 }), (address, base, length, shared) => {
        const hostMask = (1n << BigInt(128 - length)) - 1n;
        const network = base & ~hostMask;
        // Let the address share a random number of leading bits with the block, so both
        // outcomes occur often.
        const keep = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - shared)) - 1n);
        const client = (network & keep) | (address & ~keep);
        const mappedBlock = network >= 0xffff00000000n && (network | hostMask) <= 0xffffffffffffn;
        const mappedClient = client >= 0xffff00000000n && client <= 0xffffffffffffn;
        if (mappedBlock || mappedClient) return; // matched as IPv4, covered above
        const reference = new BlockList();
        reference.addSubnet(text(network), length, 'ipv6');
        assert.equal(isIpAllowed([parseIpEntry(`${text(network)}/${length}`)], text(client)), reference.check(text(client), 'ipv6'));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with integer comparison on ranges (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b, address) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const list = [parseIpEntry(`${ipv4Text(low)} – ${ipv4Text(high)}`)];
        assert.equal(isIpAllowed(list, ipv4Text(address)), low <= address && address <= high);
      }),
      { numRuns: 300 },
    );
  });
});

describe('resolveClientAddress', () => {
  const proxies = parseIpAllowlist(['10.0.0.0/8', '2001:db8:ffff::/48']);
  const cases: [string, string, string | undefined, string][] = [
    ['an untrusted peer, whatever the header says', '203.0.113.9', '1.2.3.4', '203.0.113.9'],
    ['an IPv4-mapped peer as IPv4', '::ffff:127.0.0.1', undefined, '127.0.0.1'],
    ['a trusted peer without a header', '10.0.0.2', undefined, '10.0.0.2'],
    ['a trusted peer with an empty header', '10.0.0.2', '  ', '10.0.0.2'],
    ['the right-most untrusted hop', '10.0.0.2', '6.6.6.6, 203.0.113.9, 10.0.0.7', '203.0.113.9'],
    ['a mapped trusted peer', '::ffff:10.0.0.2', '203.0.113.9', '203.0.113.9'],
    ['the left-most hop when all are trusted', '10.0.0.2', '10.1.1.1, 10.0.0.7', '10.1.1.1'],
    ['the last good address at a malformed hop', '10.0.0.2', '203.0.113.9, garbage, 10.0.0.7', '10.0.0.7'],
    ['the peer when the nearest hop is malformed', '10.0.0.2', '203.0.113.9, 203.0.113.10:443', '10.0.0.2'],
    ['the peer at an empty hop', '10.0.0.2', '203.0.113.9,', '10.0.0.2'],
    ['several header values joined', '10.0.0.2', '198.51.100.1, 203.0.113.9,10.9.9.9', '203.0.113.9'],
    ['hops written as IPv4-mapped IPv6', '10.0.0.2', '::ffff:203.0.113.9', '203.0.113.9'],
    ['IPv6 hops in canonical form', '2001:db8:ffff::1', '2001:DB8:0:0:0:0:0:0001', '2001:db8::1'],
    ['a link-local peer without its zone', 'fe80::1%eth0', undefined, 'fe80::1'],
    ['a peer that is not an address as given', 'unknown', '1.2.3.4', 'unknown'],
  ];
  for (const [what, peer, header, expected] of cases) {
    it(`returns ${what}`, () => assert.equal(resolveClientAddress(peer, header, proxies), expected));
  }

  it('trusts nothing when no proxies are configured', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '203.0.113.9', []), '10.0.0.2');
  });

  it('writes IPv6 per RFC 5952, as the WHATWG URL serializer does (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const parsed = parseIpAddress(text);
        if (parsed.family === 4) return;
        assert.equal(resolveClientAddress(text, undefined, []), new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and never returns a trusted hop while an untrusted one is nearer (property)', () => {
    const hop = fc.oneof(fc.ipV4(), fc.constantFrom('10.0.0.1', '10.2.3.4', 'garbage', ''), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.constantFrom('10.0.0.9', '203.0.113.1', '::ffff:10.0.0.9'), fc.option(fc.array(hop, { maxLength: 6 }).map((hops) => hops.join(', ')), { nil: undefined }), (peer, header) => {
        const client = resolveClientAddress(peer, header, proxies);
        assert.equal(typeof client, 'string');
        if (!isIpAllowed(proxies, peer)) assert.equal(client, peer.replace('::ffff:', ''));
      }),
      { numRuns: 300 },
    );
  });
});
