import { KeyObject, verify as verifySignature } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors as joseErrors } from 'jose';

/** The asymmetric algorithms Tessera signs access tokens with (SPEC 5.2). */
export type SignatureAlgorithm = 'ES256' | 'RS256' | 'EdDSA';
export const supportedAlgorithms: readonly SignatureAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];

export interface KeyringOptions {
  readonly jwksUri: string;
  /** An unknown `kid` triggers at most one JWKS refetch per this many milliseconds. */
  readonly cooldownMs: number;
  /** A key is looked up again after this many milliseconds. */
  readonly maxAgeMs: number;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

/** A key of the issuer's JWKS; `unknown` when it has none for the token, `unreachable` when it could not be asked. */
export type KeyLookup = KeyObject | 'unknown' | 'unreachable';

/**
 * Public keys by kid, as node:crypto KeyObjects: jose fetches and caches the JWKS (cooldown
 * on unknown kids, never a URL from the token); the signature is checked synchronously with
 * node:crypto, which is markedly faster here than an async WebCrypto verify per token.
 */
export function createKeyring(options: KeyringOptions): (alg: SignatureAlgorithm, kid: string) => Promise<KeyLookup> | KeyObject {
  const { now, cooldownMs, maxAgeMs } = options;
  const fetchFn = options.fetch;
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: maxAgeMs,
    [customFetch]: (url, init) => fetchFn(url, init),
  });
  const keyObjects = new Map<string, { readonly key: KeyObject; readonly checkedAt: number }>();

  async function lookUp(alg: SignatureAlgorithm, kid: string, keyId: string, known: { readonly key: KeyObject } | undefined): Promise<KeyLookup> {
    try {
      // jose picks the JWKS key by kid and, RFC 7517 §4.4, only one whose `alg` is the
      // token's (and whose key type fits it): the published algorithm decides.
      const key = KeyObject.from((await jwks({ alg, kid }, undefined as never)) as CryptoKey);
      keyObjects.set(keyId, { key, checkedAt: now() });
      return key;
    } catch (error) {
      // No such key in the issuer's JWKS (or asked again within the cooldown): a forged or
      // foreign token, or a retired key. Anything else (JWKS unreachable, timed out,
      // unreadable) is our outage, not the caller's fault: a key already known keeps working
      // until the JWKS answers again; an unknown one is a 503, so clients retry.
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys || error instanceof joseErrors.JOSENotSupported) {
        keyObjects.delete(keyId);
        return 'unknown';
      }
      if (!known) return 'unreachable';
      // Ask again after the cooldown, not on every request while the outage lasts.
      keyObjects.set(keyId, { key: known.key, checkedAt: now() - maxAgeMs + cooldownMs });
      return known.key;
    }
  }

  return (alg, kid) => {
    // Keys are remembered by kid and algorithm: a token naming another algorithm for a known
    // kid goes back to the JWKS, which has no such key.
    const keyId = `${alg} ${kid}`;
    const known = keyObjects.get(keyId);
    // A key is trusted for jwksMaxAgeSeconds, then looked up again: one the issuer has retired
    // from its JWKS (every token it signed has expired) stops verifying anything new.
    if (known && now() - known.checkedAt <= maxAgeMs) return known.key;
    return lookUp(alg, kid, keyId, known);
  };
}

/** Whether `signature` is `alg`'s signature of `data` by `key`. */
export function signatureIsValid(alg: SignatureAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (!keyFits(alg, key)) return false;
  try {
    return alg === 'EdDSA'
      ? verifySignature(null, data, key, signature)
      : alg === 'ES256'
        ? // RFC 7518 §3.4: JWS carries R || S, not DER.
          verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        : verifySignature('sha256', data, key, signature);
  } catch {
    return false;
  }
}

/** Belt and braces: the key's type must be the one the algorithm is defined for. */
function keyFits(alg: SignatureAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg === 'EdDSA') return type === 'ed25519';
  if (alg === 'ES256') return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
}
