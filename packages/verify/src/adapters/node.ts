import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeRequest } from '../request.js';
import { refusalBody, type Auth, type Verdict } from '../verdict.js';
import type { Verifier } from '../verifier.js';

/**
 * Sends a refusal with its status, WWW-Authenticate header (401, 403), `Retry-After: 1` (503),
 * `Cache-Control: no-store` and the {@link refusalBody} JSON.
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify(fromNodeRequest(req));
 * if (!verdict.ok) return sendRefusal(res, verdict);
 * ```
 */
export function sendRefusal(response: ServerResponse, verdict: Extract<Verdict, { ok: false }>): void {
  response.writeHead(verdict.status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...(verdict.wwwAuthenticate && { 'www-authenticate': verdict.wwwAuthenticate }),
    ...(verdict.status === 503 && { 'retry-after': '1' }),
  });
  response.end(JSON.stringify(refusalBody(verdict)));
}

/**
 * Wraps a plain Node `http` handler: it runs only for verified requests, with `auth`; every
 * other request is answered by {@link sendRefusal}, and a verification that throws (Tessera
 * unreachable for introspection) by a 503.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createVerifier, protect } from '@tessera/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://tessera.example.com', audience: 'api' });
 * http.createServer(protect(verifier, (req, res, auth) => res.end(`hello ${auth.sub}`))).listen(3000);
 * ```
 */
export function protect(
  verifier: Verifier,
  handler: (request: IncomingMessage, response: ServerResponse, auth: Auth) => void | Promise<void>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    verifier.verify(fromNodeRequest(request)).then(
      (verdict) => (verdict.ok ? handler(request, response, verdict.auth) : sendRefusal(response, verdict)),
      () => sendRefusal(response, { ok: false, status: 503, error: 'temporarily_unavailable', description: 'Token verification failed', wwwAuthenticate: undefined }),
    );
  };
}
