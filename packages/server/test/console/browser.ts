import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const screenshotDir = join(repoRoot, 'test-output', 'console');
const chromiumPath = '/usr/bin/chromium';
const consoleDir = join(repoRoot, 'packages', 'console');

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSource(path) : stat.mtimeMs);
  }
  return newest;
}

/**
 * Builds the console when its dist is missing or older than its sources (`npm test` has just
 * built it; a lone `node scripts/run-tests.mjs packages/server/test/console` may not have).
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = join(consoleDir, 'dist', 'index.html');
  const fresh = () => {
    const sources = Math.max(newestSource(join(consoleDir, 'src')), newestSource(join(repoRoot, 'packages', 'rules', 'src')), statSync(join(consoleDir, 'index.html')).mtimeMs);
    return existsSync(index) && statSync(index).mtimeMs >= sources;
  };
  if (fresh()) return;
  // Test files run two at a time: one builds while the other waits (a build empties dist first).
  const lock = join(repoRoot, 'test-output', 'console-build.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for 3 minutes: remove it if no build is running`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (fresh()) return;
    const result = spawnSync('npm', ['run', 'build', '-w', '@tessera/console'], { cwd: repoRoot, stdio: 'inherit' });
    if (result.status !== 0) throw new Error('npm run build -w @tessera/console failed');
  } finally {
    rmdirSync(lock);
  }
}

/**
 * Why the browser tests cannot run here, or undefined. In CI a missing browser is a failure
 * (.ci/run installs Debian's chromium); locally the tests skip with this message.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  const message = `${chromiumPath} is missing: install Debian's browser with \`apt-get install -y chromium\` to run the console browser tests`;
  if (process.env['CI']) throw new Error(`CI: ${message}`);
  return message;
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
