import type { OAuthContext } from './context.js';
import type { Grant } from './types.js';

/** The authorization server metadata (RFC 8414). */
export function createMetadata({ settings }: OAuthContext, grants: Readonly<Record<string, Grant>>) {
  return {
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
