import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeRequest } from '../request.js';
import type { Auth } from '../verdict.js';
import type { Verifier } from '../verifier.js';
import { sendRefusal } from './node.js';

/**
 * Express middleware: refuses unverified requests (RFC 6750) and puts `auth` on `res.locals.auth`.
 *
 * @example
 * ```ts
 * app.use(expressAuth(verifier));
 * app.get('/plans', (req, res) => res.json({ sub: res.locals.auth.sub }));
 * ```
 */
export function expressAuth(verifier: Verifier) {
  return (request: IncomingMessage, response: ServerResponse & { locals: Record<string, unknown> }, next: (error?: unknown) => void): void => {
    verifier.verify(fromNodeRequest({ method: request.method, url: (request as { originalUrl?: string }).originalUrl ?? request.url, headers: request.headers, socket: request.socket })).then(
      (verdict) => {
        if (!verdict.ok) return sendRefusal(response, verdict);
        response.locals['auth'] = verdict.auth satisfies Auth;
        next();
      },
      next,
    );
  };
}
