import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * JWT access tokens (RFC 9068) signed with ES256 (the default), RS256 or EdDSA, written against
 * node:crypto directly: the token endpoint signs one per request, and node:crypto's sign is
 * about twice as fast as a general JOSE library's here. Verification for introspection uses the
 * same keys. The resource-server SDK verifies with `jose` against the published JWKS.
 */

/**
 * The signature algorithms Tessera signs with (SPEC 5.2). RS256 because RFC 9068 §2.1 requires
 * authorization servers to support it; ES256 as the default because every common JWT library
 * verifies it (jsonwebtoken has no EdDSA) and its keys and signatures are small; EdDSA for
 * deployments whose verifiers all have it.
 */
export const signingAlgorithms = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

export const isSigningAlgorithm = (value: unknown): value is SigningAlgorithm => signingAlgorithms.includes(value as SigningAlgorithm);

function generatePair(algorithm: SigningAlgorithm) {
  switch (algorithm) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'RS256':
      // RFC 7518 §3.3: at least 2048 bits.
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

/** Signs or verifies `data` with node:crypto in the form JWS uses (RFC 7518 §3). */
function signBytes(algorithm: SigningAlgorithm, data: Buffer, key: KeyObject): Buffer {
  if (algorithm === 'EdDSA') return sign(null, data, key);
  // RFC 7518 §3.4: an ES256 signature is R || S, 64 bytes, not the DER node:crypto defaults to.
  return algorithm === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
}

function verifyBytes(algorithm: SigningAlgorithm, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    if (algorithm === 'EdDSA') return verify(null, data, key, signature);
    return algorithm === 'ES256' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify('sha256', data, key, signature);
  } catch {
    // A signature of the wrong length for the key is simply not a valid signature.
    return false;
  }
}

/** Claims of a Tessera access token (SPEC 5.2). */
export interface AccessTokenClaims {
  readonly iss: string;
  /** The principal the token acts for (its owner, or the app for client_credentials). */
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly client_id: string;
  readonly org: string;
  readonly roles: readonly string[];
  /** The scope kind: `all`, `custom`, or a preset name (RFC 9068 §2.2.3 scope claim). */
  readonly scope: string;
  /** Endpoint patterns the token may call, for custom scopes and presets. */
  readonly endpoints?: readonly string[];
  /** The IP allowlist, when not empty. */
  readonly ip_allowlist?: readonly string[];
  /** The API token this access token was minted from. */
  readonly tid?: string;
  /** How the subject authenticated: `token` (API token), `pwd` (login), `client` (app). */
  readonly amr: readonly ('pwd' | 'token' | 'client')[];
}

/** A signing key as stored: the private half encrypted under the server's secret key. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicKey: JsonWebKey;
  /** AES-256-GCM: 12-byte IV, 16-byte tag, ciphertext of the PKCS#8 DER private key. */
  readonly encryptedPrivateKey: Buffer;
  readonly createdAt: Date;
  /** When the key started signing; null while it is published ahead as the next key. */
  readonly activatedAt: Date | null;
  /** When the key stopped signing; null while it is the active (or the next) key. */
  readonly retiredAt: Date | null;
}

/** A key ready to sign or verify. */
export interface SigningKey {
  readonly kid: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicJwk: JsonWebKey & { kid: string; alg: SigningAlgorithm; use: 'sig' };
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** The JOSE header, already encoded, since it is the same for every token of this key. */
  readonly encodedHeader: string;
}

function wrappingKey(secretKey: Uint8Array): Buffer {
  // A subkey of its own, so the key that encrypts signing keys never doubles as an HMAC key.
  return Buffer.from(hkdfSync('sha256', secretKey, 'tessera', 'signing-key-encryption', 32));
}

/** Generates a key pair for `algorithm` (default ES256) and encrypts its private half for storage. */
export function generateSigningKey(secretKey: Uint8Array, kid: string, iv: Uint8Array, now: Date, algorithm: SigningAlgorithm = 'ES256'): StoredSigningKey {
  const { publicKey, privateKey } = generatePair(algorithm);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(secretKey), iv);
  cipher.setAAD(Buffer.from(kid));
  const ciphertext = Buffer.concat([cipher.update(privateKey.export({ format: 'der', type: 'pkcs8' })), cipher.final()]);
  return {
    kid,
    algorithm,
    publicKey: publicKey.export({ format: 'jwk' }),
    encryptedPrivateKey: Buffer.concat([Buffer.from(iv), cipher.getAuthTag(), ciphertext]),
    createdAt: now,
    activatedAt: null,
    retiredAt: null,
  };
}

/** Decrypts a stored key. Fails (throws) if the secret key is not the one it was stored under. */
export function openSigningKey(secretKey: Uint8Array, stored: StoredSigningKey): SigningKey {
  const iv = stored.encryptedPrivateKey.subarray(0, 12);
  const tag = stored.encryptedPrivateKey.subarray(12, 28);
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey(secretKey), iv);
  decipher.setAAD(Buffer.from(stored.kid));
  decipher.setAuthTag(tag);
  const der = Buffer.concat([decipher.update(stored.encryptedPrivateKey.subarray(28)), decipher.final()]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: stored.publicKey as import('node:crypto').JsonWebKey, format: 'jwk' });
  const alg = stored.algorithm;
  return {
    kid: stored.kid,
    algorithm: alg,
    // RFC 7517 §4.2, §4.4: `use` and `alg` let verifiers pick the key without guessing.
    publicJwk: { ...stored.publicKey, kid: stored.kid, alg, use: 'sig' },
    publicKey,
    privateKey,
    encodedHeader: Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid: stored.kid })).toString('base64url'),
  };
}

/** Signs the claims as a compact JWT with `typ: at+jwt` (RFC 9068 §2.1). */
export function signAccessToken(key: SigningKey, claims: AccessTokenClaims): string {
  const signingInput = `${key.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signingInput}.${signBytes(key.algorithm, Buffer.from(signingInput), key.privateKey).toString('base64url')}`;
}

export type DecodedAccessToken =
  | { readonly valid: true; readonly claims: AccessTokenClaims; readonly kid: string }
  | { readonly valid: false; readonly reason: 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_type' | 'wrong_issuer' | 'expired' | 'not_yet_valid' };

// Signatures: 86 characters for Ed25519 and ES256 (64 bytes), 342 for RS256 with 2048 bits, up to 4096-bit RSA.
const jwtShape = /^[A-Za-z0-9_-]{10,200}\.[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{86,683}$/;

/**
 * Verifies a compact JWT against the service's own keys: shape, header (`typ` at+jwt, a known
 * `kid`, and `alg` exactly that key's algorithm), signature, issuer and expiry. Never throws for
 * bad input.
 */
export function verifyAccessToken(
  token: string,
  keys: (kid: string) => SigningKey | undefined,
  expected: { issuer: string; now: Date; leewaySeconds?: number },
): DecodedAccessToken {
  if (!jwtShape.test(token)) return { valid: false, reason: 'malformed' };
  const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
  let header: { alg?: unknown; typ?: unknown; kid?: unknown };
  let claims: AccessTokenClaims;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return { valid: false, reason: 'malformed' };
  if (!isSigningAlgorithm(header.alg) || typeof header.kid !== 'string') return { valid: false, reason: 'malformed' };
  if (header.typ !== 'at+jwt') return { valid: false, reason: 'wrong_type' };
  const key = keys(header.kid);
  if (!key) return { valid: false, reason: 'unknown_key' };
  // RFC 8725 §3.1: the key decides the algorithm, never the token; `none` and HMAC never pass.
  if (header.alg !== key.algorithm) return { valid: false, reason: 'bad_signature' };
  const signatureOk = verifyBytes(key.algorithm, Buffer.from(`${encodedHeader}.${encodedPayload}`), key.publicKey, Buffer.from(encodedSignature, 'base64url'));
  if (!signatureOk) return { valid: false, reason: 'bad_signature' };
  if (claims.iss !== expected.issuer) return { valid: false, reason: 'wrong_issuer' };
  const now = Math.floor(expected.now.getTime() / 1000);
  const leeway = expected.leewaySeconds ?? 0;
  if (typeof claims.exp !== 'number' || claims.exp + leeway <= now) return { valid: false, reason: 'expired' };
  if (typeof claims.iat === 'number' && claims.iat - leeway > now + 60) return { valid: false, reason: 'not_yet_valid' };
  return { valid: true, claims, kid: header.kid };
}
