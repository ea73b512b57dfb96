import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromNodeRequest } from '../request.js';
import type { Auth } from '../verdict.js';
import type { Verifier } from '../verifier.js';
import { sendRefusal } from './node.js';

/**
 * Express middleware: refuses unverified requests (RFC 6750) and puts `auth` on `res.locals.auth`.
 * Scope is checked against `req.originalUrl`, so it holds under mounted routers too.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createVerifier, expressAuth } from '@tessera/verify';
 *
 * const app = express();
 * app.use(expressAuth(createVerifier({ issuer: 'https://tessera.example.com', audience: 'api' })));
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
