import { fromFetchRequest } from '../request.js';
import { refusalBody, type Auth, type Verdict } from '../verdict.js';
import type { Verifier } from '../verifier.js';

/**
 * A refusal as a fetch `Response`, with the same status, headers and body as {@link sendRefusal}.
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify(fromFetchRequest(request, peer));
 * if (!verdict.ok) return refusalResponse(verdict);
 * ```
 */
export function refusalResponse(verdict: Extract<Verdict, { ok: false }>): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  if (verdict.wwwAuthenticate) headers.set('www-authenticate', verdict.wwwAuthenticate);
  if (verdict.status === 503) headers.set('retry-after', '1');
  return new Response(JSON.stringify(refusalBody(verdict)), { status: verdict.status, headers });
}

/** The slice of a Hono-style context the middleware uses. */
interface ContextLike {
  readonly req: { readonly raw: Request };
  set(key: 'auth', value: Auth): void;
}

/**
 * Fetch-style middleware for Hono and similar frameworks: `c.get('auth')` in handlers.
 * `remoteAddress` tells it the socket peer (on Node, `c.env.incoming.socket.remoteAddress`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { serve, type HttpBindings } from '@hono/node-server';
 * import { createVerifier, fetchAuth, type Auth } from '@tessera/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://tessera.example.com', audience: 'api' });
 * const app = new Hono<{ Bindings: HttpBindings; Variables: { auth: Auth } }>();
 * app.use('*', fetchAuth(verifier, (c) => c.env.incoming.socket.remoteAddress));
 * app.get('/plans', (c) => c.json({ sub: c.get('auth').sub }));
 * ```
 */
export function fetchAuth<C extends ContextLike>(verifier: Verifier, remoteAddress: (context: C) => string | undefined) {
  return async (context: C, next: () => Promise<void>): Promise<Response | void> => {
    const verdict = await verifier.verify(fromFetchRequest(context.req.raw, remoteAddress(context)));
    if (!verdict.ok) return refusalResponse(verdict);
    context.set('auth', verdict.auth);
    await next();
  };
}
