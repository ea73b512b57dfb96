// Builds what `tessera serve` runs: the TypeScript packages (tsc -b) and the console (Vite).
//
//   node scripts/build.mjs             build now (npm run build)
//   node scripts/build.mjs --if-stale  build only when a source is newer than the last build
//                                      (npm install's prepare, npm start, npm test)
//
// Several processes may run this at once (three `npm start` in one checkout): a lock directory
// lets one build while the others wait and then find the build current. The console is built
// into a temporary directory and swapped in by rename, so a server already running from this
// checkout never sees an empty or half-written packages/console/dist.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const stateDir = join(root, '.tessera-build');
const stampFile = join(stateDir, 'stamp.json');
const lockDir = join(stateDir, 'lock');
/**
 * @tessera/client, which the CLI's dist imports, found where its workspace link points: a test's
 * scratch copy of the sources links to this checkout's client instead of copying it.
 */
const clientDir = (() => {
  try {
    return relative(root, realpathSync(join(root, 'node_modules/@tessera/client')));
  } catch {
    return 'packages/client';
  }
})();

/** What the build reads: a change to any of them (an added or deleted file too) makes it stale. */
const inputs = [
  'packages/rules/src',
  `${clientDir}/src`,
  `${clientDir}/generated`,
  `${clientDir}/package.json`,
  `${clientDir}/tsconfig.json`,
  'packages/server/src',
  'packages/verify/src',
  'packages/console/src',
  'examples/protected-api/src',
  'packages/console/index.html',
  'packages/console/vite.config.ts',
  'tsconfig.base.json',
  'package-lock.json',
  'scripts/build.mjs',
  ...['rules', 'server', 'verify', 'console'].flatMap((name) => [`packages/${name}/package.json`, `packages/${name}/tsconfig.json`]),
  'examples/protected-api/tsconfig.json',
];
/** What the build writes that `tessera serve` needs; one missing makes the build stale. */
const outputs = ['packages/rules/dist/index.js', `${clientDir}/dist/index.js`, 'packages/server/dist/cli/main.js', 'packages/verify/dist/index.js', 'packages/console/dist/index.html'];

/** The newest modification time (ms) among the inputs; directories count, so a deletion does. */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return; // an optional input that does not exist
    }
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether the last build saw every input as it is now, and its outputs are all there. */
export function buildIsCurrent() {
  const stamp = readStamp();
  if (!stamp || typeof stamp.newestInput !== 'number') return false;
  if (!outputs.every((output) => existsSync(join(root, output)))) return false;
  return newestInput() <= stamp.newestInput;
}

function run(command, args, cwd = root) {
  const result = spawnSync(join(root, 'node_modules', '.bin', command), args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** The build itself; the caller holds the lock. */
function build() {
  // Taken before building: a file saved while the build runs is newer than the stamp, so the
  // next start rebuilds instead of serving a build that missed it.
  const seen = newestInput();
  // tsc -b trusts its .tsbuildinfo files: with an output deleted it would build nothing.
  const force = outputs.some((output) => !existsSync(join(root, output))) ? ['--force'] : [];
  // The CLI's dist imports @tessera/client's, so the client is built first (a project of its
  // own, not a reference in the server's tsconfig, since a scratch copy may not hold it).
  run('tsc', ['-b', ...force, clientDir]);
  run('tsc', ['-b', ...force, 'packages/server', 'packages/verify', 'examples/protected-api']);

  const consoleDir = join(root, 'packages/console');
  const next = join(consoleDir, `dist.next-${process.pid}`);
  const previous = join(consoleDir, `dist.previous-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  run('tsc', ['-p', 'tsconfig.json', '--noEmit'], consoleDir);
  run('vite', ['build', '--outDir', relative(consoleDir, next), '--emptyOutDir', '--logLevel', 'warn'], consoleDir);
  // Two renames, not a copy: a running server reads either the old build or the new one.
  const dist = join(consoleDir, 'dist');
  if (existsSync(dist)) renameSync(dist, previous);
  renameSync(next, dist);
  rmSync(previous, { recursive: true, force: true });

  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stampFile, JSON.stringify({ newestInput: seen, builtAt: new Date().toISOString() }) + '\n');
}

function processIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The lock is abandoned when its holder on this machine is gone (killed mid-build, say). */
function lockIsStale() {
  let owner;
  try {
    owner = JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8'));
  } catch {
    // Between mkdir and writing owner.json, or a holder that died there: give it a minute.
    try {
      return Date.now() - statSync(lockDir).mtimeMs > 60_000;
    } catch {
      return false; // released meanwhile
    }
  }
  return owner.hostname === hostname() && !processIsAlive(owner.pid);
}

function tryLock() {
  mkdirSync(stateDir, { recursive: true });
  try {
    mkdirSync(lockDir);
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    if (lockIsStale()) {
      // Renamed away before removal: of two processes that both saw it stale, only one wins the rename.
      const stale = `${lockDir}.stale-${process.pid}`;
      try {
        renameSync(lockDir, stale);
        rmSync(stale, { recursive: true, force: true });
      } catch {
        // another process took it first
      }
    }
    return false;
  }
  writeFileSync(join(lockDir, 'owner.json'), JSON.stringify({ pid: process.pid, hostname: hostname(), since: new Date().toISOString() }));
  return true;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Builds unless the build is current (`force` builds anyway), holding the lock while it does.
 * A process that waited for another's build checks again and, usually, has nothing to do.
 */
export async function ensureBuilt({ force = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  if (!force && buildIsCurrent()) return { built: false };
  let waiting = false;
  while (!tryLock()) {
    if (!waiting) log('tessera: another process is building; waiting for it');
    waiting = true;
    await sleep(200);
  }
  try {
    if (!force || waiting) {
      if (buildIsCurrent()) return { built: false };
    }
    log('tessera: building the server, SDK and console');
    const started = Date.now();
    build();
    log(`tessera: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { built: true };
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await ensureBuilt({ force: !process.argv.includes('--if-stale') });
  } catch (error) {
    process.stderr.write(`tessera: build failed: ${error.message}\n`);
    process.exit(1);
  }
}
