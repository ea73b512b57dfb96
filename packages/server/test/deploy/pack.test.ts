import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { instanceEnv, repoRoot, startInstance, stopAllInstances, type Instance } from './processes.js';

/**
 * The distributable server as an operator gets it: `npm pack -w @tessera/server`, installed with
 * `npm install -g` into a prefix of its own (from the npm cache when it holds every dependency),
 * then `tessera serve` from a directory that is not the checkout, on the embedded database.
 */
describe('npm pack -w @tessera/server, installed globally', () => {
  let dir: string;
  let tarball: string;
  let files: string[];
  let instance: Instance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
    const env = instanceEnv({});
    const packed = JSON.parse(execFileSync('npm', ['pack', '-w', '@tessera/server', '--pack-destination', dir, '--json', '--loglevel=error'], { cwd: repoRoot, env, encoding: 'utf8' })) as {
      filename: string;
      files: { path: string }[];
    }[];
    const [entry] = packed;
    assert.ok(entry);
    tarball = join(dir, entry.filename);
    files = entry.files.map((file) => file.path);
    const prefix = join(dir, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir, env, stdio: 'inherit' });
    const work = join(dir, 'elsewhere');
    mkdirSync(work);
    instance = await startInstance(join(prefix, 'bin', 'tessera'), ['serve'], { cwd: work, env: instanceEnv({ TESSERA_PORT: '0' }), timeoutMs: 120_000 });
  });
  after(async () => {
    await instance?.stop();
    await stopAllInstances();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built server, the console and @tessera/rules, and no sources, tests or source maps', () => {
    for (const path of ['bin/tessera.js', 'dist/cli/main.js', 'dist/http/server.js', 'console/index.html', 'node_modules/@tessera/rules/package.json', 'node_modules/@tessera/rules/dist/index.js']) {
      assert.ok(files.includes(path), `the tarball has ${path}`);
    }
    assert.ok(files.some((path) => /^console\/assets\/index-[\w-]+\.js$/.test(path)), 'the console script');
    assert.ok(files.some((path) => /^console\/assets\/index-[\w-]+\.js\.br$/.test(path)), 'the console script precompressed');
    const unwanted = files.filter((path) => /^(src|test)\//.test(path) || /\.map$|\.tsbuildinfo$/.test(path) || (path.endsWith('.ts') && !path.endsWith('.d.ts')) || path.includes('/src/'));
    assert.deepEqual(unwanted, []);
  });

  it('leaves the checkout as it was (the console copy and the bundled rules are removed after packing)', () => {
    assert.equal(existsSync(join(repoRoot, 'packages/server/console')), false);
    assert.equal(existsSync(join(repoRoot, 'packages/server/node_modules/@tessera')), false);
  });

  it('serves from another directory: health, the API document and the console with its assets', async () => {
    assert.match(instance.output(), /PGlite in \.tessera-data/);
    assert.ok(existsSync(join(dir, 'elsewhere', '.tessera-data')), 'the data directory is relative to where it runs');
    assert.equal((await fetch(`${instance.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${instance.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${instance.url}/openapi.json`)).status, 200);
    const page = await fetch(`${instance.url}/console/security/users`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${instance.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-encoding'), 'br', 'the installed console has its precompressed files');
    assert.equal((await fetch(`${instance.url}${script}.map`)).status, 404);
  });
});
