import { parseIpAllowlist, parseToken } from '@tessera/rules';
import { KeyObject } from 'node:crypto';
import { claimReader, claimsHold, decodeJson, headerDecoder, type Checked, type Claims } from './claims.js';
import { decision } from './decision.js';
import { createKeyring, signatureIsValid, supportedAlgorithms, type SignatureAlgorithm } from './keys.js';
import type { RequestLike } from './request.js';
import { RevocationFeed } from './revocation-feed.js';
import { refuse, type Verdict } from './verdict.js';

export type { SignatureAlgorithm } from './keys.js';

/**
 * Options of {@link createVerifier}. Only `issuer` and `audience` are required; follow the
 * revocation feed (`revocations`) in production so revoked tokens stop working within seconds.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   issuer: 'https://tessera.example.com',             // Tessera's TESSERA_ISSUER
 *   audience: 'api',                                   // Tessera's TESSERA_AUDIENCE
 *   trustedProxies: ['10.0.0.0/8'],                    // your load balancers
 *   introspection: { clientId, clientSecret },         // accept direct API tokens too
 *   revocations: { clientId, clientSecret, maxStalenessSeconds: 30 },
 * };
 * const verifier = createVerifier(options);
 * ```
 */
export interface VerifierOptions {
  /** The Tessera issuer URL, exactly as in the tokens' `iss` (e.g. `https://tessera.example.com`). */
  readonly issuer: string;
  /** The audience your API is, as configured in Tessera (`aud`). */
  readonly audience: string | readonly string[];
  /** JWKS location; default `<issuer>/.well-known/jwks.json`. Never taken from a token. */
  readonly jwksUri?: string;
  /**
   * Signature algorithms to accept at most; default all three Tessera signs with (ES256, RS256,
   * EdDSA). Whatever this allows, a token verifies only with a JWKS key that names the token's
   * own `alg`: the JWKS decides, never the token.
   */
  readonly algorithms?: readonly SignatureAlgorithm[];
  /** Allowance for clock differences when checking `exp`, `nbf` and `iat`; default 5 seconds. */
  readonly clockSkewSeconds?: number;
  /** An unknown `kid` triggers at most one JWKS refetch per this many seconds; default 30. */
  readonly jwksCooldownSeconds?: number;
  /**
   * The JWKS is fetched again, and each key looked up again, after this many seconds; default
   * 600. A key the issuer no longer publishes then stops verifying new tokens.
   */
  readonly jwksMaxAgeSeconds?: number;
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

/**
 * Verifies requests against Tessera; made by {@link createVerifier}. One verifier serves every
 * request of the process: it caches keys and verified tokens and follows one revocation feed.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer, audience: 'api', revocations: { clientId, clientSecret } });
 * await verifier.ready();                      // the feed's backlog is in: no revoked token slips through
 * const verdict = await verifier.verify(fromNodeRequest(req));
 * if (verdict.ok) console.log(verdict.auth.sub, verdict.auth.tokenId);
 * process.once('SIGTERM', () => verifier.close());
 * ```
 */
export interface Verifier {
  /** Verifies one request: credentials, signature, claims, revocation, scope and client address. */
  verify(request: RequestLike): Promise<Verdict>;
  /**
   * The verdict when it needs no I/O (a credential seen before, or one refused on sight);
   * `undefined` when `verify` must fetch keys or introspect. Adapters try it first so the hot
   * path allocates no promise.
   */
  verifySync(request: RequestLike): Verdict | undefined;
  /** Resolves when the revocation feed has delivered its backlog (immediately without a feed). */
  ready(): Promise<void>;
  /** Stops following the revocation feed. */
  close(): void;
}

const maxCacheEntries = 10_000;

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined by a colon, then base64-encoded. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`;
}

/**
 * Creates a verifier for Tessera access tokens (and, with `introspection`, direct API tokens).
 * It checks the signature against the issuer's JWKS (fetched once, refetched on an unknown
 * `kid` at most every `jwksCooldownSeconds`), issuer, audience, expiry with `clockSkewSeconds`
 * of allowance, revocation, the client address against the token's IP allowlist and the method
 * and path against its endpoint scope. Every answer is a {@link Verdict} value, refusals
 * included; `verify` does not reject: when Tessera cannot be reached (JWKS or introspection)
 * the verdict is a 503 `temporarily_unavailable`, which every adapter sends as it is.
 *
 * @param options - see {@link VerifierOptions}; `issuer` and `audience` are required.
 * @example
 * ```ts
 * import { createVerifier, fromNodeRequest, sendRefusal } from '@tessera/verify';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://tessera.example.com',
 *   audience: 'api',
 *   revocations: { clientId: process.env.TESSERA_CLIENT_ID!, clientSecret: process.env.TESSERA_CLIENT_SECRET! },
 * });
 * const verdict = await verifier.verify(fromNodeRequest(req));
 * if (!verdict.ok) return sendRefusal(res, verdict);   // 401, 403, 400 or 503 with WWW-Authenticate
 * console.log(`${verdict.auth.sub} of ${verdict.auth.org}`);
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const issuer = options.issuer.replace(/\/$/, '');
  const now = options.now ?? Date.now;
  const realm = options.realm ?? 'api';
  const skew = options.clockSkewSeconds ?? 5;
  const prefix = options.tokenPrefix ?? 'tsr';
  const fetchFn = options.fetch ?? fetch;
  const claimRules = { issuer, audiences: [options.audience].flat() as string[], skewSeconds: skew };
  const keyFor = createKeyring({
    jwksUri: options.jwksUri ?? `${issuer}/.well-known/jwks.json`,
    cooldownMs: (options.jwksCooldownSeconds ?? 30) * 1000,
    maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000,
    fetch: fetchFn,
    now,
  });
  const algorithms: readonly string[] = (options.algorithms ?? supportedAlgorithms).filter((alg) => supportedAlgorithms.includes(alg));

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
  const unreachable = (): Verdict => refuse(realm, 503, 'temporarily_unavailable', 'The token service could not be reached; try again shortly');

  const fromClaims = claimReader();
  const decodeHeader = headerDecoder();
  const authorize = decision({
    realm,
    feed,
    trustedProxies: parseIpAllowlist(options.trustedProxies ?? []),
    enforceScope: options.enforceScope !== false,
    caseInsensitivePaths: options.caseInsensitivePaths ?? false,
    notValid,
    forget: (cacheKey) => cache.delete(cacheKey),
  });

  async function checkJwt(token: string): Promise<Checked | Verdict> {
    const [encodedHeader, encodedPayload, encodedSignature] = token.split('.') as [string, string, string];
    const header = decodeHeader(encodedHeader);
    const payload = decodeJson(encodedPayload) as Claims | undefined;
    if (!header || !payload) return notValid();
    // RFC 8725 §3.1: only the configured algorithms; `none` and HMAC can never pass.
    if (typeof header['alg'] !== 'string' || !algorithms.includes(header['alg'])) return notValid();
    const alg = header['alg'] as SignatureAlgorithm;
    // RFC 9068 §4: the type must be at+jwt (application/at+jwt).
    if (header['typ'] !== 'at+jwt' && header['typ'] !== 'application/at+jwt') return notValid();
    if (typeof header['kid'] !== 'string' || header['kid'].length > 200) return notValid();
    const found = keyFor(alg, header['kid']);
    const key = found instanceof KeyObject ? found : await found;
    if (key === 'unreachable') return unreachable();
    if (key === 'unknown') return notValid();
    const data = Buffer.from(`${encodedHeader}.${encodedPayload}`);
    if (!signatureIsValid(alg, key, data, Buffer.from(encodedSignature, 'base64url'))) return notValid();
    if (!claimsHold(payload, claimRules, now() / 1000)) return notValid();
    try {
      return fromClaims(payload);
    } catch {
      // Unparseable endpoint or allowlist claims: refuse rather than guess.
      return notValid();
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
    if (!response.ok) return unreachable();
    const body = (await response.json()) as Claims;
    if (body['active'] !== true) return notValid();
    const checked = fromClaims(body);
    const ttl = (introspection.cacheSeconds ?? 10) * 1000;
    // The cached answer never outlives the token itself.
    return { ...checked, expiresAtMs: Math.min(checked.expiresAtMs, now() + ttl) };
  }

  const bearer = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

  function verifySync(request: RequestLike): Verdict | undefined {
    const authorization = request.header('authorization');
    if (authorization === undefined || authorization === '') return refuse(realm, 401, undefined, 'Authentication required');
    const nowMs = now();
    if (feed && nowMs - feed.lastContact > maxStalenessMs) {
      return refuse(realm, 503, 'temporarily_unavailable', 'Revocation state is out of date; try again shortly');
    }
    // Cached by the whole header: a repeat needs no parsing at all.
    const checked = cache.get(authorization);
    if (checked !== undefined) {
      if (checked.expiresAtMs + skew * 1000 > nowMs) return authorize(request, authorization, checked);
      cache.delete(authorization);
    }
    if (!bearer.test(authorization)) {
      return /^Bearer\b/i.test(authorization)
        ? refuse(realm, 400, 'invalid_request', 'Malformed Authorization header')
        : refuse(realm, 401, undefined, 'Authentication required: use the Bearer scheme');
    }
    return undefined;
  }

  return {
    verifySync,
    async verify(request) {
      const known = verifySync(request);
      if (known) return known;
      const authorization = request.header('authorization') as string;
      const token = (bearer.exec(authorization) as RegExpExecArray)[1] as string;
      const direct = parseToken(token, prefix);
      let result: Checked | Verdict;
      try {
        result = direct.ok ? await checkDirect(token) : token.split('.').length === 3 ? await checkJwt(token) : notValid();
      } catch {
        // Introspection or the JWKS could not be reached: every adapter answers 503 alike.
        result = unreachable();
      }
      if ('ok' in result) return result;
      remember(authorization, result);
      return authorize(request, authorization, result);
    },
    ready: () => feed?.ready() ?? Promise.resolve(),
    close: () => feed?.stop(),
  };
}
