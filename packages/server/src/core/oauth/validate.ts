import type { AccessTokenClaims } from '../access-token-format.js';
import type { OAuthContext } from './context.js';

/** Access tokens presented to the management API. */
export function createAccessTokenValidation({ store, clock, tokens, decodeAccessToken }: OAuthContext) {
  return {
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
  };
}
