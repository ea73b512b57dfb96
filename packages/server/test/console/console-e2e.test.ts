import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { createUser, loginAdmin, userPassword, type TestPrincipal } from '../support/fixtures.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser, screenshotDir, logIn } from './browser.js';

const unavailable = browserUnavailable();
if (unavailable) console.log(`# skipping the console browser tests: ${unavailable}`);

/**
 * The web console in Debian's Chromium against the real server on in-memory PGlite: login,
 * the Add token dialog with inline validation, the one-time dialog, edit, revoke, the API
 * tokens admin page, and what a member may see.
 */
describe('web console in a browser', { skip: unavailable, timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser;
  let adminToken: string;
  let alice: TestPrincipal;
  let bob: TestPrincipal;

  before(async () => {
    await ensureConsoleBuilt();
    ts = await startTestServer();
    adminToken = await loginAdmin(ts);
    alice = await createUser(ts, adminToken, 'alice', ['member']);
    bob = await createUser(ts, adminToken, 'bob', ['member']);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  const loggedIn = (username: string, password: string, viewport?: { width: number; height: number }) => logIn(browser, ts.url, username, password, viewport);

  /** The message the server itself gives for a token create body (as admin, for alice). */
  async function serverDetail(body: Record<string, unknown>): Promise<string> {
    const response = await ts.request('POST', '/api/v1/tokens', { token: adminToken, body: { owner: alice.id, scope: { kind: 'all' }, ...body } });
    assert.ok(response.status >= 400, response.text);
    return response.body.detail as string;
  }

  const row = (page: Page, name: string): Locator => page.locator('tr', { has: page.getByText(name, { exact: true }) });

  it('admin: creates a custom-scope token on a user page, sees it once, edits and revokes it, finds it on the API tokens page', async () => {
    const { context, page } = await loggedIn('admin', adminPassword);

    // Security → Users → alice → API tokens
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'alice' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 2 }).waitFor();
    await page.getByText('alice has no API tokens yet.').waitFor();

    await page.getByRole('button', { name: 'Add token' }).click();
    const dialog = page.getByTestId('add-token-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.evaluate((el) => el.contains(document.activeElement)), true, 'focus moves into the dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('ci-deploy');
    await dialog.getByLabel('Expiry', { exact: true }).fill('180D');
    await dialog.getByLabel('Scope').selectOption('custom');

    // Inline validation on leaving the field, in the server's own words (named by the line the
    // person sees rather than the position in what is sent), before anything is sent.
    const endpoints = dialog.getByLabel('Allowed endpoints');
    await endpoints.fill('plans');
    assert.equal(await dialog.locator('.field-error').count(), 0, 'nothing is said while typing');
    await endpoints.blur();
    const endpointMessage = await serverDetail({ scope: { kind: 'custom', endpoints: ['plans'] } });
    await dialog.getByText(`line 1: ${endpointMessage.replace(' at position 1', '')}`, { exact: true }).waitFor();
    assert.equal(await endpoints.getAttribute('aria-invalid'), 'true');
    const ips = dialog.getByLabel('IP allowlist');
    await ips.fill('010.0.0.1');
    await ips.blur();
    const ipMessage = await serverDetail({ ip_allowlist: ['010.0.0.1'] });
    assert.match(ipMessage, /010\.0\.0\.1/);
    await dialog.getByText(`line 1: ${ipMessage.replace(' at position 1', '')}`, { exact: true }).waitFor();

    await endpoints.fill('GET /plans\n/reports/*');
    await ips.fill('10.0.0.0/8\n192.168.1.10 - 192.168.1.20');
    assert.equal(await dialog.locator('.field-error').count(), 0, 'no inline error left');
    await dialog.screenshot({ path: join(screenshotDir, 'add-token-dialog.png') });
    await page.screenshot({ path: join(screenshotDir, 'add-token-dialog-page.png') });
    await dialog.getByRole('button', { name: 'Create token' }).click();

    // The one-time dialog: the token (and the first access token) with copy buttons.
    const once = page.getByTestId('one-time-dialog');
    await once.waitFor();
    await once.getByText('this is the only time it is shown').waitFor();
    const secret = await once.getByTestId('new-token').inputValue();
    const accessToken = await once.getByTestId('new-access-token').inputValue();
    assert.match(secret, /^tsr_/);
    assert.ok(accessToken.split('.').length === 3, 'a JWT access token');
    assert.equal(await once.getByRole('button', { name: 'Copy' }).count(), 2);
    await once.getByRole('button', { name: 'Copy' }).first().click();
    await once.getByText(/Copied|Copy failed/).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'one-time-dialog.png') });
    await once.getByRole('button', { name: /I have stored it/ }).click();
    await once.waitFor({ state: 'detached' });

    // The API agrees: a custom scope with the endpoints and the range, owned by alice.
    const listed = await ts.request('GET', `/api/v1/tokens?all=true&owner=${alice.id}`, { token: adminToken });
    const created = listed.body.items.find((t: { name: string }) => t.name === 'ci-deploy');
    assert.deepEqual(created.scope, { kind: 'custom', endpoints: ['GET /plans', '/reports/*'] });
    assert.deepEqual(created.ip_allowlist, ['10.0.0.0/8', '192.168.1.10 - 192.168.1.20']);

    // After a reload the token is listed, its secret nowhere on the page or in storage.
    await page.reload();
    await row(page, 'ci-deploy').waitFor();
    await page.screenshot({ path: join(screenshotDir, 'user-page.png') });
    const secretPart = secret.split('.').pop() as string;
    const html = await page.content();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    for (const text of [html, stored]) {
      assert.ok(!text.includes(secret) && !text.includes(secretPart), 'the token secret is not on the page after reload');
      assert.ok(!text.includes(accessToken), 'the access token is not on the page after reload');
    }
    assert.match(await row(page, 'ci-deploy').innerText(), /Custom \(2 endpoints\)[\s\S]*10\.0\.0\.0\/8[\s\S]*Renewable until[\s\S]*Never used[\s\S]*active/);

    // Edit its name from the row's action menu.
    await page.getByRole('button', { name: 'Actions for ci-deploy' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const edit = page.getByTestId('edit-token-dialog');
    await edit.getByText('Renewable until', { exact: true }).waitFor();
    await edit.getByLabel('Name', { exact: true }).fill('ci-deploy-renamed');
    await edit.getByRole('button', { name: 'Save' }).click();
    await row(page, 'ci-deploy-renamed').waitFor();

    // Revoke it, with confirmation; the status changes.
    await page.getByRole('button', { name: 'Actions for ci-deploy-renamed' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke ci-deploy-renamed?' }).getByRole('button', { name: 'Revoke token' }).click();
    await row(page, 'ci-deploy-renamed').locator('.badge', { hasText: 'revoked' }).waitFor();
    await context.close();
  });

  it('admin: the API tokens page searches, sorts by a column, saves the search and applies it again', async () => {
    for (const name of ['ci-zulu', 'ci-alpha', 'other-token']) {
      const response = await ts.request('POST', '/api/v1/tokens', { token: adminToken, body: { owner: bob.id, name, scope: { kind: 'all' } } });
      assert.equal(response.status, 201, response.text);
    }
    const { context, page } = await loggedIn('admin', adminPassword);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    const table = page.getByTestId('api-tokens-table');
    await row(page, 'other-token').waitFor();

    // Search: the revoked, renamed token is found by name, and other-token is gone.
    await page.getByTestId('token-search').fill('ci-');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await row(page, 'ci-deploy-renamed').waitFor();
    await row(page, 'other-token').waitFor({ state: 'detached' });
    const names = () => table.locator('tbody tr td:first-child strong').allInnerTexts();

    // Sort by clicking the Name header: ascending, then descending.
    await table.getByRole('button', { name: /^Name/ }).click();
    await page.waitForURL(/sort=name/);
    await table.locator('th[aria-sort=ascending]', { hasText: 'Name' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=api-tokens-table] tbody tr').length === 3);
    assert.deepEqual(await names(), ['ci-alpha', 'ci-deploy-renamed', 'ci-zulu']);
    await table.getByRole('button', { name: /^Name/ }).click();
    await table.locator('th[aria-sort=descending]', { hasText: 'Name' }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=api-tokens-table] tbody tr strong')?.textContent === 'ci-zulu');
    assert.deepEqual(await names(), ['ci-zulu', 'ci-deploy-renamed', 'ci-alpha']);
    await page.screenshot({ path: join(screenshotDir, 'api-tokens-page.png') });

    // Save the search, shared with the organization.
    await page.getByRole('button', { name: 'Save search' }).click();
    const save = page.getByTestId('save-search-dialog');
    await save.getByLabel('Name').fill('CI tokens');
    await save.getByLabel('Share with everyone in the organization').check();
    await save.getByRole('button', { name: 'Save search' }).click();
    await save.waitFor({ state: 'detached' });
    const saved = await ts.request('GET', '/api/v1/saved-searches', { token: adminToken });
    assert.deepEqual(saved.body.items.map((s: { name: string; shared: boolean; query: object }) => [s.name, s.shared, s.query]), [['CI tokens', true, { all: 'true', q: 'ci-', sort: '-name' }]]);

    // Clear, then apply the saved search again.
    await page.getByRole('button', { name: 'Clear' }).click();
    await row(page, 'other-token').waitFor();
    await page.getByTestId('saved-searches').selectOption({ label: 'CI tokens (shared)' });
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.waitForURL(/q=ci-/);
    await row(page, 'other-token').waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.querySelector('[data-testid=api-tokens-table] tbody tr strong')?.textContent === 'ci-zulu');
    assert.deepEqual(await names(), ['ci-zulu', 'ci-deploy-renamed', 'ci-alpha']);

    // Revoke from a row's action menu.
    await page.getByRole('button', { name: 'Actions for ci-alpha' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: 'Revoke ci-alpha?' }).getByRole('button', { name: 'Revoke token' }).click();
    await row(page, 'ci-alpha').locator('.badge', { hasText: 'revoked' }).waitFor();
    await context.close();
  });

  it('a create refused by the server (token limit) shows the server\'s reason in the dialog', async () => {
    const policy = await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { max_tokens_per_user: 1 } });
    assert.equal(policy.status, 200, policy.text);
    try {
      const first = await ts.request('POST', '/api/v1/tokens', { token: alice.token, body: { name: 'first', scope: { kind: 'all' } } });
      assert.equal(first.status, 201, first.text);
      const refusal = await ts.request('POST', '/api/v1/tokens', { token: alice.token, body: { name: 'second', scope: { kind: 'all' } } });
      assert.equal(refusal.body.code, 'TOKEN_LIMIT_REACHED');

      const { context, page } = await loggedIn('alice', userPassword);
      await page.getByRole('button', { name: 'Add token' }).click();
      const dialog = page.getByTestId('add-token-dialog');
      await dialog.getByLabel('Name', { exact: true }).fill('second');
      await dialog.getByRole('button', { name: 'Create token' }).click();
      const problem = dialog.getByTestId('dialog-problem');
      await problem.waitFor();
      assert.match(await problem.innerText(), new RegExp(refusal.body.detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.equal(await dialog.isVisible(), true, 'the dialog stays open');
      await context.close();
    } finally {
      await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { max_tokens_per_user: 50 } });
    }
  });

  it('a member sees no admin pages in the navigation and a plain refusal on their URLs', async () => {
    const { context, page } = await loggedIn('bob', userPassword);
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Profile']);
    // bob's own tokens (created by the admin above) are on his profile, without secrets.
    await row(page, 'other-token').waitFor();

    for (const [path, apiPath] of [
      ['/console/security/api-tokens', '/api/v1/tokens?all=true'],
      ['/console/security/audit', '/api/v1/audit-events'],
    ] as const) {
      const refusal = await ts.request('GET', apiPath, { token: bob.token });
      assert.equal(refusal.status, 403, refusal.text);
      await page.goto(`${ts.url}${path}`);
      // The console says it plainly, without the page's filters or the server's right names.
      const problem = page.getByTestId('refusal');
      await problem.getByText('You do not have access to this page.').waitFor();
      assert.ok(!(await problem.innerText()).includes(refusal.body.detail));
      assert.equal(await page.getByRole('search').count(), 0);
      assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Profile']);
    }
    await context.close();
  });

  it('works in a narrow window: the menu opens the navigation and dialogs fit', async () => {
    const { context, page } = await loggedIn('admin', adminPassword, { width: 390, height: 800 });
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.isVisible(), false, 'navigation is folded away');
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'API tokens' }).click();
    await page.getByTestId('api-tokens-table').waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scrolling of the page');
    await page.goto(`${ts.url}/console/profile`);
    await page.getByRole('button', { name: 'Add token' }).click();
    const box = await page.getByTestId('add-token-dialog').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, 'the dialog fits the window');
    // Escape closes the dialog and focus returns to the button that opened it.
    await page.keyboard.press('Escape');
    await page.getByTestId('add-token-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Add token');
    await context.close();
  });

  it('logs out: the session ends and the login form is back', async () => {
    const { context, page } = await loggedIn('alice', userPassword);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Tessera' }).waitFor();
    await page.goto(`${ts.url}/console/profile`);
    await page.getByRole('heading', { name: 'Log in to Tessera' }).waitFor();
    await context.close();
  });
});
