import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';
import { handleOAuthError } from '../error-mapper.js';
import { acceptFormBodies } from './form.js';
import { introspectRoute } from './introspect.js';
import { jwksRoute, metadataRoute } from './metadata.js';
import { revocationFeedRoute } from './revocations.js';
import { revokeRoute } from './revoke.js';
import { tokenRoute } from './token.js';

/**
 * The OAuth 2.0 surface (SPEC 5.1): token, introspection and revocation endpoints, which take
 * form bodies and answer RFC 6749 §5.2 errors, and the public metadata and JWKS documents.
 */
export function oauthRoutes(container: Container): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    await app.register(async (forms) => {
      acceptFormBodies(forms);
      forms.setErrorHandler(handleOAuthError);
      // RFC 6749 §5.1: responses carrying tokens must not be cached.
      forms.addHook('onSend', (_request, reply, payload, done) => {
        reply.header('cache-control', 'no-store');
        reply.header('pragma', 'no-cache');
        done(null, payload);
      });
      await forms.register(tokenRoute(container));
      await forms.register(introspectRoute(container));
      await forms.register(revokeRoute(container));
    });
    await app.register(async (feed) => {
      feed.setErrorHandler(handleOAuthError);
      await feed.register(revocationFeedRoute(container));
    });
    await app.register(metadataRoute(container));
    await app.register(jwksRoute(container));
  };
}
