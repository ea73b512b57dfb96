// npm pack -w @tessera/server: what goes into the tarball besides the package's own files.
//
//   prepack   build when stale, then copy the built console (without source maps) into
//             packages/server/console, where http/console.ts looks when @tessera/console is
//             not installed beside the server
//   postpack  remove that copy, so the checkout serves packages/console/dist again
//
// @tessera/rules, a workspace package that is not published, travels as a bundled dependency
// (bundleDependencies in packages/server/package.json), so `npm install -g <tarball>` finds it
// without a registry. npm bundles only what is in the package's own node_modules, and the
// workspace link lives in the root one, so prepack copies the built package there (postpack
// removes it). Its sources are copied too, though its `files` keeps them out of the tarball:
// meanwhile the checkout's tests, which resolve it by the development condition to src/, see
// the same code.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const packaged = join(root, 'packages/server/console');
const bundledRules = join(root, 'packages/server/node_modules/@tessera/rules');
const noMaps = (source) => !source.endsWith('.map');

const step = process.argv[2];
if (step === 'prepack') {
  await ensureBuilt();
  rmSync(packaged, { recursive: true, force: true });
  cpSync(join(root, 'packages/console/dist'), packaged, { recursive: true, filter: noMaps });
  if (!existsSync(join(packaged, 'index.html'))) throw new Error('the console build has no index.html');
  rmSync(bundledRules, { recursive: true, force: true });
  for (const part of ['package.json', 'src', 'dist']) cpSync(join(root, 'packages/rules', part), join(bundledRules, part), { recursive: true, filter: noMaps });
} else if (step === 'postpack') {
  rmSync(packaged, { recursive: true, force: true });
  rmSync(dirname(bundledRules), { recursive: true, force: true });
} else {
  throw new Error(`usage: pack-server.mjs prepack|postpack (got ${step})`);
}
