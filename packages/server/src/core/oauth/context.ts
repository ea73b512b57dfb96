import { signAccessToken, verifyAccessToken, type AccessTokenClaims, type DecodedAccessToken } from '../access-token-format.js';
import type { AppService } from '../apps.js';
import type { Keyring } from '../keyring.js';
import { randomBase62, type Clock, type Random } from '../ports.js';
import type { Store } from '../store.js';
import type { UsageRecorder } from '../usage.js';
import type { ApiTokenGate, ExchangeableToken, OAuthSettings } from './types.js';

/** What the OAuth service is built from (app/container.ts wires it). */
export interface OAuthDeps {
  store: Store;
  clock: Clock;
  random: Random;
  keyring: Keyring;
  apps: AppService;
  tokens: ApiTokenGate;
  usage: UsageRecorder;
  settings: OAuthSettings;
}

/**
 * What the OAuth grants and endpoints share: the dependencies, access-token minting, and the
 * in-memory cache of verified access tokens. Each grant or endpoint file takes this.
 */
export function createOAuthContext(deps: OAuthDeps) {
  const { store, clock, random, keyring, tokens, usage, settings } = deps;
  const withoutRefreshToken = settings.nullRefreshToken ? { refresh_token: null } : {};

  function mint(claims: Omit<AccessTokenClaims, 'iss' | 'aud' | 'iat' | 'exp' | 'jti'>, ttlSeconds: number): { token: string; expiresIn: number } {
    const iat = Math.floor(clock.now().getTime() / 1000);
    const token = signAccessToken(keyring.active(), {
      iss: settings.issuer(),
      aud: settings.audience,
      iat,
      exp: iat + ttlSeconds,
      jti: randomBase62(random, 22),
      ...claims,
    });
    return { token, expiresIn: ttlSeconds };
  }

  /**
   * Access tokens whose signature, type and issuer have been checked, by their exact text:
   * resource servers introspect the same token many times, and an Ed25519 verification costs
   * more than everything else introspection does. Expiry and the signing key's publication
   * are checked again on every use; revocation and the API token's state are never cached here.
   */
  const verified = new Map<string, { claims: AccessTokenClaims; kid: string; seenAt: number }>();
  const maxVerified = 10_000;
  /**
   * An entry unused this long is dropped by `sweep`: the cache serves bursts of introspections
   * of one token, and re-verifying after a quiet minute costs one signature check; without it
   * the map would fill to its cap with tokens nobody presents again.
   */
  const verifiedIdleMs = 60_000;

  async function decodeAccessToken(token: string, now: Date): Promise<DecodedAccessToken> {
    const known = verified.get(token);
    if (known !== undefined) {
      if (known.claims.exp > Math.floor(now.getTime() / 1000) && known.claims.iss === settings.issuer() && keyring.find(known.kid)) {
        known.seenAt = now.getTime();
        return { valid: true, claims: known.claims, kid: known.kid };
      }
      verified.delete(token);
    }
    let decoded = verifyAccessToken(token, (kid) => keyring.find(kid), { issuer: settings.issuer(), now });
    if (!decoded.valid && decoded.reason === 'unknown_key') {
      // Another instance may have rotated the key: reload, at most once a second.
      await keyring.refresh(1000);
      decoded = verifyAccessToken(token, (kid) => keyring.find(kid), { issuer: settings.issuer(), now });
    }
    if (decoded.valid) {
      // Oldest out first (Map keeps insertion order).
      if (verified.size >= maxVerified) verified.delete(verified.keys().next().value as string);
      verified.set(token, { claims: decoded.claims, kid: decoded.kid, seenAt: now.getTime() });
    }
    return decoded;
  }

  /** An access token for a verified API token (SPEC 5.2), with the scope it may narrow to. */
  async function issueForToken(token: ExchangeableToken, scopeKind = token.scopeKind, endpoints = token.endpoints) {
    const policy = await tokens.policy(token.orgId);
    return mint(
      {
        sub: token.ownerId,
        client_id: token.id,
        org: token.orgId,
        roles: token.roles,
        scope: scopeKind,
        ...(scopeKind !== 'all' && { endpoints }),
        ...(token.ipAllowlist.length > 0 && { ip_allowlist: token.ipAllowlist }),
        tid: token.id,
        amr: ['token'],
      },
      policy.accessTokenTtlSeconds,
    );
  }

  /** Drops verified access tokens that have expired or gone unused for a minute (called on a timer). */
  function sweep(now: Date): void {
    const nowMs = now.getTime();
    for (const [token, entry] of verified) {
      if (entry.claims.exp * 1000 <= nowMs || nowMs - entry.seenAt >= verifiedIdleMs) verified.delete(token);
    }
  }

  /** Verified access tokens held in memory (for /metrics and the soak bench). */
  const verifiedCount = (): number => verified.size;

  return { deps, store, clock, random, keyring, tokens, usage, settings, withoutRefreshToken, mint, decodeAccessToken, issueForToken, sweep, verifiedCount };
}

export type OAuthContext = ReturnType<typeof createOAuthContext>;
