// npm pack -w @tessera/server: what goes into the tarball besides the package's own files.
//
//   prepack   build when stale, then copy the built console (without source maps) into
//             packages/server/console, where http/console.ts looks when @tessera/console is
//             not installed beside the server
//   postpack  remove that copy, so the checkout serves packages/console/dist again
//
// @tessera/rules and @tessera/client (the CLI's way to the API), workspace packages that are not
// published, travel as bundled dependencies (bundleDependencies in packages/server/package.json),
// so `npm install -g <tarball>` finds them without a registry. npm bundles only what is in the
// package's own node_modules, and the workspace links live in the root one, so prepack copies
// the built packages there (postpack removes them). Their sources are copied too, though their
// `files` keep them out of the tarball: meanwhile the checkout's tests, which resolve them by the
// development condition to src/, see the same code. npm installs nothing for a bundled package:
// what the client needs at run time (openapi-fetch and its helpers) is bundled beside it, its
// built files only.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const packaged = join(root, 'packages/server/console');
const bundled = join(root, 'packages/server/node_modules/@tessera');
/** Each bundled package and what of it is copied; its own `files` decides what is packed. */
const bundles = { rules: ['package.json', 'src', 'dist'], client: ['package.json', 'src', 'dist', 'generated'] };
const noMaps = (source) => !source.endsWith('.map');
const serverModules = join(root, 'packages/server/node_modules');

/** The registry packages the bundled ones depend on, transitively, as installed in the root node_modules. */
function runtimeDependencies() {
  const found = new Set();
  const visit = (manifest) => {
    for (const name of Object.keys(JSON.parse(readFileSync(manifest, 'utf8')).dependencies ?? {})) {
      if (name.startsWith('@tessera/') || found.has(name)) continue;
      found.add(name);
      visit(join(root, 'node_modules', name, 'package.json'));
    }
  };
  for (const name of Object.keys(bundles)) visit(join(root, 'packages', name, 'package.json'));
  return [...found];
}

const step = process.argv[2];
if (step === 'prepack') {
  await ensureBuilt();
  rmSync(packaged, { recursive: true, force: true });
  cpSync(join(root, 'packages/console/dist'), packaged, { recursive: true, filter: noMaps });
  if (!existsSync(join(packaged, 'index.html'))) throw new Error('the console build has no index.html');
  for (const [name, parts] of Object.entries(bundles)) {
    rmSync(join(bundled, name), { recursive: true, force: true });
    for (const part of parts) cpSync(join(root, 'packages', name, part), join(bundled, name, part), { recursive: true, filter: noMaps });
  }
  for (const name of runtimeDependencies()) {
    rmSync(join(serverModules, name), { recursive: true, force: true });
    for (const part of ['package.json', 'dist', 'LICENSE']) {
      const from = join(root, 'node_modules', name, part);
      if (existsSync(from)) cpSync(from, join(serverModules, name, part), { recursive: true, filter: noMaps });
    }
  }
} else if (step === 'postpack') {
  rmSync(packaged, { recursive: true, force: true });
  rmSync(bundled, { recursive: true, force: true });
  for (const name of runtimeDependencies()) rmSync(join(serverModules, name), { recursive: true, force: true });
} else {
  throw new Error(`usage: pack-server.mjs prepack|postpack (got ${step})`);
}
