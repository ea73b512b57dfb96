import { OAuthError } from '../oauth-errors.js';
import type { OAuthContext } from './context.js';
import type { Grant } from './types.js';

/** The client_credentials grant (RFC 6749 §4.4): an app's own access token. */
export function createClientCredentialsGrant({ tokens, withoutRefreshToken, mint }: OAuthContext): Grant {
  return async ({ client }) => {
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
}
