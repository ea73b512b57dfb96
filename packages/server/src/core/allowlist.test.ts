import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isIpAllowed, parseIpAllowlist } from '@tessera/rules';
import { intersectAllowlists } from './allowlist.js';

const allowedByAll = (lists: string[][], address: string) => lists.every((list) => isIpAllowed(parseIpAllowlist(list), address));
const allowedBy = (list: string[], address: string) => isIpAllowed(parseIpAllowlist(list), address);

describe('intersectAllowlists', () => {
  it('keeps a single list as written and drops empty lists', () => {
    assert.deepEqual(intersectAllowlists([[], ['10.0.0.0/8', '2001:db8::/32'], []]), ['10.0.0.0/8', '2001:db8::/32']);
    assert.deepEqual(intersectAllowlists([[], []]), []);
  });

  it('admits exactly what every list admits', () => {
    const lists = [['10.0.0.0/8', '2001:db8::/32'], ['10.1.0.0/16', '192.168.0.1', '2001:db8:1::1 - 2001:db8:1::ff'], ['10.1.2.0 - 10.1.9.255', '::/0']];
    const result = intersectAllowlists(lists);
    assert.deepEqual(result, ['10.1.2.0 - 10.1.9.255', '2001:db8:1:0:0:0:0:1 - 2001:db8:1:0:0:0:0:ff']);
    for (const address of ['10.1.2.0', '10.1.9.255', '10.1.10.0', '10.1.1.255', '192.168.0.1', '2001:db8:1::80', '2001:db8:1::100', '::ffff:10.1.5.5']) {
      assert.equal(allowedBy(result, address), allowedByAll(lists, address), address);
    }
  });

  it('allows no real client when the lists share no address', () => {
    const result = intersectAllowlists([['10.0.0.0/8'], ['192.168.0.0/16']]);
    assert.equal(result.length > 0, true, 'never the empty list, which would allow everyone');
    for (const address of ['10.0.0.1', '192.168.0.1', '8.8.8.8', '2001:db8::1']) assert.equal(allowedBy(result, address), false);
  });

  it('agrees with checking every list, for random lists and addresses (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const v4 = fc.tuple(fc.constant(10), fc.constantFrom(0, 1), octet, octet).map((parts) => parts.join('.'));
    const entry = fc.oneof(
      v4,
      fc.tuple(v4, fc.integer({ min: 8, max: 32 })).map(([address, prefix]) => {
        const value = address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
        const block = Math.floor(value / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
        return `${[24, 16, 8, 0].map((shift) => Math.floor(block / 2 ** shift) % 256).join('.')}/${prefix}`;
      }),
      fc.tuple(v4, v4).map(([a, b]) => (parseIpAllowlist([a])[0]!.start <= parseIpAllowlist([b])[0]!.start ? `${a} - ${b}` : `${b} - ${a}`)),
      fc.integer({ min: 0, max: 0xffff }).map((n) => `2001:db8::${n.toString(16)}`),
      fc.constant('2001:db8::/120'),
    );
    fc.assert(
      fc.property(fc.array(fc.array(entry, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.array(fc.oneof(v4, entry.filter((e) => !/[/-]/.test(e))), { minLength: 5, maxLength: 20 }), (lists, addresses) => {
        const result = intersectAllowlists(lists);
        parseIpAllowlist(result);
        for (const address of addresses) assert.equal(allowedBy(result, address), allowedByAll(lists, address), `${JSON.stringify(lists)} ${address}`);
      }),
      { numRuns: 300, seed: 21 },
    );
  });
});
