import type { FastifyRequest } from 'fastify';
import type { AppService } from '../../core/apps.js';
import type { App } from '../../core/model.js';
import type { ClientAuth } from '../../core/oauth/index.js';
import { OAuthError } from '../../core/oauth-errors.js';

const invalidClient = (description: string) => new OAuthError('invalid_client', description);

/**
 * Client authentication (RFC 6749 §2.3.1), the same at every OAuth endpoint: credentials
 * presented anywhere — HTTP Basic (client_secret_basic) or the body (client_secret_post), never
 * both — are verified, and a failure is 401 invalid_client with WWW-Authenticate (§5.2). A
 * `client_id` without a secret identifies a public client (`none`), which the endpoint checks
 * against the token it is about. No credentials at all is `none` too; whether that suffices is
 * the endpoint's decision.
 */
export async function authenticateClient(
  request: FastifyRequest,
  param: (name: string) => string | undefined,
  apps: AppService,
): Promise<ClientAuth> {
  const header = request.headers.authorization;
  let clientId: string | undefined;
  let clientSecret: string | undefined;
  if (header !== undefined && /^basic(\s|$)/i.test(header)) {
    if (param('client_secret') !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret in the body, not both');
    }
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('Malformed HTTP Basic credentials: send base64 of client_id:client_secret');
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw invalidClient('Malformed HTTP Basic credentials: the client_id and client_secret must be form-urlencoded');
    }
    const bodyId = param('client_id');
    if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'The client_id in the body differs from the HTTP Basic one');
    if (clientId === '' || clientSecret === '') throw invalidClient('HTTP Basic credentials need both a client_id and a client_secret');
  } else {
    clientId = param('client_id');
    clientSecret = param('client_secret');
    if (clientSecret !== undefined && clientId === undefined) throw invalidClient('The client_secret parameter needs a client_id with it');
    if (clientSecret === undefined) return clientId === undefined ? { kind: 'none' } : { kind: 'public', clientId };
  }
  const app = await apps.authenticateClient(clientId as string, clientSecret);
  if (!app) throw invalidClient('Unknown client or wrong client secret');
  return { kind: 'app', app };
}

/** The authenticated app, for endpoints that only confidential clients may use (client_credentials, introspection). */
export function requireApp(client: ClientAuth, what: string): App {
  if (client.kind !== 'app') {
    throw invalidClient(`Client authentication is required for ${what}: send client_id and client_secret (HTTP Basic or form body)`);
  }
  return client.app;
}
