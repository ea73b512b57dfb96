import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeRequest } from '../request.js';
import { refusalBody, type Auth, type Verdict } from '../verdict.js';
import type { Verifier } from '../verifier.js';

/** Sends a refusal with its status, WWW-Authenticate header and a small JSON body. */
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
 * Wraps a plain Node `http` handler: it runs only for verified requests, with `auth`.
 *
 * @example
 * ```ts
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
