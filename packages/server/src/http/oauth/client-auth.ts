import type { FastifyRequest } from 'fastify';
import type { AppService } from '../../core/apps.js';
import type { App } from '../../core/model.js';
import type { ClientAuth } from '../../core/oauth/index.js';
import { OAuthError } from '../../core/oauth-errors.js';
import { basicCredentials, isBasic } from '../basic-credentials.js';

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
  if (isBasic(header)) {
    if (param('client_secret') !== undefined) {
      throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret in the body, not both');
    }
    // Decoded once, at the edge (input-guard.ts checks the same parts).
    const basic = basicCredentials(request, header);
    if (basic.colon < 0) throw invalidClient('Malformed HTTP Basic credentials: send base64 of client_id:client_secret');
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    if (basic.clientId === null || basic.clientSecret === null) {
      throw invalidClient('Malformed HTTP Basic credentials: the client_id and client_secret must be form-urlencoded');
    }
    clientId = basic.clientId;
    clientSecret = basic.clientSecret;
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
