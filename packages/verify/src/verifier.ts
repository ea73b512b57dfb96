import { isIpAllowed, matchesEndpoint, parseEndpointPatterns, parseIpAllowlist, parseToken, resolveClientAddress, type EndpointPattern, type IpRange } from '@tessera/rules';
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { RequestLike } from './request.js';
import { RevocationFeed } from './revocation-feed.js';
import { refuse, type Auth, type Verdict } from './verdict.js';

export interface VerifierOptions {
  /** The Tessera issuer URL, exactly as in the tokens' `iss` (e.g. `https://tessera.example.com`). */
  readonly issuer: string;
  /** The audience your API is, as configured in Tessera (`aud`). */
  readonly audience: string | readonly string[];
  /** JWKS location; default `<issuer>/.well-known/jwks.json`. Never taken from a token. */
  readonly jwksUri?: string;
  /** Accepted signature algorithms; default `['EdDSA']`. */
  readonly algorithms?: readonly ('EdDSA' | 'ES256')[];
  /** Allowance for clock differences when checking `exp`, `nbf` and `iat`; default 5 seconds. */
  readonly clockSkewSeconds?: number;
  /** An unknown `kid` triggers at most one JWKS refetch per this many seconds; default 30. */
  readonly jwksCooldownSeconds?: number;
  /** Reverse proxies whose X-Forwarded-For is believed (addresses, CIDRs, ranges). */
  readonly trustedProxies?: readonly string[];
  /** Check the method and path against the token's endpoint scope; default true. */
  readonly enforceScope?: boolean;
  /** Match endpoint patterns case-insensitively; default false (SPEC 3.5). */
  readonly caseInsensitivePaths?: boolean;
  /** The realm named in WWW-Authenticate; default `api`. */
  readonly realm?: string;
  /** API token prefix, to recognise direct tokens; default `tsr`. */
  readonly tokenPrefix?: string;
  /** Direct API tokens are checked by introspection (RFC 7662) as this app; omit to refuse them. */
  readonly introspection?: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** Default `<issuer>/oauth/introspect`. */
    readonly url?: string;
    /** How long an introspection answer is reused; never beyond the token's expiry. Default 10 s. */
    readonly cacheSeconds?: number;
  };
  /** Follow the revocation feed so revoked tokens stop working within seconds; strongly advised. */
  readonly revocations?: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** Default `<issuer>/oauth/revocations`. */
    readonly url?: string;
    /** With no word from the feed for this long, refuse every request with 503; default 30 s. */
    readonly maxStalenessSeconds?: number;
    readonly reconnectDelayMs?: number;
  };
  /** Injected for tests. */
  readonly fetch?: typeof fetch;
  /** Injected for tests: milliseconds since the epoch. */
  readonly now?: () => number;
}

export interface Verifier {
  /** Verifies one request: credentials, signature, claims, revocation, scope and client address. */
  verify(request: RequestLike): Promise<Verdict>;
  /** Resolves when the revocation feed has delivered its backlog (immediately without a feed). */
  ready(): Promise<void>;
  /** Stops following the revocation feed. */
  close(): void;
}

interface Checked {
  readonly auth: Auth;
  readonly endpoints: readonly EndpointPattern[] | null;
  readonly allowlist: readonly IpRange[];
  readonly expiresAtMs: number;
  readonly jti: string | undefined;
  readonly iat: number | undefined;
}

const maxCacheEntries = 10_000;

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined by a colon, then base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`;
}

/**
 * Creates a verifier for Tessera access tokens (and, with `introspection`, direct API tokens).
 *
 * @example
 * ```ts
 * const verifier = createVerifier({
 *   issuer: 'https://tessera.example.com',
 *   audience: 'api',
 *   revocations: { clientId: 'cl_...', clientSecret: process.env.TESSERA_FEED_SECRET! },
 * });
 * const verdict = await verifier.verify(fromNodeRequest(req));
 * if (!verdict.ok) { res.writeHead(verdict.status, { 'www-authenticate': verdict.wwwAuthenticate ?? '' }); }
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer.replace(/\/$/, '');
  const now = options.now ?? Date.now;
  const realm = options.realm ?? 'api';
  const skew = options.clockSkewSeconds ?? 5;
  const prefix = options.tokenPrefix ?? 'tsr';
  const fetchFn = options.fetch ?? fetch;
  const trustedProxies = parseIpAllowlist(options.trustedProxies ?? []);
  const audiences = [options.audience].flat() as string[];
  const jwks = createRemoteJWKSet(new URL(options.jwksUri ?? `${issuer}/.well-known/jwks.json`), {
    cooldownDuration: (options.jwksCooldownSeconds ?? 30) * 1000,
    [customFetch]: (url, init) => fetchFn(url, init),
  });
  const algorithms = [...(options.algorithms ?? ['EdDSA'])];

  const feed = options.revocations
    ? new RevocationFeed({
        url: options.revocations.url ?? `${issuer}/oauth/revocations`,
        clientId: options.revocations.clientId,
        clientSecret: options.revocations.clientSecret,
        ...(options.revocations.reconnectDelayMs !== undefined && { reconnectDelayMs: options.revocations.reconnectDelayMs }),
        fetch: fetchFn,
      })
    : undefined;
  feed?.start();
  const maxStalenessMs = (options.revocations?.maxStalenessSeconds ?? 30) * 1000;

  // Verified credentials by their exact string: a repeat costs a map lookup, not a signature.
  const cache = new Map<string, Checked>();
  const remember = (token: string, checked: Checked) => {
    if (cache.size >= maxCacheEntries) cache.delete(cache.keys().next().value as string);
    cache.set(token, checked);
  };

  const invalid = (description: string) => refuse(realm, 401, 'invalid_token', description);
  // RFC 6750 §3.1 / RFC 7662 §2.2: a revoked, expired or unknown token gets one answer.
  const notValid = () => invalid('The access token is not valid');

  function fromClaims(payload: JWTPayload & Record<string, unknown>): Checked {
    const endpointsClaim = Array.isArray(payload['endpoints']) ? (payload['endpoints'] as string[]) : [];
    const kind = typeof payload['scope'] === 'string' ? payload['scope'] : 'all';
    return {
      auth: {
        sub: String(payload.sub),
        org: String(payload['org'] ?? ''),
        roles: Array.isArray(payload['roles']) ? (payload['roles'] as string[]) : [],
        tokenId: typeof payload['tid'] === 'string' ? payload['tid'] : null,
        scope: { kind, endpoints: kind === 'all' ? [] : endpointsClaim },
        amr: Array.isArray(payload['amr']) ? (payload['amr'] as string[]) : [],
        expiresAt: typeof payload.exp === 'number' ? payload.exp : null,
      },
      endpoints: kind === 'all' ? null : parseEndpointPatterns(endpointsClaim),
      allowlist: parseIpAllowlist(Array.isArray(payload['ip_allowlist']) ? (payload['ip_allowlist'] as string[]) : []),
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY,
      jti: typeof payload.jti === 'string' ? payload.jti : undefined,
      iat: typeof payload.iat === 'number' ? payload.iat : undefined,
    };
  }

  async function checkJwt(token: string): Promise<Checked | Verdict> {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer,
        audience: audiences,
        algorithms,
        typ: 'at+jwt',
        clockTolerance: skew,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      return fromClaims(payload);
    } catch (error) {
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return notValid();
      throw error;
    }
  }

  async function checkDirect(token: string): Promise<Checked | Verdict> {
    const introspection = options.introspection;
    if (!introspection) return invalid('This API accepts access tokens only; exchange the API token at the token endpoint');
    const response = await fetchFn(introspection.url ?? `${issuer}/oauth/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuthorization(introspection.clientId, introspection.clientSecret),
      },
      body: new URLSearchParams({ token, token_type_hint: 'api_token' }).toString(),
    });
    if (!response.ok) return refuse(realm, 503, 'temporarily_unavailable', 'The token service could not be reached');
    const body = (await response.json()) as Record<string, unknown> & JWTPayload;
    if (body['active'] !== true) return notValid();
    const checked = fromClaims(body);
    const ttl = (introspection.cacheSeconds ?? 10) * 1000;
    // The cached answer never outlives the token itself.
    return { ...checked, expiresAtMs: Math.min(checked.expiresAtMs, now() + ttl) };
  }

  return {
    async verify(request) {
      const authorization = request.header('authorization');
      if (authorization === undefined || authorization === '') return refuse(realm, 401, undefined, 'Authentication required');
      const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
      if (!match) {
        return /^Bearer\b/i.test(authorization)
          ? refuse(realm, 400, 'invalid_request', 'Malformed Authorization header')
          : refuse(realm, 401, undefined, 'Authentication required: use the Bearer scheme');
      }
      const token = match[1] as string;

      if (feed && now() - feed.lastContact > maxStalenessMs) {
        return refuse(realm, 503, 'temporarily_unavailable', 'Revocation state is out of date; try again shortly');
      }

      let checked = cache.get(token);
      if (checked === undefined || checked.expiresAtMs + skew * 1000 <= now()) {
        cache.delete(token);
        const direct = parseToken(token, prefix);
        const result = direct.ok ? await checkDirect(token) : token.split('.').length === 3 ? await checkJwt(token) : notValid();
        if ('ok' in result) return result;
        checked = result;
        remember(token, checked);
      }

      if (feed?.isRevoked({ jti: checked.jti, tid: checked.auth.tokenId, sub: checked.auth.sub, iat: checked.iat })) {
        cache.delete(token);
        return notValid();
      }

      const clientIp = resolveClientAddress(request.remoteAddress ?? '', request.header('x-forwarded-for'), trustedProxies);
      if (!isIpAllowed(checked.allowlist, clientIp)) return notValid();

      if (options.enforceScope !== false && checked.endpoints !== null) {
        const allowed = matchesEndpoint(checked.endpoints, request.method, request.url, { caseInsensitive: options.caseInsensitivePaths ?? false });
        if (!allowed) return refuse(realm, 403, 'insufficient_scope', `The token's scope does not include ${request.method} ${request.url.split('?')[0]}`);
      }
      return { ok: true, auth: checked.auth };
    },
    ready: () => feed?.ready() ?? Promise.resolve(),
    close: () => feed?.stop(),
  };
}
