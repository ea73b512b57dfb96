import { parseEndpointPatterns, parseIpAllowlist, type EndpointPattern, type IpRange } from '@tessera/rules';
import type { JWTPayload } from 'jose';
import type { Auth, Verdict } from './verdict.js';

/** A credential known good: what its claims say, parsed once and cached with it. */
export interface Checked {
  readonly auth: Auth;
  /** Scope decisions already taken for this token, by method, then url. */
  readonly decisions: Map<string, Map<string, boolean>>;
  /** What the revocation feed is asked, built once so a cached request allocates nothing. */
  readonly revocationClaims: { readonly jti: string | undefined; readonly tid: string | null; readonly sub: string; readonly iat: number | undefined; readonly org: string };
  /** The success verdict, built once. */
  readonly success: Verdict;
  readonly endpoints: readonly EndpointPattern[] | null;
  readonly allowlist: readonly IpRange[];
  readonly expiresAtMs: number;
  readonly jti: string | undefined;
  readonly iat: number | undefined;
}

export type Claims = JWTPayload & Record<string, unknown>;

export interface ClaimRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly skewSeconds: number;
}

/** Whether a signed token's registered claims hold: issuer, audience, time and identity. */
export function claimsHold(payload: Claims, rules: ClaimRules, nowSeconds: number): boolean {
  const skew = rules.skewSeconds;
  if (payload.iss !== rules.issuer) return false;
  const aud = [payload.aud].flat();
  if (!aud.some((value) => typeof value === 'string' && rules.audiences.includes(value))) return false;
  if (typeof payload.exp !== 'number' || payload.exp + skew <= nowSeconds) return false;
  if (typeof payload.nbf === 'number' && payload.nbf - skew > nowSeconds) return false;
  if (typeof payload.iat !== 'number' || payload.iat - skew > nowSeconds) return false;
  return typeof payload.sub === 'string' && typeof payload.jti === 'string';
}

/** A JSON object from a base64url JWS segment; undefined for anything else. */
export function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every token of one issuer and key shares its header segment: decode each distinct one once. */
export function headerDecoder(): (part: string) => Record<string, unknown> | undefined {
  const headers = new Map<string, Record<string, unknown> | undefined>();
  return (part) => {
    if (headers.has(part)) return headers.get(part);
    const header = decodeJson(part);
    if (headers.size >= 64) headers.delete(headers.keys().next().value as string);
    headers.set(part, header);
    return header;
  };
}

/**
 * The reader of verified claims (a JWT's payload or an introspection answer) into a
 * {@link Checked}. It throws on unparseable endpoint or allowlist claims.
 */
export function claimReader(): (payload: Claims) => Checked {
  // Tokens minted from one API token carry the same endpoint and allowlist claims: parse each
  // distinct list once (bounded), not once per token.
  const parsedEndpoints = new Map<string, readonly EndpointPattern[]>();
  const parsedAllowlists = new Map<string, readonly IpRange[]>();
  function parsedOnce<T>(memo: Map<string, T>, list: readonly string[], parse: (list: string[]) => T): T {
    const key = list.join('\n');
    let parsed = memo.get(key);
    if (parsed === undefined) {
      parsed = parse([...list]);
      if (memo.size >= 1000) memo.delete(memo.keys().next().value as string);
      memo.set(key, parsed);
    }
    return parsed;
  }

  return (payload) => {
    const endpointsClaim = Array.isArray(payload['endpoints']) ? (payload['endpoints'] as string[]) : [];
    const allowlistClaim = Array.isArray(payload['ip_allowlist']) ? (payload['ip_allowlist'] as string[]) : [];
    const kind = typeof payload['scope'] === 'string' ? payload['scope'] : 'all';
    const auth: Auth = {
      sub: String(payload.sub),
      org: String(payload['org'] ?? ''),
      roles: Array.isArray(payload['roles']) ? (payload['roles'] as string[]) : [],
      tokenId: typeof payload['tid'] === 'string' ? payload['tid'] : null,
      scope: { kind, endpoints: kind === 'all' ? [] : endpointsClaim },
      amr: Array.isArray(payload['amr']) ? (payload['amr'] as string[]) : [],
      expiresAt: typeof payload.exp === 'number' ? payload.exp : null,
    };
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    const iat = typeof payload.iat === 'number' ? payload.iat : undefined;
    return {
      decisions: new Map(),
      auth,
      success: { ok: true, auth },
      endpoints: kind === 'all' ? null : parsedOnce(parsedEndpoints, endpointsClaim, parseEndpointPatterns),
      allowlist: allowlistClaim.length === 0 ? [] : parsedOnce(parsedAllowlists, allowlistClaim, parseIpAllowlist),
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY,
      jti,
      iat,
      revocationClaims: { jti, tid: auth.tokenId, sub: auth.sub, iat, org: auth.org },
    };
  };
}
