import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './processes.js';

/**
 * `npx tessera` right after `npm install`: npm links a bin only when its file exists at link
 * time, before `prepare` builds, so the bin is a committed file that loads the build.
 */
describe('the tessera bin', () => {
  const serverDir = join(repoRoot, 'packages/server');
  const manifest = JSON.parse(readFileSync(join(serverDir, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };

  it('is a committed file outside dist/', () => {
    const bin = manifest.bin['tessera'];
    assert.ok(bin && !bin.replace(/^\.\//, '').startsWith('dist/'), `bin ${bin} is not built output`);
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', join(serverDir, bin)], { cwd: repoRoot });
    assert.equal(tracked.status, 0, `${bin} is tracked by git`);
  });

  it('runs as npx tessera from the checkout, without asking the registry', () => {
    const version = execFileSync('npx', ['--no-install', 'tessera', '--version'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(version.trim(), manifest.version);
  });

  it('says to build when the build is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bin-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(join(serverDir, manifest.bin['tessera'] as string), join(dir, 'bin', 'tessera.js'));
      const result = spawnSync(process.execPath, [join(dir, 'bin', 'tessera.js'), '--version'], { encoding: 'utf8' });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /not built .*run `npm run build`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
