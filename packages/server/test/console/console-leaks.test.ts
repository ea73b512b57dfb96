import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { createUser, loginAdmin } from '../support/fixtures.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser } from './browser.js';

const unavailable = browserUnavailable();

/** SPEC 9 in the console: revoke reasons, expiry warnings, recent addresses, "Revoke all". */
describe('web console: leaked and expiring tokens, in a browser', { skip: unavailable, timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  let admin: string;
  let bobId: string;
  const tokens: Record<string, { id: string; token: string }> = {};

  before(async () => {
    await ensureConsoleBuilt();
    ts = await startTestServer({ env: { TESSERA_TRUSTED_PROXIES: '127.0.0.1,::1' } });
    admin = await loginAdmin(ts);
    bobId = (await createUser(ts, admin, 'bob', ['member'])).id;
    for (const [name, expires] of [['soon', '5D'], ['later', '90D'], ['leaky', '90D']] as const) {
      const response = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name, owner: 'bob', expires, scope: { kind: 'all' } } });
      assert.equal(response.status, 201, response.text);
      tokens[name] = response.body;
    }
    for (const ip of ['198.51.100.7', '203.0.113.9']) {
      const used = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens['later']!.token }, { 'x-forwarded-for': ip });
      assert.equal(used.status, 200, used.text);
    }
    const leaked = await ts.request('POST', '/api/v1/tokens/revoke-by-value', { token: admin, body: { token: tokens['leaky']!.token, reason: 'leaked' } });
    assert.equal(leaked.status, 200, leaked.text);
    await ts.server.container.usage.flush();

    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    await page.goto(`${ts.url}/console/security/users/${bobId}`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: /bob/, level: 1 }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  const row = (name: string) => page.locator(`tr[data-token-id="${tokens[name]!.id}"]`);

  it('shows the leaked reason, the expiry warning and the recent addresses', async () => {
    await row('leaky').getByTestId('revoke-reason').getByText('Leaked: reported by secret scanning').waitFor();
    await row('soon').getByTestId('expiry-warning').getByText('Renewal ends in 5 days').waitFor();
    assert.equal(await row('later').getByTestId('expiry-warning').count(), 0, 'no warning 90 days out');
    await row('later').getByTestId('recent-ips').getByText('also 198.51.100.7').waitFor();
  });

  it('revokes all of a principal\'s tokens after confirmation, showing the cutoff reason', async () => {
    await page.getByRole('button', { name: 'Revoke all' }).click();
    const dialog = page.getByRole('dialog', { name: "Revoke all of bob's tokens?" });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await ts.request('GET', `/api/v1/tokens/${tokens['soon']!.id}`, { token: admin })).body.status, 'active', 'cancel changes nothing');

    await page.getByRole('button', { name: 'Revoke all' }).click();
    await page.getByRole('dialog', { name: "Revoke all of bob's tokens?" }).getByRole('button', { name: 'Revoke all tokens' }).click();
    await row('soon').getByTestId('revoke-reason').getByText('Revoked with every token issued before a cutoff').waitFor();
    await row('later').getByTestId('revoke-reason').getByText('Revoked with every token issued before a cutoff').waitFor();
    await row('leaky').getByTestId('revoke-reason').getByText('Leaked: reported by secret scanning').waitFor();
    for (const name of ['soon', 'later']) assert.equal((await ts.request('GET', `/api/v1/tokens/${tokens[name]!.id}`, { token: admin })).body.revoke_reason, 'cutoff');
    assert.equal(await page.getByRole('button', { name: 'Revoke all' }).count(), 0, 'nothing left to revoke');
  });
});
