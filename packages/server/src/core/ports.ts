import { randomBytes } from 'node:crypto';

/** Time source. Injected so tests can freeze and move time. */
export interface Clock {
  now(): Date;
}

/** Randomness source. Injected so tests can make ids predictable. */
export interface Random {
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { now: () => new Date() };
export const systemRandom: Random = { bytes: (length) => randomBytes(length) };

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
