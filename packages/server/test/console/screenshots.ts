// The README's console screenshots, taken in Chromium against a test server with a few
// people, tokens and audit events. Run once after a visible console change, from the root:
//
//   node scripts/build.mjs --if-stale
//   node --conditions=development --import tsx packages/server/test/console/screenshots.ts
//
// It writes docs/images/console-*.png. Not a test: nothing asserts; the images are looked at.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { adminPassword, startTestServer } from '../support/server.js';
import { createUser, loginAdmin } from '../support/fixtures.js';
import { ensureConsoleBuilt, launchBrowser, repoRoot } from './browser.js';

const out = (name: string) => join(repoRoot, 'docs', 'images', `console-${name}.png`);

await ensureConsoleBuilt();
const ts = await startTestServer();
const admin = await loginAdmin(ts);
const alice = await createUser(ts, admin, 'alice', ['member']);
const bob = await createUser(ts, admin, 'bob', ['member']);
const make = async (owner: string, name: string, extra: Record<string, unknown> = {}) => {
  const response = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { owner, name, scope: { kind: 'all' }, ...extra } });
  if (response.status !== 201) throw new Error(response.text);
  return response.body as { id: string; token: string };
};
await make(alice.id, 'ci-deploy', { scope: { kind: 'custom', endpoints: ['GET /plans', '/reports/*'] }, ip_allowlist: ['10.0.0.0/8'] });
await make(alice.id, 'nightly-export', { expires: '3D' });
await make(alice.id, 'laptop', { expires: '12h' });
const old = await make(alice.id, 'old-script', { expires: '90D' });
await ts.request('POST', `/api/v1/tokens/${old.id}/revoke`, { token: admin, body: { reason: 'replaced by ci-deploy' } });
await make(bob.id, 'grafana', { expires: '1Y' });
const renamed = await make(bob.id, 'metrics');
await ts.request('PATCH', `/api/v1/tokens/${renamed.id}`, { token: admin, body: { name: 'metrics-reader', ip_allowlist: ['192.168.1.0/24'] } });

const browser = await launchBrowser();
async function open(viewport: { width: number; height: number }, path: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${ts.url}/console${path}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(adminPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}

try {
  const desktop = { width: 1280, height: 800 };
  let page = await open(desktop, `/security/users/${alice.id}`);
  await page.getByRole('button', { name: 'Actions for laptop' }).waitFor();
  await page.screenshot({ path: out('user-page') });

  await page.getByRole('button', { name: 'Add token' }).click();
  const add = page.getByTestId('add-token-dialog');
  await add.getByLabel('Name', { exact: true }).fill('deploy-bot');
  await add.getByTestId('ip-allowlist').fill('10.0.0.0/8\n300.1.1.1\n\n192.168.1.10 - 192.168.1');
  await add.getByTestId('ip-allowlist').blur();
  await add.locator('.field-error').waitFor();
  await page.screenshot({ path: out('add-token-dialog') });

  page = await open(desktop, '/security/api-tokens');
  await page.getByRole('button', { name: 'Actions for grafana' }).waitFor();
  await page.screenshot({ path: out('api-tokens') });

  page = await open(desktop, '/security/audit?action=token.*');
  await page.getByTestId('audit-details').first().waitFor();
  await page.getByRole('link', { name: 'admin', exact: true }).first().waitFor();
  await page.screenshot({ path: out('audit') });

  page = await open({ width: 390, height: 844 }, `/security/users/${alice.id}`);
  await page.getByRole('button', { name: 'Actions for laptop' }).waitFor();
  await page.screenshot({ path: out('phone-tokens'), fullPage: false });
  console.log('wrote docs/images/console-{user-page,add-token-dialog,api-tokens,audit,phone-tokens}.png');
} finally {
  await browser.close();
  await ts.close();
}
