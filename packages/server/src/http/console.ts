import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { TesseraError } from '../core/errors.js';

/**
 * Where the built console is, first found of: the `@tessera/console` workspace package when
 * node resolves it (the checkout); `console/` inside this package, where `npm pack` puts a copy
 * (scripts/pack-server.mjs) so an installed tarball serves it; `packages/console/dist` beside
 * this package. The paths hold for both `src/http/console.ts` (tests, tsx) and
 * `dist/http/console.js`.
 */
export function locateConsoleDist(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('@tessera/console/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    const packaged = fileURLToPath(new URL('../../console', import.meta.url));
    if (existsSync(join(packaged, 'index.html'))) return packaged;
    return fileURLToPath(new URL('../../../console/dist', import.meta.url));
  }
}

// Vite puts content-hashed files under assets/: a changed file gets a new name, so they may be
// cached for a year. index.html names the current ones and must be revalidated every time.
const assetCache = 'public, max-age=31536000, immutable';
const pageCache = 'no-cache';
// The console loads only its own scripts and styles and talks only to this origin.
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * `/console`: the web console's single-page app (SPEC 7). A path that names a built file serves
 * it; any other path under /console serves index.html so the app's own router shows the page.
 * Without a build, every console path answers a 503 problem saying how to build it. The routes
 * are hidden from the OpenAPI document: they are not part of the API.
 */
export function consoleRoutes(options: { root?: string } = {}): FastifyPluginAsync {
  const root = resolve(options.root ?? locateConsoleDist());
  return async (app) => {
    const built = existsSync(join(root, 'index.html'));
    if (!built) {
      const notBuilt = async () => {
        throw new TesseraError(
          'UNAVAILABLE',
          `The web console is not built (no ${join(root, 'index.html')}): run \`npm run build\` in the Tessera directory, then restart the server`,
        );
      };
      app.get('/console', { schema: { hide: true } }, notBuilt);
      app.get('/console/*', { schema: { hide: true } }, notBuilt);
      return;
    }

    // The build writes .br and .gz beside each text file (vite.config.ts); @fastify/static picks
    // the one Accept-Encoding prefers (RFC 9110 §12.5.3, q-values honoured; the plain file when
    // neither is acceptable or there is none) and adds Vary: accept-encoding, so a shared cache
    // keeps the encodings apart (§12.5.5).
    await app.register(fastifyStatic, { root, serve: false, preCompressed: true });

    const sendPage = (reply: FastifyReply) =>
      reply
        .header('cache-control', pageCache)
        .header('content-security-policy', contentSecurityPolicy)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .sendFile('index.html', root, { cacheControl: false });

    app.get('/console', { schema: { hide: true } }, async (_request, reply) => sendPage(reply));
    app.get<{ Params: { '*': string } }>('/console/*', { schema: { hide: true } }, async (request, reply) => {
      const requested = request.params['*'];
      // Source maps are never public (a build may hold hidden ones for an error tracker).
      if (requested.endsWith('.map')) throw new TesseraError('NOT_FOUND', `No console file ${requested}`);
      const file = fileUnder(root, requested);
      // A missing build file is a 404, not the page: a browser must not run HTML as a script.
      if (file === undefined && requested.startsWith('assets/')) {
        throw new TesseraError('NOT_FOUND', `No console file ${requested}; reload the page to get the current build`);
      }
      if (file === undefined || file === 'index.html') return sendPage(reply);
      const cacheControl = file.startsWith('assets/') ? assetCache : pageCache;
      return reply.header('cache-control', cacheControl).header('x-content-type-options', 'nosniff').sendFile(file, root, { cacheControl: false });
    });
  };
}

/** The built file a request path names, relative to root, or undefined (then the app routes it). */
function fileUnder(root: string, requested: string): string | undefined {
  const path = resolve(root, `.${sep}${requested}`);
  if (!path.startsWith(root + sep)) return undefined;
  try {
    return statSync(path).isFile() ? path.slice(root.length + 1).split(sep).join('/') : undefined;
  } catch {
    return undefined;
  }
}
