import { createHmac, createSecretKey, scrypt, timingSafeEqual, type BinaryLike, type KeyObject, type ScryptOptions } from 'node:crypto';

/**
 * Keyed hash of a token or session secret (SPEC 3.2: HMAC-SHA256 under a server-side key), so a
 * stolen database without the key cannot be used to check guesses offline.
 */
export function hashSecret(key: Uint8Array, secret: string): Buffer {
  return createHmac('sha256', hmacKeyOf(key)).update(secret).digest();
}

/**
 * The key imported once: an HMAC keyed with raw bytes copies and imports them on every call,
 * and every token exchange and client authentication hashes a secret.
 */
const hmacKeys = new WeakMap<Uint8Array, KeyObject>();
function hmacKeyOf(key: Uint8Array): KeyObject {
  let imported = hmacKeys.get(key);
  if (imported === undefined) {
    imported = createSecretKey(key);
    hmacKeys.set(key, imported);
  }
  return imported;
}

/** Constant-time comparison of two keyed hashes. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function scryptAsync(password: BinaryLike, salt: BinaryLike, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** scrypt cost parameters; N = 2^15 takes ~50 ms here, the OWASP-recommended floor for scrypt. */
export interface PasswordCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}
export const defaultPasswordCost: PasswordCost = { N: 2 ** 15, r: 8, p: 1 };

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashPassword(password: string, salt: Uint8Array, cost: PasswordCost = defaultPasswordCost): Promise<string> {
  const hash = await scryptAsync(password.normalize('NFKC'), salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r });
  return ['scrypt', cost.N, cost.r, cost.p, Buffer.from(salt).toString('base64url'), hash.toString('base64url')].join('$');
}

/** Checks a password against a stored hash in constant time; malformed hashes never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || salt === undefined || hash === undefined) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, {
    ...cost,
    maxmem: 256 * cost.N * cost.r,
  });
  return hashesEqual(actual, expected);
}
