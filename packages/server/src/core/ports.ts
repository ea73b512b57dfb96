import { randomFillSync } from 'node:crypto';

/** Time source. Injected so tests can freeze and move time. */
export interface Clock {
  now(): Date;
}

/**
 * Time-based one-time passwords (RFC 6238), for two-factor login. A port, so core holds the
 * rules (when a code counts, replay) and the algorithm comes from a well-kept library in app/.
 */
export interface Totp {
  /** A new base32 seed of 160 bits (RFC 4226 §4's recommended length). */
  newSeed(): string;
  /** The `otpauth://totp/...` URI authenticator apps scan (as a QR code) or accept typed in. */
  uri(issuer: string, account: string, seed: string): string;
  /**
   * The time step a six-digit code belongs to at `now`, one step of drift either side
   * (RFC 6238 §5.2), never a step at or before `lastStep` (no replay); undefined when it fails.
   */
  check(seed: string, code: string, now: Date, lastStep: number | null): Promise<number | undefined>;
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
