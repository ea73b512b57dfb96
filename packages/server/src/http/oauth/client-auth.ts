import type { FastifyRequest } from 'fastify';
import type { AppService } from '../../core/apps.js';
import type { App } from '../../core/model.js';
import { OAuthError } from '../../core/oauth-errors.js';

/**
 * Client authentication (RFC 6749 §2.3.1): HTTP Basic (client_secret_basic) or the body
 * (client_secret_post), never both. A failure raises invalid_client; with Basic it is a 401
 * carrying WWW-Authenticate (§5.2).
 */
export async function authenticateClient(
  request: FastifyRequest,
  param: (name: string) => string | undefined,
  apps: AppService,
): Promise<App> {
  const header = request.headers.authorization;
  const basic = header !== undefined && /^basic /i.test(header);
  let clientId: string | undefined;
  let clientSecret: string | undefined;
  if (basic) {
    if (param('client_secret') !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret in the body, not both');
    }
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials', { basic: true });
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'Malformed HTTP Basic credentials', { basic: true });
    }
    const bodyId = param('client_id');
    if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id in the body differs from the HTTP Basic one');
  } else {
    clientId = param('client_id');
    clientSecret = param('client_secret');
  }
  if (clientId === undefined || clientSecret === undefined) {
    throw new OAuthError('invalid_client', 'Client authentication is required: send client_id and client_secret (HTTP Basic or form body)', { basic });
  }
  const app = await apps.authenticateClient(clientId, clientSecret);
  if (!app) throw new OAuthError('invalid_client', 'Unknown client or wrong client secret', { basic });
  return app;
}
