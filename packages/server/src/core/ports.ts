import { randomFillSync } from 'node:crypto';

/** Time source. Injected so tests can freeze and move time. */
export interface Clock {
  now(): Date;
}

/** Randomness source. Injected so tests can make ids predictable. */
export interface Random {
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The system CSPRNG, read 4 KiB at a time: one getrandom call per id or secret cost the token
 * endpoint ~3% of its CPU (an access token's jti each time). Each caller gets its own copy, and
 * handed-out bytes are wiped from the pool, so no two callers ever share or see each other's bytes.
 */
function pooledRandom(poolSize = 4096): Random {
  const pool = Buffer.alloc(poolSize);
  let offset = poolSize;
  return {
    bytes(length) {
      if (length > poolSize / 4) return randomFillSync(Buffer.alloc(length));
      if (offset + length > poolSize) {
        randomFillSync(pool);
        offset = 0;
      }
      const out = Buffer.from(pool.subarray(offset, offset + length));
      pool.fill(0, offset, offset + length);
      offset += length;
      return out;
    },
  };
}

export const systemRandom: Random = pooledRandom();

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base62 string; rejection sampling keeps every character equally likely. */
export function randomBase62(random: Random, length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random.bytes(length * 2)) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62];
    }
  }
  return out;
}

/** A public id such as `usr_4f9XcT0aQ2pL`: typed prefix, 12 random base62 characters. */
export function newId(random: Random, kind: string): string {
  return `${kind}_${randomBase62(random, 12)}`;
}
