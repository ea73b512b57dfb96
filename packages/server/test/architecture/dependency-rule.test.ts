import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const depcruise = join(root, 'node_modules/.bin/depcruise');
const config = join(root, '.dependency-cruiser.cjs');

/** Runs the project's dependency rule over a small tree laid out like the repository. */
function cruise(files: Record<string, string>, roots = ['packages']): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-deprule-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
  const result = spawnSync(depcruise, ['--config', config, ...roots], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('the dependency rule', () => {
  it('passes on the repository itself', () => {
    const result = spawnSync(depcruise, ['--config', config, 'packages', 'examples'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('fails when core imports from http', () => {
    const result = cruise({
      'packages/server/src/http/app.ts': 'export const app = 1;\n',
      'packages/server/src/core/tokens.ts': "import { app } from '../http/app.js';\nexport const x = app;\n",
    });
    assert.notEqual(result.status, 0);
    assert.match(result.output, /core-is-pure/);
  });

  it('fails when core imports a package, even one shipped as dist/ (tests may use test libraries)', () => {
    const fakePackage = {
      'package.json': JSON.stringify({ name: 'app', dependencies: { 'some-lib': '1.0.0' } }),
      'node_modules/some-lib/package.json': JSON.stringify({ name: 'some-lib', type: 'module', main: './dist/index.js', types: './dist/index.d.ts', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }),
      'node_modules/some-lib/dist/index.js': 'export const lib = 1;\n',
      'node_modules/some-lib/dist/index.d.ts': 'export declare const lib: number;\n',
    };
    const inSource = cruise({ ...fakePackage, 'packages/server/src/core/totp.ts': "import { lib } from 'some-lib';\nexport const x = lib;\n" });
    assert.notEqual(inSource.status, 0, inSource.output);
    assert.match(inSource.output, /core-uses-no-packages/);
    const inTest = cruise({ ...fakePackage, 'packages/server/src/core/totp.test.ts': "import { lib } from 'some-lib';\nexport const x = lib;\n" });
    assert.equal(inTest.status, 0, inTest.output);
  });

  it('fails when http reaches storage directly', () => {
    const result = cruise({
      'packages/server/src/storage/sql.ts': 'export const sql = 1;\n',
      'packages/server/src/http/route.ts': "import { sql } from '../storage/sql.js';\nexport const y = sql;\n",
    });
    assert.notEqual(result.status, 0);
    assert.match(result.output, /transports-do-not-touch-storage/);
  });

  it('fails when the SDK imports the server', () => {
    const result = cruise({
      'packages/server/src/core/tokens.ts': 'export const t = 1;\n',
      'packages/verify/src/index.ts': "import { t } from '../../server/src/core/tokens.js';\nexport const v = t;\n",
    });
    assert.notEqual(result.status, 0);
    assert.match(result.output, /verify-and-console-know-nothing-of-server/);
  });

  it('fails when a console .tsx module reaches the server', () => {
    const result = cruise({
      'packages/server/src/core/tokens.ts': 'export const t = 1;\n',
      'packages/console/src/main.tsx': "import { page } from './pages/page.js';\nexport const m = page;\n",
      'packages/console/src/pages/page.tsx': "import { t } from '../../../server/src/core/tokens.js';\nexport const page = t;\n",
    });
    assert.notEqual(result.status, 0);
    assert.match(result.output, /verify-and-console-know-nothing-of-server: packages\/console\/src\/pages\/page\.tsx → packages\/server\/src\/core\/tokens\.ts/);
  });

  it('fails when an example imports server code or SDK internals', () => {
    const result = cruise(
      {
        'packages/server/src/http/server.ts': 'export const server = 1;\n',
        'packages/verify/src/verdict.ts': 'export const refuse = 1;\n',
        'examples/api/src/main.ts':
          "import { server } from '../../../packages/server/src/http/server.js';\nimport { refuse } from '../../../packages/verify/src/verdict.js';\nexport const e = [server, refuse];\n",
      },
      ['packages', 'examples'],
    );
    assert.notEqual(result.status, 0);
    assert.match(result.output, /examples-use-only-the-sdk: examples\/api\/src\/main\.ts → packages\/server\/src\/http\/server\.ts/);
    assert.match(result.output, /examples-use-only-the-sdk: examples\/api\/src\/main\.ts → packages\/verify\/src\/verdict\.ts/);
  });

  it('accepts an example importing the SDK by its entry point', () => {
    const result = cruise(
      {
        'packages/verify/src/index.ts': 'export const createVerifier = 1;\n',
        'examples/api/src/main.ts': "import { createVerifier } from '../../../packages/verify/src/index.js';\nexport const e = createVerifier;\n",
      },
      ['packages', 'examples'],
    );
    assert.equal(result.status, 0, result.output);
  });

  it('accepts core importing only its own modules', () => {
    const result = cruise({
      'packages/server/src/core/a.ts': 'export const a = 1;\n',
      'packages/server/src/core/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
    });
    assert.equal(result.status, 0, result.output);
  });
});
