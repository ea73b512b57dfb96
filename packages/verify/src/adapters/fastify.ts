import type { IncomingMessage } from 'node:http';
import { fromNodeRequest } from '../request.js';
import { refusalBody, type Auth, type Verdict } from '../verdict.js';
import type { Verifier } from '../verifier.js';

/** The slice of a Fastify instance the plugin uses; typed structurally so Fastify stays optional. */
interface FastifyLike {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(
    name: 'onRequest',
    hook: (request: { raw: IncomingMessage; url: string; auth?: Auth | null }, reply: FastifyReplyLike, done: (error?: Error) => void) => void,
  ): unknown;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: unknown): unknown;
}

/** Lets a verified request through with `request.auth`, or sends the refusal. */
function finish(request: { auth?: Auth | null }, reply: FastifyReplyLike, done: (error?: Error) => void, verdict: Verdict): void {
  if (verdict.ok) {
    request.auth = verdict.auth;
    return done();
  }
  reply.code(verdict.status).header('cache-control', 'no-store');
  if (verdict.wwwAuthenticate) reply.header('www-authenticate', verdict.wwwAuthenticate);
  if (verdict.status === 503) reply.header('retry-after', '1');
  reply.send(refusalBody(verdict));
}

/**
 * Fastify plugin: verifies in `onRequest`, before any body is read or parsed, so unauthenticated
 * requests cost no parsing. Verified requests carry `request.auth`.
 *
 * The plugin is not encapsulated: it protects the scope it is registered in. Register it inside a
 * child plugin to leave routes such as `/healthz` open, and declare `auth` on `FastifyRequest`
 * (`declare module 'fastify' { interface FastifyRequest { auth: Auth | null } }`) for types.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createVerifier, fastifyAuth } from '@tessera/verify';
 *
 * const app = Fastify();
 * await app.register(fastifyAuth(createVerifier({ issuer: 'https://tessera.example.com', audience: 'api' })));
 * app.get('/plans', async (request) => ({ sub: request.auth.sub }));
 * ```
 */
export function fastifyAuth(verifier: Verifier) {
  const plugin = async (app: FastifyLike): Promise<void> => {
    app.decorateRequest('auth', null);
    // A callback hook, not an async one: a known token is answered without creating a promise,
    // and with no closure either (the common case is one allocation: the RequestLike).
    app.addHook('onRequest', (request, reply, done) => {
      const like = fromNodeRequest({ method: request.raw.method, url: request.url, headers: request.raw.headers, socket: request.raw.socket });
      const known = verifier.verifySync(like);
      if (known) return finish(request, reply, done, known);
      // verify() answers every outcome as a verdict, an unreachable Tessera included (503).
      verifier.verify(like).then((verdict) => finish(request, reply, done, verdict), done);
    });
  };
  // Apply to the registering scope rather than an encapsulated child (fastify-plugin's marker).
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'tessera-verify' });
  return plugin;
}
