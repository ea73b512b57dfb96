import { parseEndpointPatterns } from '@tessera/rules';
import { auditOf } from '../context.js';
import { OAuthError } from '../oauth-errors.js';
import type { OAuthContext } from './context.js';
import { formatScope, parseRequestedScope, within } from './scope.js';
import type { Grant } from './types.js';

/** The refresh_token grant (RFC 6749 §6): an API token exchanged for an access token, its secret rotated when policy says so. */
export function createRefreshTokenGrant({ store, clock, tokens, usage, withoutRefreshToken, issueForToken }: OAuthContext): Grant {
  return async ({ param, client, context }) => {
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
}
