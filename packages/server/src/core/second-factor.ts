import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Two-factor login with TOTP (RFC 6238): the pieces that need no storage (the code algorithm
 * itself is the Totp port, app/totp.ts). The seed is
 * encrypted at rest under the server's secret key, like signing keys; recovery codes are kept
 * only as keyed hashes and work once.
 */

function subkey(secretKey: Buffer, purpose: string): Buffer {
  // Subkeys of their own, so the key that encrypts seeds never doubles as another key.
  return Buffer.from(hkdfSync('sha256', secretKey, 'tessera', purpose, 32));
}

/** AES-256-GCM under a subkey of the server key: iv (12) | tag (16) | ciphertext. */
export function sealSeed(secretKey: Buffer, seed: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', subkey(secretKey, 'totp-seed-encryption'), iv);
  const ciphertext = Buffer.concat([cipher.update(seed, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

export function openSeed(secretKey: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', subkey(secretKey, 'totp-seed-encryption'), sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
}

const recoveryAlphabet = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten recovery codes such as `k7m2-p9qx-4vtb` (60 bits each), shown once at enrolment. */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((b) => recoveryAlphabet[b % recoveryAlphabet.length]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

/** A recovery code's keyed hash; codes are compared case- and dash-insensitively. */
export function hashRecoveryCode(secretKey: Buffer, code: string): string {
  const normal = code.toLowerCase().replace(/[^a-z0-9]/g, '');
  return createHmac('sha256', subkey(secretKey, 'recovery-code-hash')).update(normal).digest('base64url');
}

/** The index of the stored hash `code` matches, compared in constant time; -1 for none. */
export function matchRecoveryCode(secretKey: Buffer, code: string, hashes: readonly string[]): number {
  const wanted = Buffer.from(hashRecoveryCode(secretKey, code));
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash);
    if (stored.length === wanted.length && timingSafeEqual(stored, wanted) && found === -1) found = index;
  });
  return found;
}
