import { isIpAllowed, parseEndpointPatterns, parseIpAllowlist, parseToken, type EndpointPattern } from '@tessera/rules';
import { signAccessToken, verifyAccessToken, type AccessTokenClaims, type DecodedAccessToken } from './access-token-format.js';
import type { AppService } from './apps.js';
import type { App, NewAuditEvent } from './model.js';
import { auditOf, type RequestContext } from './context.js';
import type { Keyring } from './keyring.js';
import { OAuthError } from './oauth-errors.js';
import { randomBase62, type Clock, type Random } from './ports.js';
import type { Store } from './store.js';
import type { UsageRecorder } from './usage.js';

export interface OAuthSettings {
  /** `iss` of every access token and the metadata's issuer (read at use: it may be known only once the server listens). */
  readonly issuer: () => string;
  /** `aud` of every access token: the customer's API. */
  readonly audience: string;
  /** Default access-token lifetime when policy gives none. */
  readonly defaultAccessTokenTtlSeconds: number;
  /** Answer `"refresh_token": null` when none is issued (the seeds' form) instead of omitting it. */
  readonly nullRefreshToken?: boolean;
}

/**
 * Who the client at an OAuth endpoint is (RFC 6749 §2.3): an app whose credentials were
 * verified, a public client naming itself by `client_id` alone, or nobody.
 */
export type ClientAuth = { readonly kind: 'app'; readonly app: App } | { readonly kind: 'public'; readonly clientId: string } | { readonly kind: 'none' };

/** A verified API token, as the tokens domain reports it. */
export interface ExchangeableToken {
  readonly id: string;
  readonly orgId: string;
  readonly ownerId: string;
  readonly mode: 'refreshable' | 'direct';
  readonly scopeKind: string;
  readonly endpoints: readonly string[];
  readonly ipAllowlist: readonly string[];
  readonly roles: readonly string[];
  readonly expiresAt: Date | null;
}

export type GateVerdict =
  | { readonly active: true; readonly token: ExchangeableToken; readonly secretGeneration: 'current' | 'grace' }
  | {
      readonly active: false;
      readonly reason: string;
      readonly tokenId?: string;
      readonly orgId?: string;
      /** A refresh secret replaced by rotation was presented (RFC 9700 §4.14.2): the token must be revoked. */
      readonly reused?: boolean;
      /** How many rotations ago that secret was replaced, for the audit trail. */
      readonly generationsBack?: number;
    };

/** What the OAuth service needs from the API tokens domain. */
export interface ApiTokenGate {
  verify(token: string, context: { clientIp: string; now: Date }): Promise<GateVerdict>;
  /** Whether an API token is still usable (not revoked, expired or idle; owner active). */
  isUsable(orgId: string, tokenId: string, now: Date): Promise<boolean>;
  /**
   * Replaces the secret if it is still `presentedSecret`, writing `audit` in the same
   * transaction (a state change and its audit event commit together); undefined when another
   * refresh won.
   */
  rotateSecret(tokenId: string, presentedSecret: string, now: Date, audit: NewAuditEvent): Promise<string | undefined>;
  /** Revokes the token, and so its whole refresh family and every access token minted from it. */
  revokeForReuse(tokenId: string, context: RequestContext, facts?: { generationsBack?: number | undefined }): Promise<void>;
  /** Revocation through RFC 7009 by a holder of the token. */
  revokeByHolder(tokenId: string, context: RequestContext): Promise<void>;
  policy(orgId: string): Promise<{ accessTokenTtlSeconds: number; refreshTokenRotation: boolean }>;
}

/**
 * RFC 6749 §5.1. `refresh_token` is present only when a new one is issued (rotation): the
 * member is optional and, when present, a string; strict clients refuse `null`. The seeds'
 * `null` is a setting (OAuthSettings.nullRefreshToken).
 */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string | null;
  readonly scope: string;
}

/** A grant handler (RFC 6749 §4, §6), keyed by its wire name in the dispatch map. */
export type Grant = (input: { param: (name: string) => string | undefined; client: ClientAuth; context: RequestContext & { clientIp: string } }) => Promise<TokenResponse>;

/**
 * Parses the optional `scope` parameter (RFC 6749 §3.3): space-delimited endpoint patterns,
 * written `METHOD:/path` or `/path` (the space of `GET /path` is the delimiter here).
 */
function parseRequestedScope(scope: string): EndpointPattern[] {
  const lines = scope.split(' ').filter(Boolean).map((item) => item.replace(/^([A-Z,]+):\//, '$1 /'));
  try {
    return parseEndpointPatterns(lines);
  } catch {
    // The rule's message quotes the pattern; an error body never echoes client input (RFC 6749 §5.2 charset, and no reflection).
    throw new OAuthError('invalid_scope', 'The scope parameter is not valid: send space-separated endpoint patterns such as GET:/plans or /plans/*');
  }
}

/** Whether every request `inner` admits is also admitted by one pattern of `outer`. */
function within(inner: EndpointPattern, outer: readonly EndpointPattern[] | null): boolean {
  if (outer === null) return true;
  return outer.some((pattern) => {
    const methodsOk = pattern.methods === null || (inner.methods !== null && inner.methods.every((m) => pattern.methods?.includes(m)));
    if (!methodsOk) return false;
    if (pattern.prefix) return inner.path.startsWith(pattern.path);
    const base = pattern.path.endsWith('/') ? pattern.path : `${pattern.path}/`;
    // A segment-bounded pattern covers its own path and everything below it, but not `/plansx`.
    if (inner.prefix) return inner.path.startsWith(base);
    return inner.path === pattern.path || inner.path.startsWith(base);
  });
}

const formatScope = (kind: string, endpoints: readonly string[]) =>
  kind === 'all' ? 'all' : endpoints.map((e) => e.replace(/^([A-Z,]+) \//, '$1:/')).join(' ');

/** The OAuth 2.0 service: grants, introspection, revocation, the JWKS (SPEC 5). */
export function createOAuthService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  keyring: Keyring;
  apps: AppService;
  tokens: ApiTokenGate;
  usage: UsageRecorder;
  settings: OAuthSettings;
}) {
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

  const refreshToken: Grant = async ({ param, client, context }) => {
    const presented = param('refresh_token');
    if (presented === undefined) throw new OAuthError('invalid_request', 'The refresh_token parameter is missing: send the API token');
    const now = clock.now();
    // As at introspection: an API token revoked through another instance is not exchanged here.
    await store.revocations.catchUp();
    // A denial keeps its own audit event (batched: it changes nothing) and counts in the token's usage.
    const denied = (reason: string, tokenId: string | null, orgId: string | null) => {
      usage.audit(auditOf({ ...context, actor: null }, now, { orgId, action: 'token.denied', outcome: 'denied', targetType: 'token', targetId: tokenId, details: { reason, grant: 'refresh_token' } }));
      if (tokenId !== null && orgId !== null) usage.count(orgId, tokenId, 'denied', now);
    };
    const verdict = await tokens.verify(presented, { clientIp: context.clientIp, now });
    if (!verdict.active) {
      denied(verdict.reason, verdict.tokenId ?? null, verdict.orgId ?? null);
      // RFC 9700 §4.14.2: any earlier generation of a rotated refresh token revokes the family.
      if (verdict.reused && verdict.tokenId) await tokens.revokeForReuse(verdict.tokenId, context, { generationsBack: verdict.generationsBack });
      // The reason goes to the audit log; the client learns only that the grant is invalid (RFC 6749 §5.2).
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired, revoked or not allowed from this address');
    }
    const token = verdict.token;
    // RFC 6749 §6: the refresh token must have been issued to the client presenting it. An API
    // token is its own (public) client, its id the access tokens' client_id; an app may
    // exchange its own organization's tokens.
    const boundElsewhere = client.kind === 'public' ? client.clientId !== token.id : client.kind === 'app' && client.app.orgId !== token.orgId;
    if (boundElsewhere) {
      denied('other_client', token.id, token.orgId);
      throw new OAuthError('invalid_grant', 'The refresh token was not issued to this client');
    }
    if (token.mode === 'direct') {
      denied('direct_token', token.id, token.orgId);
      throw new OAuthError('invalid_grant', 'This API token is used directly as a bearer token; it cannot be exchanged');
    }
    const granted = token.scopeKind === 'all' ? null : parseEndpointPatterns(token.endpoints);
    let endpoints = token.endpoints;
    let scopeKind = token.scopeKind;
    const requested = param('scope');
    if (requested !== undefined) {
      const narrowed = parseRequestedScope(requested);
      // RFC 6749 §6: the requested scope must not include any scope not originally granted.
      const outside = narrowed.find((pattern) => !within(pattern, granted));
      if (outside) {
        denied('scope', token.id, token.orgId);
        throw new OAuthError('invalid_scope', "The requested scope exceeds the API token's scope; ask for a part of it");
      }
      endpoints = requested.split(' ').filter(Boolean).map((item) => item.replace(/^([A-Z,]+):\//, '$1 /'));
      scopeKind = 'custom';
    }
    const policy = await tokens.policy(token.orgId);
    // Minted before any rotation: once a rotation commits, nothing but the answer itself may
    // fail, or the client would be left holding a secret that no longer works.
    const { token: accessToken, expiresIn } = await issueForToken(token, scopeKind, endpoints);
    const exchanged = (rotated: boolean) =>
      auditOf({ ...context, actor: null }, now, { orgId: token.orgId, action: 'token.exchanged', outcome: 'success', targetType: 'token', targetId: token.id, details: { grant: 'refresh_token', rotated, scope: scopeKind } });
    let refresh: string | null = null;
    if (policy.refreshTokenRotation) {
      // A rotation changes the token: it is written with its audit event in one transaction.
      const rotated = await tokens.rotateSecret(token.id, presented, now, exchanged(true));
      if (rotated === undefined) {
        // Another refresh with the same secret won (RFC 9700 §4.14.2): this one is a reuse.
        denied('reuse', token.id, token.orgId);
        await tokens.revokeForReuse(token.id, context);
        throw new OAuthError('invalid_grant', 'The refresh token has already been used');
      }
      refresh = rotated;
    }
    // Issue 17: an exchange is counted per token and minute (core/usage.ts), not audited one row
    // each; a rotation changes the token and so also has its audit event above, in its transaction.
    usage.count(token.orgId, token.id, 'success', now);
    usage.recordUse(token.id, context.clientIp, now);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      ...(refresh === null ? withoutRefreshToken : { refresh_token: refresh }),
      scope: formatScope(scopeKind, endpoints),
    };
  };

  const clientCredentials: Grant = async ({ client }) => {
    // RFC 6749 §4.4.2: only a confidential client may use this grant.
    if (client.kind !== 'app') throw new OAuthError('invalid_client', 'The client_credentials grant needs client authentication: send client_id and client_secret (HTTP Basic or form body)');
    const app = client.app;
    const policy = await tokens.policy(app.orgId);
    const { token, expiresIn } = mint(
      { sub: app.clientId, client_id: app.clientId, org: app.orgId, roles: app.roles, scope: 'all', amr: ['client'] },
      app.accessTokenTtlSeconds ?? policy.accessTokenTtlSeconds,
    );
    // RFC 6749 §4.4.3: no refresh token for client credentials.
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...withoutRefreshToken, scope: 'all' };
  };

  /** Grants by their wire name (RFC 6749 §4.4, §6). */
  const grants: Readonly<Record<string, Grant>> = {
    refresh_token: refreshToken,
    client_credentials: clientCredentials,
  };

  return {
    grants,
    issueForToken,

    /** Drops verified access tokens that have expired or gone unused for a minute (called on a timer). */
    sweep(now: Date): void {
      const nowMs = now.getTime();
      for (const [token, entry] of verified) {
        if (entry.claims.exp * 1000 <= nowMs || nowMs - entry.seenAt >= verifiedIdleMs) verified.delete(token);
      }
    },

    /** Verified access tokens held in memory (for /metrics and the soak bench). */
    verifiedCount: (): number => verified.size,

    /**
     * The claims of an access token presented to the management API, or undefined when it is
     * not valid: signature, expiry, revocation, and the API token it came from still usable.
     */
    async validateAccessToken(token: string): Promise<AccessTokenClaims | undefined> {
      const now = clock.now();
      const decoded = await decodeAccessToken(token, now);
      if (!decoded.valid) return undefined;
      await store.revocations.catchUp();
      const claims = decoded.claims;
      if (await store.revocations.isAccessTokenRevoked(claims.jti)) return undefined;
      if (claims.tid && !(await tokens.isUsable(claims.org, claims.tid, now))) return undefined;
      return claims;
    },

    /**
     * RFC 7662 §2.2: an active token's claims, or `{ active: false }` for anything not valid —
     * garbage, expired, revoked, idle, another organization's — with the reason audited only.
     */
    async introspect(caller: App, token: string, context: RequestContext & { clientIp: string }, clientIp?: string): Promise<Record<string, unknown>> {
      const now = clock.now();
      const inactive = async (reason: string, tokenId?: string) => {
        await store.audit.append(
          auditOf({ ...context, actor: null }, now, {
            orgId: caller.orgId,
            action: 'token.introspected',
            outcome: 'denied',
            targetType: tokenId ? 'token' : null,
            targetId: tokenId ?? null,
            details: { reason, client_id: caller.clientId },
          }),
        );
        return { active: false };
      };

      // Issue 13: a revocation that answered on any instance is refused here, not only once its
      // notification has reached this instance's cache.
      await store.revocations.catchUp();
      // A JWT has three dot-separated parts; an API token (`<prefix>_<id>.<secret>`) has two.
      if (token.split('.').length !== 3) {
        const verdict = await tokens.verify(token, { clientIp: clientIp ?? context.clientIp, now });
        if (!verdict.active) return inactive(verdict.reason, verdict.tokenId);
        const t = verdict.token;
        if (t.orgId !== caller.orgId) return inactive('other_organization', t.id);
        if (t.mode !== 'direct') return inactive('not_a_bearer', t.id);
        usage.recordUse(t.id, clientIp ?? context.clientIp, now);
        return {
          active: true,
          token_type: 'api_token',
          sub: t.ownerId,
          org: t.orgId,
          roles: t.roles,
          scope: t.scopeKind,
          ...(t.scopeKind !== 'all' && { endpoints: t.endpoints }),
          ...(t.ipAllowlist.length > 0 && { ip_allowlist: t.ipAllowlist }),
          tid: t.id,
          client_id: t.id,
          iss: settings.issuer(),
          ...(t.expiresAt && { exp: Math.floor(t.expiresAt.getTime() / 1000) }),
        };
      }

      const decoded = await decodeAccessToken(token, now);
      if (!decoded.valid) return inactive(decoded.reason);
      const claims = decoded.claims;
      if (claims.org !== caller.orgId) return inactive('other_organization', claims.tid);
      if (await store.revocations.isAccessTokenRevoked(claims.jti)) return inactive('revoked', claims.tid);
      if (claims.tid && !(await tokens.isUsable(claims.org, claims.tid, now))) return inactive('api_token_not_usable', claims.tid);
      if (!claims.tid && !(await store.apps.getByClientId(claims.client_id))) return inactive('client_deleted');
      if (clientIp !== undefined && claims.ip_allowlist && !isIpAllowed(parseIpAllowlist(claims.ip_allowlist), clientIp)) {
        return inactive('ip_not_allowed', claims.tid);
      }
      return { active: true, token_type: 'Bearer', ...claims };
    },

    /**
     * RFC 7009: revokes an API token (and so every access token minted from it) or one access
     * token. Unknown or invalid tokens are not an error (§2.2). §2.1: the token must concern
     * the client: without client authentication, holding the token is the proof (an API token
     * needs its real secret); a public client_id must be the token's own client; an
     * authenticated app may revoke what it was issued, or (with can_introspect) what it may
     * introspect, its organization's tokens. Anything else changes nothing and, like an
     * invalid token, answers 200, so the endpoint tells no one which tokens exist.
     */
    async revoke(token: string, client: ClientAuth, context: RequestContext & { clientIp: string }): Promise<void> {
      const now = clock.now();
      const concerns = (orgId: string, clientId: string) =>
        client.kind === 'none' ||
        (client.kind === 'public' && client.clientId === clientId) ||
        (client.kind === 'app' && (client.app.clientId === clientId || (client.app.canIntrospect && client.app.orgId === orgId)));
      const parsed = /^([a-z][a-z0-9]{1,15})_/.exec(token);
      if (parsed) {
        const result = parseToken(token, parsed[1] as string);
        if (result.ok) {
          const verdict = await tokens.verify(token, { clientIp: context.clientIp, now });
          // Only a holder of the real secret may revoke; a wrong secret changes nothing.
          if (verdict.active && concerns(verdict.token.orgId, verdict.token.id)) await tokens.revokeByHolder(verdict.token.id, context);
        }
        return;
      }
      const decoded = verifyAccessToken(token, (kid) => keyring.find(kid), { issuer: settings.issuer(), now });
      if (!decoded.valid || !concerns(decoded.claims.org, decoded.claims.client_id)) return;
      await store.transaction(async (tx) => {
        await tx.revocations.revokeAccessToken({
          jti: decoded.claims.jti,
          orgId: decoded.claims.org,
          tokenId: decoded.claims.tid ?? null,
          revokedAt: now,
          expiresAt: new Date(decoded.claims.exp * 1000),
        });
        await tx.revocationEvents.append({ orgId: decoded.claims.org, kind: 'access_token', subjectId: decoded.claims.jti, occurredAt: now });
        await tx.audit.append(
          auditOf({ ...context, actor: null }, now, {
            orgId: decoded.claims.org,
            action: 'access_token.revoked',
            outcome: 'success',
            targetType: 'access_token',
            targetId: decoded.claims.jti,
            details: { tid: decoded.claims.tid ?? null },
          }),
        );
      });
    },

    /** RFC 8414 authorization server metadata. */
    metadata(): Record<string, unknown> {
      const base = settings.issuer();
      return {
        issuer: base,
        token_endpoint: `${base}/oauth/token`,
        introspection_endpoint: `${base}/oauth/introspect`,
        revocation_endpoint: `${base}/oauth/revoke`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        grant_types_supported: Object.keys(grants),
        // RFC 8414 §2: the methods this endpoint accepts. `none` is true of the token endpoint:
        // the refresh grant takes an API token with no client authentication (the token is
        // the proof); client_credentials needs a secret, so apps use the other two.
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        // RFC 8414 §2 makes response_types_supported REQUIRED; with no authorization endpoint
        // the true list is empty. No *_signing_alg_values_supported members: Tessera offers no
        // JWT client authentication (RFC 7523) and signs nothing a client verifies from them.
        response_types_supported: [],
        scopes_supported: ['all'],
      };
    },
  };
}

export type OAuthService = ReturnType<typeof createOAuthService>;
