import { parseToken } from '@tessera/rules';
import { verifyAccessToken } from '../access-token-format.js';
import { auditOf, type RequestContext } from '../context.js';
import type { OAuthContext } from './context.js';
import type { ClientAuth } from './types.js';

/** The revocation endpoint (RFC 7009). */
export function createRevocation({ store, clock, keyring, tokens, settings }: OAuthContext) {
  return {
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
  };
}
