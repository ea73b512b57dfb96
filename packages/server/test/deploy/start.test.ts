import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase } from '../support/databases.js';
import { instanceEnv, repoRoot, startInstance, stopAllInstances, waitFor200, type Instance } from './processes.js';

/**
 * `npm start` as scripts/start.mjs runs it: it serves at once when the build is current, and
 * three of them started together on one PostgreSQL all come up, also when the build is stale
 * (one builds under the lock, the others wait, nobody empties the console under another).
 */
const postgresUrl = process.env['TESSERA_TEST_DATABASE_URL'];
const skip = !postgresUrl && 'TESSERA_TEST_DATABASE_URL is not set (required in CI)';
const secretKey = Buffer.alloc(32, 9).toString('hex');

const startScript = (root: string) => join(root, 'scripts', 'start.mjs');
const nodeStart = (root: string, env: Record<string, string>) =>
  startInstance(process.execPath, [startScript(root)], { cwd: root, env: instanceEnv({ TESSERA_PORT: '0', ...env }), timeoutMs: 240_000 });

async function assertServes(instance: Instance): Promise<void> {
  assert.equal((await fetch(`${instance.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${instance.url}/readyz`)).status, 200);
  const page = await fetch(`${instance.url}/console/`);
  assert.equal(page.status, 200, instance.output());
  assert.match(await page.text(), /<script type="module"/);
}

/**
 * A copy of the checkout's sources (no dist, no tests) whose node_modules links to this one's
 * packages, with @tessera/* pointing into the copy: a stale build there is built for real
 * without touching this checkout's dist, which other test files use meanwhile.
 */
function scratchCheckout(): string {
  const copy = mkdtempSync(join(tmpdir(), 'tessera-checkout-'));
  const skipNames = new Set(['node_modules', 'dist', 'test', '.tessera-build', '.tessera-data', 'test-output']);
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.base.json', 'scripts', 'packages/rules', 'packages/server', 'packages/verify', 'packages/console', 'examples/protected-api']) {
    cpSync(join(repoRoot, path), join(copy, path), { recursive: true, filter: (source) => source === join(repoRoot, path) || !(skipNames.has(source.split('/').at(-1) ?? '') || source.endsWith('.tsbuildinfo')) });
  }
  mkdirSync(join(copy, 'node_modules', '@tessera'), { recursive: true });
  for (const name of readdirSync(join(repoRoot, 'node_modules'))) {
    if (name !== '@tessera') symlinkSync(join(repoRoot, 'node_modules', name), join(copy, 'node_modules', name));
  }
  const workspaces: Record<string, string> = { rules: 'packages/rules', server: 'packages/server', verify: 'packages/verify', console: 'packages/console', 'example-protected-api': 'examples/protected-api', client: join(repoRoot, 'packages/client') };
  for (const [name, path] of Object.entries(workspaces)) symlinkSync(path.startsWith('/') ? path : join(copy, path), join(copy, 'node_modules', '@tessera', name));
  for (const path of ['packages/server', 'packages/console', 'packages/verify']) {
    if (existsSync(join(repoRoot, path, 'node_modules'))) symlinkSync(join(repoRoot, path, 'node_modules'), join(copy, path, 'node_modules'));
  }
  return copy;
}

describe('npm start (scripts/start.mjs)', { skip }, () => {
  const instances: Instance[] = [];
  const drops: (() => Promise<void>)[] = [];
  const dirs: string[] = [];
  before(() => {
    // npm test and npm install have built already; a lone run of this file builds here, once.
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--if-stale'], { cwd: repoRoot, stdio: 'inherit' });
    assert.equal(built.status, 0);
  });
  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await stopAllInstances();
    for (const drop of drops) await drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('serves without building when the build is current: the second start answers /healthz within seconds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
    dirs.push(dataDir);
    const first = await nodeStart(repoRoot, { TESSERA_DATA_DIR: dataDir });
    instances.push(first);
    await first.stop();

    const started = Date.now();
    const second = await nodeStart(repoRoot, { TESSERA_DATA_DIR: dataDir });
    instances.push(second);
    await waitFor200(`${second.url}/healthz`, 10_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(`second npm start answered /healthz after ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 10, `second start took ${seconds} s`);
    assert.doesNotMatch(second.output(), /building/);
    await assertServes(second);
    await second.stop();
  });

  it('three concurrent starts on one PostgreSQL come up with a current build', async () => {
    const database = await createPostgresDatabase();
    drops.push(database.drop);
    const env = { TESSERA_DATABASE_URL: database.url, TESSERA_SECRET_KEY: secretKey };
    const three = await Promise.all([nodeStart(repoRoot, env), nodeStart(repoRoot, env), nodeStart(repoRoot, env)]);
    instances.push(...three);
    for (const instance of three) await assertServes(instance);
    assert.equal(three.filter((instance) => instance.output().includes('First start')).length, 1, 'one of them created the admin');
    await Promise.all(three.map((instance) => instance.stop()));
  });

  it('three concurrent starts with a stale build: one builds under the lock, the others wait, all serve the console', async () => {
    const copy = scratchCheckout();
    dirs.push(copy);
    const database = await createPostgresDatabase();
    drops.push(database.drop);
    const env = { TESSERA_DATABASE_URL: database.url, TESSERA_SECRET_KEY: secretKey };
    const three = await Promise.all([nodeStart(copy, env), nodeStart(copy, env), nodeStart(copy, env)]);
    instances.push(...three);
    for (const instance of three) await assertServes(instance);
    const outputs = three.map((instance) => instance.output());
    assert.equal(outputs.filter((output) => output.includes('tessera: building')).length, 1, outputs.join('\n---\n'));
    assert.equal(outputs.filter((output) => output.includes('another process is building')).length, 2, outputs.join('\n---\n'));
    assert.deepEqual(
      readdirSync(join(copy, 'packages/console')).filter((name) => name.startsWith('dist')),
      ['dist'],
      'no temporary console build is left behind',
    );

    // A source saved after the build makes the next start rebuild; nothing else does.
    await Promise.all(three.map((instance) => instance.stop()));
    const again = await nodeStart(copy, env);
    instances.push(again);
    assert.doesNotMatch(again.output(), /building/);
    await again.stop();
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(copy, 'packages/rules/src/index.ts'), later, later);
    const rebuilt = await nodeStart(copy, env);
    instances.push(rebuilt);
    assert.match(rebuilt.output(), /tessera: building/);
    await assertServes(rebuilt);
    assert.ok(relative(copy, rebuilt.url) !== '');
  });
});
