import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { consoleRoutes, locateConsoleDist } from '../../src/http/console.js';
import { handleError, handleNotFound } from '../../src/http/error-mapper.js';
import { assertProblem } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ensureConsoleBuilt, repoRoot } from './browser.js';

/** The console routes alone on Fastify with the app's error handling, over a given directory. */
async function serve(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  await app.register(consoleRoutes({ root }));
  return app;
}

async function get(app: FastifyInstance, url: string) {
  const response = await app.inject({ method: 'GET', url });
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, headers: new Headers(response.headers as Record<string, string>), text: response.body, body };
}

describe('serving the console at /console', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-console-'));
    dirs.push(dir);
    return dir;
  };

  it('finds the built console in packages/console/dist', () => {
    assert.equal(locateConsoleDist(), join(repoRoot, 'packages', 'console', 'dist'));
  });

  it('answers every console path with a 503 problem saying to build it when there is no build', async () => {
    const app = await serve(join(tempDir(), 'dist'));
    for (const url of ['/console', '/console/', '/console/security/users', '/console/assets/index.js']) {
      const response = await get(app, url);
      assertProblem(response, 503, 'UNAVAILABLE');
      assert.match((response.body as { detail: string }).detail, /run `npm run build`/);
    }
    await app.close();
  });

  it('serves hashed assets for a year, index.html without caching for every app path, 404 for a missing asset', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/index-abc123.js"></script>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'robots.txt'), 'User-agent: *');
    writeFileSync(join(tempDir(), 'secret.txt'), 'outside');
    const app = await serve(root);

    const asset = await get(app, '/console/assets/index-abc123.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);

    for (const url of ['/console', '/console/', '/console/index.html', '/console/security/users/u_1', '/console/profile?x=1', '/console/../secret.txt', '/console/%2e%2e/%2e%2e/etc/passwd']) {
      const page = await get(app, url);
      if (page.status === 404) continue; // normalised away before reaching the console
      assert.equal(page.status, 200, url);
      assert.match(page.text, /<title>console<\/title>/, url);
      assert.equal(page.headers.get('cache-control'), 'no-cache', url);
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    }

    const other = await get(app, '/console/robots.txt');
    assert.equal(other.text, 'User-agent: *');
    assert.equal(other.headers.get('cache-control'), 'no-cache');

    assertProblem(await get(app, '/console/assets/index-old999.js'), 404, 'NOT_FOUND');
    await app.close();
  });

  describe('in the real app', () => {
    let ts: TestServer;
    before(async () => {
      await ensureConsoleBuilt();
      ts = await startTestServer();
    });
    after(() => ts.close());

    it('serves the built console and keeps its routes out of the OpenAPI document', async () => {
      const page = await fetch(`${ts.url}/console/security/api-tokens`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="app"><\/div>/);
      const consoleRoutes = ts.server.app.routeTable.filter((route) => route.url.startsWith('/console'));
      assert.ok(consoleRoutes.length >= 2);
      assert.ok(consoleRoutes.every((route) => route.hidden));
      const openapi = await ts.request('GET', '/openapi.json');
      assert.ok(!Object.keys(openapi.body.paths).some((path) => path.startsWith('/console')));
    });
  });
});
