import { isIpAllowed, parseIpAllowlist } from '@tessera/rules';
import { auditOf, type RequestContext } from '../context.js';
import type { AccessTokenClaims } from '../access-token-format.js';
import type { App } from '../model.js';
import type { OAuthContext } from './context.js';

/** The introspection endpoint (RFC 7662). */
export function createIntrospection({ store, clock, tokens, usage, settings, decodeAccessToken }: OAuthContext) {
  /**
   * The active answer for an access token, by its claims: decodeAccessToken hands out the same
   * claims object while the token stays in its verified cache, so a resource server introspecting
   * one token many times gets one frozen answer (which the HTTP layer serialises once). Entries
   * go when the cache lets the claims go.
   */
  const answers = new WeakMap<AccessTokenClaims, Readonly<Record<string, unknown>>>();
  const activeAnswer = (claims: AccessTokenClaims) => {
    let answer = answers.get(claims);
    if (answer === undefined) {
      answer = Object.freeze({ active: true, token_type: 'Bearer', ...claims });
      answers.set(claims, answer);
    }
    return answer;
  };
  return {
    /**
     * RFC 7662 §2.2: an active token's claims, or `{ active: false }` for anything not valid —
     * garbage, expired, revoked, idle, another organization's — with the reason audited only.
     */
    async introspect(caller: App, token: string, context: RequestContext & { clientIp: string }, clientIp?: string): Promise<Readonly<Record<string, unknown>>> {
      const now = clock.now();
      // A denial is a read's record, not a state change: buffered like the token endpoint's
      // (core/usage.ts), so a resource server presenting garbage costs no database write per call.
      const inactive = (reason: string, tokenId?: string) => {
        usage.audit(
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
      return activeAnswer(claims);
    },
  };
}
