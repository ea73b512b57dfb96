import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { consoleRoutes } from '../../src/http/console.js';
import { handleError, handleNotFound } from '../../src/http/error-mapper.js';
import { ensureConsoleBuilt, repoRoot } from './browser.js';

/** A raw GET over HTTP (fetch would decode the body and hide Content-Encoding). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function decode(response: { headers: Record<string, string | string[] | undefined>; body: Buffer }): string {
  const encoding = response.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(response.body).toString();
  if (encoding === 'gzip') return gunzipSync(response.body).toString();
  assert.equal(encoding, undefined);
  return response.body.toString();
}

describe('the console served precompressed', () => {
  let app: FastifyInstance;
  let base: string;
  let root: string;
  const script = `console.log(${JSON.stringify('tessera '.repeat(400))});\n`;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'tessera-precompressed-'));
    mkdirSync(join(root, 'assets'));
    const page = `<!doctype html><title>console</title>${'<!-- padding -->'.repeat(80)}<script type="module" src="/console/assets/index-abc123.js"></script>`;
    for (const [name, content] of [['index.html', page], ['assets/index-abc123.js', script]] as const) {
      writeFileSync(join(root, name), content);
      writeFileSync(join(root, `${name}.br`), brotliCompressSync(content));
      writeFileSync(join(root, `${name}.gz`), gzipSync(content));
    }
    writeFileSync(join(root, 'assets/only-plain-def456.js'), script);
    writeFileSync(join(root, 'assets/index-abc123.js.map'), '{"version":3,"sources":["secret.ts"]}');
    app = Fastify();
    app.setErrorHandler(handleError);
    app.setNotFoundHandler(handleNotFound);
    await app.register(consoleRoutes({ root }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const asset = () => `${base}/console/assets/index-abc123.js`;

  it('sends brotli when it is accepted, gzip when only that is, and the plain file otherwise, always with Vary', async () => {
    const cases: [Record<string, string>, string | undefined][] = [
      [{ 'accept-encoding': 'gzip, deflate, br, zstd' }, 'br'],
      [{ 'accept-encoding': 'gzip' }, 'gzip'],
      [{ 'accept-encoding': 'br;q=0, gzip;q=0.5' }, 'gzip'],
      [{ 'accept-encoding': 'identity' }, undefined],
      [{}, undefined],
    ];
    for (const [headers, expected] of cases) {
      const response = await rawGet(asset(), headers);
      assert.equal(response.status, 200, JSON.stringify(headers));
      assert.equal(response.headers['content-encoding'], expected, JSON.stringify(headers));
      assert.match(String(response.headers['vary']), /accept-encoding/i, JSON.stringify(headers));
      assert.match(String(response.headers['content-type']), /javascript/);
      assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets keep their long cache');
      assert.equal(decode(response), script, JSON.stringify(headers));
      if (expected === 'br') assert.ok(response.body.length < script.length / 5, 'the brotli file is what is sent');
    }
  });

  it('sends the app page compressed too, uncached, for every app path', async () => {
    for (const path of ['/console', '/console/', '/console/security/users']) {
      const response = await rawGet(`${base}${path}`, { 'accept-encoding': 'br' });
      assert.equal(response.status, 200, path);
      assert.equal(response.headers['content-encoding'], 'br', path);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.match(String(response.headers['content-type']), /text\/html/);
      assert.match(decode(response), /<title>console<\/title>/);
    }
  });

  it('falls back to the plain file when no compressed one was built', async () => {
    const response = await rawGet(`${base}/console/assets/only-plain-def456.js`, { 'accept-encoding': 'br, gzip' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-encoding'], undefined);
    assert.equal(response.body.toString(), script);
  });

  it('never serves a source map', async () => {
    const response = await rawGet(`${asset()}.map`, {});
    assert.equal(response.status, 404);
    assert.doesNotMatch(response.body.toString(), /secret\.ts/);
  });
});

describe('the console build', () => {
  before(ensureConsoleBuilt);
  const dist = join(repoRoot, 'packages/console/dist');

  it('has brotli and gzip beside its script, styles and page, and no source maps', () => {
    const assets = readdirSync(join(dist, 'assets'));
    const scripts = assets.filter((name) => name.endsWith('.js'));
    assert.ok(scripts.length > 0);
    for (const name of [...scripts, ...assets.filter((name) => name.endsWith('.css')).map((name) => name)]) {
      for (const suffix of ['.br', '.gz']) assert.ok(existsSync(join(dist, 'assets', name + suffix)), `${name}${suffix}`);
      const plain = readFileSync(join(dist, 'assets', name));
      assert.deepEqual(brotliDecompressSync(readFileSync(join(dist, 'assets', `${name}.br`))), plain, `${name}.br holds ${name}`);
      assert.deepEqual(gunzipSync(readFileSync(join(dist, 'assets', `${name}.gz`))), plain, `${name}.gz holds ${name}`);
      assert.doesNotMatch(plain.toString(), /sourceMappingURL/, `${name} names no source map`);
    }
    assert.deepEqual(assets.filter((name) => name.endsWith('.map')), []);
    const script = readFileSync(join(dist, 'assets', scripts[0] as string));
    const brotli = readFileSync(join(dist, 'assets', `${scripts[0]}.br`));
    console.log(`console script: ${script.length} bytes, brotli ${brotli.length}, gzip ${readFileSync(join(dist, 'assets', `${scripts[0]}.gz`)).length}`);
  });
});
