import { createOAuthContext, type OAuthDeps } from './context.js';
import { createClientCredentialsGrant } from './grant-client-credentials.js';
import { createRefreshTokenGrant } from './grant-refresh-token.js';
import { createIntrospection } from './introspect.js';
import { createMetadata } from './metadata.js';
import { createRevocation } from './revoke.js';
import type { Grant } from './types.js';
import { createAccessTokenValidation } from './validate.js';

export type { OAuthDeps } from './context.js';
export type { ApiTokenGate, ClientAuth, ExchangeableToken, GateVerdict, Grant, OAuthSettings, TokenResponse } from './types.js';

/**
 * The OAuth 2.0 service: grants, introspection, revocation, the JWKS (SPEC 5). One file per
 * grant and endpoint in this folder; this composes them into the one service the container wires.
 */
export function createOAuthService(deps: OAuthDeps) {
  const o = createOAuthContext(deps);

  /** Grants by their wire name (RFC 6749 §4.4, §6). */
  const grants: Readonly<Record<string, Grant>> = {
    refresh_token: createRefreshTokenGrant(o),
    client_credentials: createClientCredentialsGrant(o),
  };

  return {
    grants,
    issueForToken: o.issueForToken,
    sweep: o.sweep,
    verifiedCount: o.verifiedCount,
    ...createAccessTokenValidation(o),
    ...createIntrospection(o),
    ...createRevocation(o),
    ...createMetadata(o, grants),
  };
}

export type OAuthService = ReturnType<typeof createOAuthService>;
