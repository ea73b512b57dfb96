import { verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  isIpAllowed,
  isRuleError,
  matchesEndpoint,
  parseEndpointPatterns,
  parseIpAllowlist,
  parseToken,
  resolveClientAddress,
  type EndpointPattern,
  type IpRange,
} from '@tessera/rules';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Container } from '../app/container.js';
import type { RevocationEvent } from '../core/revocations.js';
import { maxAccessTokenTtlSeconds } from '../core/policy.js';

/**
 * `GET /forward-auth` (SPEC 10): the verification @tessera/verify does in an API server, done
 * here for a reverse proxy's subrequest (nginx `auth_request`, Traefik ForwardAuth, Caddy
 * `forward_auth`, Envoy `ext_authz` in HTTP mode). The proxy names the original request in
 * headers, believed only from TESSERA_TRUSTED_PROXIES; the answer is 200 with the caller's
 * identity in `X-Tessera-*` headers for the upstream, or the refusal the SDK would give, with
 * its RFC 6750 `WWW-Authenticate`.
 *
 * Access tokens are checked without a database read: the signature against the keyring in
 * memory, revocation against the revocation feed's events kept in memory (the same events
 * the SDKs follow), so a revoked API token is refused as soon as the feed's poll sees it.
 * Direct API tokens go through the token service, as at introspection.
 */

const realm = 'api';
const skewSeconds = 5;
const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const bearer = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const maxCached = 10_000;

interface Checked {
  readonly sub: string;
  readonly org: string;
  readonly roles: readonly string[];
  readonly tokenId: string | null;
  readonly jti: string | null;
  readonly iat: number;
  readonly expiresAtMs: number;
  /** null: scope `all`. */
  readonly endpoints: readonly EndpointPattern[] | null;
  readonly allowlist: readonly IpRange[];
}

type Refusal = { readonly status: 400 | 401 | 403 | 503; readonly error: string | undefined; readonly description: string };

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/** The in-memory revocation state: the feed's events, as an SDK keeps them (packages/verify revocation-feed.ts). */
function revocationState() {
  // Each with the time (unix seconds) of its revocation, so that it can be forgotten once every access token it concerns has expired.
  const tokens = new Map<string, number>();
  const jtis = new Map<string, number>();
  const principals = new Map<string, number>();
  return {
    apply(event: RevocationEvent): void {
      const at = Math.floor(event.occurredAt.getTime() / 1000);
      if (event.kind === 'token') tokens.set(event.subjectId, at);
      else if (event.kind === 'access_token') jtis.set(event.subjectId, at);
      else principals.set(event.subjectId, Math.max(principals.get(event.subjectId) ?? 0, at));
    },
    /** Forgets revocations older than the longest access-token lifetime: no token they concern still verifies. */
    sweep(nowSeconds: number): void {
      const horizon = nowSeconds - maxAccessTokenTtlSeconds - 300;
      for (const map of [tokens, jtis, principals]) for (const [id, at] of map) if (at < horizon) map.delete(id);
    },
    isRevoked(checked: Checked): boolean {
      if (checked.jti !== null && jtis.has(checked.jti)) return true;
      if (checked.tokenId !== null && tokens.has(checked.tokenId)) return true;
      const since = principals.get(checked.sub);
      return since !== undefined && checked.iat <= since;
    },
  };
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Which JWS algorithm a key verifies: RFC 8725 §3.1, the header's alg must match the key, never choose it. */
function algorithmOf(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  return undefined;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

export function forwardAuthRoutes(container: Container): FastifyPluginAsync {
  return async (app) => {
    const { config, keyring, tokens, clock } = container;
    const trusted = config.trustedProxies;
    const revoked = revocationState();
    // Subscribe before reading the backlog, so nothing falls between the two (applying twice is harmless).
    const unsubscribe = container.revocationHub.subscribe((event) => revoked.apply(event), { internal: true });
    app.addHook('onClose', async () => unsubscribe());
    for (const event of await container.revocationHub.backlog(undefined)) revoked.apply(event);

    const cache = new Map<string, Checked>();
    // Expired verdicts and old revocations leave memory on a timer, not only when the cap pushes them out.
    const sweeper = setInterval(() => {
      const now = clock.now().getTime();
      for (const [token, checked] of cache) if (checked.expiresAtMs <= now) cache.delete(token);
      revoked.sweep(Math.floor(now / 1000));
    }, 60_000);
    sweeper.unref();
    app.addHook('onClose', async () => clearInterval(sweeper));
    const notValid: Refusal = { status: 401, error: 'invalid_token', description: 'The access token is not valid' };

    function fromClaims(claims: Record<string, unknown>, expiresAtMs: number): Checked {
      const kind = typeof claims['scope'] === 'string' ? claims['scope'] : 'all';
      const allowlist = strings(claims['ip_allowlist']);
      return {
        sub: String(claims['sub']),
        org: String(claims['org'] ?? ''),
        roles: strings(claims['roles']),
        tokenId: typeof claims['tid'] === 'string' ? claims['tid'] : null,
        jti: typeof claims['jti'] === 'string' ? claims['jti'] : null,
        iat: typeof claims['iat'] === 'number' ? claims['iat'] : 0,
        expiresAtMs,
        endpoints: kind === 'all' ? null : parseEndpointPatterns(strings(claims['endpoints'])),
        allowlist: allowlist.length === 0 ? [] : parseIpAllowlist(allowlist),
      };
    }

    /** The same checks, in the same order, as @tessera/verify's checkJwt. */
    async function checkJwt(token: string): Promise<Checked | Refusal> {
      const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = token.split('.');
      const header = decodeJson(encodedHeader);
      const claims = decodeJson(encodedPayload);
      if (!header || !claims) return notValid;
      // RFC 9068 §4: the type must be at+jwt.
      if (header['typ'] !== 'at+jwt' && header['typ'] !== 'application/at+jwt') return notValid;
      if (typeof header['kid'] !== 'string' || header['kid'].length > 200) return notValid;
      let key = keyring.find(header['kid']);
      if (!key) {
        // Another instance may have rotated the key in: reload, at most once a second.
        await keyring.refresh(1000);
        key = keyring.find(header['kid']);
      }
      if (!key) return notValid;
      const alg = algorithmOf(key.publicKey);
      if (alg === undefined || header['alg'] !== alg) return notValid;
      const data = Buffer.from(`${encodedHeader}.${encodedPayload}`);
      const signature = Buffer.from(encodedSignature, 'base64url');
      const signatureOk =
        alg === 'EdDSA'
          ? verifySignature(null, data, key.publicKey, signature)
          : alg === 'ES256'
            ? verifySignature('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
            : verifySignature('sha256', data, key.publicKey, signature);
      if (!signatureOk) return notValid;
      const now = clock.now().getTime() / 1000;
      if (claims['iss'] !== container.issuer.value) return notValid;
      if (![claims['aud']].flat().includes(config.audience)) return notValid;
      const { exp, nbf, iat } = claims;
      if (typeof exp !== 'number' || exp + skewSeconds <= now) return notValid;
      if (typeof nbf === 'number' && nbf - skewSeconds > now) return notValid;
      if (typeof iat !== 'number' || iat - skewSeconds > now) return notValid;
      if (typeof claims['sub'] !== 'string' || typeof claims['jti'] !== 'string') return notValid;
      return fromClaims(claims, exp * 1000);
    }

    async function checkDirect(token: string, clientIp: string): Promise<Checked | Refusal> {
      const now = clock.now();
      const verdict = await tokens.verify(token, { clientIp, now });
      if (!verdict.active) return notValid;
      const t = verdict.token;
      if (t.mode !== 'direct') {
        return { ...notValid, description: 'This API accepts access tokens only; exchange the API token at the token endpoint' };
      }
      container.usage.recordUse(t.id, clientIp, now);
      const claims = { sub: t.ownerId, org: t.orgId, roles: t.roles, scope: t.scopeKind, endpoints: t.endpoints, ip_allowlist: t.ipAllowlist, tid: t.id, iat: 0 };
      // Not cached: the token service answers each use, so a revoked direct token stops at once.
      return fromClaims(claims, Number.POSITIVE_INFINITY);
    }

    async function decide(request: FastifyRequest): Promise<Checked | Refusal> {
      const peer = request.socket.remoteAddress ?? '';
      // The proxy's headers name the original request only when the proxy is one we trust:
      // anyone else could name any method and path.
      const fromProxy = trusted.length > 0 && isIpAllowed(trusted, peer);
      const header = (name: string): string | undefined => {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      const method = (fromProxy && (header('x-forwarded-method') ?? header('x-original-method'))) || request.method;
      // Envoy's ext_authz (HTTP) names the original path by appending it to its path_prefix
      // (/forward-auth/plans/7) and keeps the original method.
      const suffix = request.url.startsWith('/forward-auth/') ? request.url.slice('/forward-auth'.length) : undefined;
      const uri = (fromProxy && (header('x-forwarded-uri') ?? header('x-original-uri') ?? suffix)) || request.url;

      const authorization = header('authorization');
      if (authorization === undefined || authorization === '') return { status: 401, error: undefined, description: 'Authentication required' };
      const match = bearer.exec(authorization);
      if (!match) {
        return /^Bearer\b/i.test(authorization)
          ? { status: 400, error: 'invalid_request', description: 'Malformed Authorization header' }
          : { status: 401, error: undefined, description: 'Authentication required: use the Bearer scheme' };
      }
      const token = match[1] as string;
      const clientIp = resolveClientAddress(peer, header('x-forwarded-for'), trusted);
      let checked = cache.get(token);
      if (checked !== undefined && checked.expiresAtMs + skewSeconds * 1000 <= clock.now().getTime()) {
        cache.delete(token);
        checked = undefined;
      }
      if (checked === undefined) {
        let result: Checked | Refusal;
        try {
          if (parseToken(token, config.tokenPrefix).ok) result = await checkDirect(token, clientIp);
          else if (token.split('.').length === 3) {
            result = await checkJwt(token);
            if ('sub' in result) {
              if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
              cache.set(token, result);
            }
          } else result = notValid;
        } catch (error) {
          // Unparseable endpoint or allowlist claims refuse; a storage failure is ours, not the caller's.
          if (isRuleError(error)) return notValid;
          request.log.error({ err: error }, 'forward-auth: verification failed');
          return { status: 503, error: 'temporarily_unavailable', description: 'The token service could not be reached; try again shortly' };
        }
        if (!('sub' in result)) return result;
        checked = result;
      }
      if (revoked.isRevoked(checked)) return notValid;
      if (checked.allowlist.length > 0 && !isIpAllowed(checked.allowlist, clientIp)) return notValid;
      if (checked.endpoints !== null && !matchesEndpoint(checked.endpoints, method, uri, { caseInsensitive: false })) {
        return { status: 403, error: 'insufficient_scope', description: `The token's scope does not include ${method} ${uri.split('?')[0]}` };
      }
      return checked;
    }

    async function answer(request: FastifyRequest, reply: FastifyReply) {
      const result = await decide(request);
      reply.header('cache-control', 'no-store');
      if ('sub' in result) {
        reply.header('x-tessera-subject', result.sub).header('x-tessera-org', result.org).header('x-tessera-roles', result.roles.join(','));
        if (result.tokenId !== null) reply.header('x-tessera-token-id', result.tokenId);
        return reply.code(200).send();
      }
      // RFC 6750 §3: the challenge with 401 and 403; an error code only when credentials came.
      if (result.status === 401 || result.status === 403) {
        const parts = [`Bearer realm=${quote(realm)}`];
        if (result.error) parts.push(`error=${quote(result.error)}`, `error_description=${quote(result.description)}`);
        reply.header('www-authenticate', parts.join(', '));
      }
      if (result.status === 503) reply.header('retry-after', '1');
      return reply.code(result.status).send({ error: result.error ?? 'unauthorized', error_description: result.description });
    }

    const refusal = { type: 'object', properties: { error: { type: 'string' }, error_description: { type: 'string' } } } as const;
    app.get(
      '/forward-auth',
      {
        schema: {
          tags: ['oauth'],
          summary: 'Forward authentication for reverse proxies',
          description:
            'Verifies the Bearer token of the request a trusted proxy names in X-Forwarded-Method / X-Original-Method, X-Forwarded-Uri / X-Original-URI and X-Forwarded-For, with the rules of @tessera/verify. 200 (empty) with X-Tessera-Subject, X-Tessera-Org, X-Tessera-Token-Id and X-Tessera-Roles; 401, 403, 400 or 503 with an RFC 6750 WWW-Authenticate. Every method is answered alike (nginx subrequests keep the original one), and /forward-auth/<path> names <path> (Envoy ext_authz path_prefix).',
          response: {
            200: { type: 'string', maxLength: 0, description: 'Allowed; the identity is in the X-Tessera-* headers' },
            400: refusal,
            401: refusal,
            403: refusal,
            503: refusal,
          },
        },
      },
      answer,
    );
    // The same answer for every other method and for Envoy's /forward-auth/<path>, documented above.
    app.route({ method: methods.filter((method) => method !== 'GET' && method !== 'HEAD'), url: '/forward-auth', schema: { hide: true }, handler: answer });
    app.route({ method: [...methods], url: '/forward-auth/*', schema: { hide: true }, handler: answer });
  };
}
