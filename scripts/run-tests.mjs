// Runs every test file with node's own test runner. Node 20's `--test` takes no globs, so the
// files are listed here. The `development` condition makes workspace packages resolve to their
// TypeScript sources, which tsx compiles on the fly.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['packages', 'examples', 'sdks'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
}
for (const root of roots) statSync(root).isDirectory() ? walk(root) : files.push(root);
files.sort();

const result = spawnSync(
  process.execPath,
  ['--conditions=development', '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
