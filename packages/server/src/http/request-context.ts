import { resolveClientAddress } from '@tessera/rules';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Container } from '../app/container.js';
import type { ActorContext, RequestContext } from '../core/context.js';
import { buildActor } from '../core/auth.js';
import { TesseraError } from '../core/errors.js';
import type { Actor } from '../core/rights.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on routes that need a caller. */
    actor: Actor | null;
  }
}

export const sessionCookie = 'tessera_session';
export const csrfHeader = 'x-tessera-csrf';

const addressOfConnection = new WeakMap<object, { readonly forwarded: string | undefined; readonly address: string }>();

/** Client address (SPEC 3.6: the socket peer, or the right-most untrusted X-Forwarded-For hop behind a trusted proxy). */
export function clientIpOf(request: FastifyRequest, container: Container): string {
  const header = request.headers['x-forwarded-for'];
  const forwarded = Array.isArray(header) ? header.join(',') : header;
  // A keep-alive connection sends many requests from one peer, usually with the same
  // X-Forwarded-For (or none): the address is resolved once per connection and header.
  const socket = request.socket;
  const known = addressOfConnection.get(socket);
  if (known !== undefined && known.forwarded === forwarded) return known.address;
  const address = resolveClientAddress(socket.remoteAddress ?? '', forwarded, container.config.trustedProxies);
  addressOfConnection.set(socket, { forwarded, address });
  return address;
}

export function requestContext(request: FastifyRequest, container: Container): RequestContext {
  const userAgent = request.headers['user-agent'];
  return {
    clientIp: clientIpOf(request, container),
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 300) : null,
    requestId: String(request.id),
  };
}

/** The authenticated context of a request; routes behind `authenticate` always have one. */
export function actorContext(request: FastifyRequest, container: Container): ActorContext {
  if (!request.actor) throw new TesseraError('UNAUTHENTICATED', 'Log in first: POST /api/v1/sessions, then send the session token as a Bearer token');
  return { ...requestContext(request, container), actor: request.actor };
}

/**
 * The caller behind an access token minted from an API token: its owner, restricted to the
 * token's roles, marked as token-derived so SPEC 2's restrictions apply.
 */
async function actorFromAccessToken(container: Container, token: string): Promise<Actor | undefined> {
  const claims = await container.oauth.validateAccessToken(token);
  if (!claims?.tid) return undefined;
  const principal = await container.store.principals.get(claims.org, claims.sub);
  if (!principal || principal.status !== 'active') return undefined;
  return buildActor(container.store, principal, { method: 'token', tokenId: claims.tid, sessionId: null, onlyRoles: claims.roles });
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * onRequest hook: resolves the caller from `Authorization: Bearer` or the console's session
 * cookie. A cookie-authenticated state change must also carry the CSRF header: a cross-site
 * form cannot set custom headers, and the cookie is SameSite=Strict as well.
 */
export function authenticate(container: Container) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    let credential: string | undefined;
    let fromCookie = false;
    if (header !== undefined) {
      const match = /^Bearer ([\x21-\x7e]{1,2048})$/i.exec(header);
      if (!match) throw new TesseraError('UNAUTHENTICATED', 'Malformed Authorization header: send "Authorization: Bearer <session token>"');
      credential = match[1];
    } else {
      credential = request.cookies?.[sessionCookie];
      fromCookie = credential !== undefined;
    }
    if (credential === undefined) {
      throw new TesseraError('UNAUTHENTICATED', 'Log in first: POST /api/v1/sessions, then send the session token as a Bearer token');
    }
    if (fromCookie && unsafeMethods.has(request.method) && request.headers[csrfHeader] !== '1') {
      throw new TesseraError('FORBIDDEN', `Cookie-authenticated changes need the ${csrfHeader}: 1 header`);
    }
    // An access token (a JWT: three dot-separated parts) or a login session.
    const actor = credential.split('.').length === 3 ? await actorFromAccessToken(container, credential) : await container.auth.authenticateSession(credential);
    if (!actor) throw new TesseraError('UNAUTHENTICATED', 'The session or access token is unknown, expired or revoked; log in again or get a new access token');
    request.actor = actor;
  };
}
