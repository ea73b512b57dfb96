import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const screenshotDir = join(repoRoot, 'test-output', 'console');
const chromiumPath = '/usr/bin/chromium';

/**
 * Builds when the build is missing or older than its sources (`npm test` has just built it; a
 * lone `node scripts/run-tests.mjs packages/server/test/console` may not have), with
 * scripts/build.mjs: its lock lets one test file build while another waits.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs'), '--if-stale'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('node scripts/build.mjs --if-stale failed');
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

/** A new browser context at `viewport`, logged in to the console at `baseUrl`; page errors fail the test. */
export async function logIn(browser: Browser, baseUrl: string, username: string, password: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
  return { context, page };
}
