import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TestClock, adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser, screenshotDir } from './browser.js';

const unavailable = browserUnavailable();
const renewedAdminPassword = 'the admin passphrase, renewed';

/** Service accounts, apps, presets, policy and the audit log, driven in Chromium as the admin. */
describe('web console admin pages in a browser', { skip: unavailable, timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  let adminToken: string;
  const clock = new TestClock();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-console-presets-'));

  before(async () => {
    await ensureConsoleBuilt();
    const presetsFile = join(dir, 'presets.json');
    writeFileSync(
      presetsFile,
      JSON.stringify({
        presets: [{ name: 'reports-read', description: 'Read the reports', endpoints: ['GET /reports/*'], mode: 'refreshable', scope_locked: true, default_lifetime: '30D' }],
      }),
    );
    ts = await startTestServer({ clock, env: { TESSERA_PRESETS_FILE: presetsFile } });
    adminToken = await loginAdmin(ts);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    await page.goto(`${ts.url}/console/security/service-accounts`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Back on the page asked for, after logging in.
    await page.getByRole('heading', { name: 'Service accounts', level: 1 }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await ts?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a service account and gives it a preset token whose scope the edit dialog keeps locked', async () => {
    await page.getByText('No service accounts yet.').waitFor();
    await page.getByRole('button', { name: 'Add service account' }).click();
    const add = page.getByRole('dialog', { name: 'Add service account' });
    await add.getByLabel('Username').fill('ci-bot');
    await add.getByLabel('IP allowlist').fill('10.0.0.0/8\n300.1.1.1');
    await add.getByText(/line 2: Invalid IP entry "300\.1\.1\.1"/).waitFor();
    await add.getByLabel('IP allowlist').fill('10.0.0.0/8');
    await add.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /ci-bot/, level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Add token' }).click();
    const dialog = page.getByTestId('add-token-dialog');
    await dialog.getByLabel('Scope').selectOption('reports-read');
    await dialog.getByText('Endpoints of reports-read: GET /reports/*').waitFor();
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const once = page.getByTestId('one-time-dialog');
    const secret = await once.getByTestId('new-token').inputValue();
    await once.getByRole('button', { name: /I have stored it/ }).click();
    await page.getByText('Preset: reports-read').waitFor();
    assert.ok(!(await page.content()).includes(secret.split('.').pop() as string));

    await page.getByRole('button', { name: 'Actions for ci-bot_api_token' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const edit = page.getByTestId('edit-token-dialog');
    await edit.getByText('The preset reports-read locks its scope.').waitFor();
    assert.equal(await edit.getByLabel('Scope').isDisabled(), true);
    await edit.getByRole('button', { name: 'Cancel' }).click();
    // Focus goes back to the row's menu button, not to the page's start.
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Actions for ci-bot_api_token');

    // Rotate with a grace period: the new secret once.
    await page.getByRole('button', { name: 'Actions for ci-bot_api_token' }).click();
    await page.getByRole('menuitem', { name: 'Rotate' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate ci-bot_api_token' });
    await rotate.getByLabel('Grace period for the old secret').fill('1h');
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    const rotated = await page.getByTestId('one-time-dialog').getByTestId('new-token').inputValue();
    assert.notEqual(rotated, secret);
    await page.getByText('The old secret keeps working for 1h.').waitFor();
    await page.getByRole('button', { name: /I have stored it/ }).click();
  });

  it('creates an app, shows its secret once, regenerates it', async () => {
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByText(/No apps yet/).waitFor();
    await page.getByRole('button', { name: 'Add app' }).click();
    const add = page.getByRole('dialog', { name: 'Add app' });
    await add.getByLabel('Name').fill('billing');
    await add.getByLabel('Access-token lifetime (seconds)').fill('30');
    await add.getByLabel('Access-token lifetime (seconds)').blur();
    await add.getByText(/from 60 to 2592000/).waitFor();
    await add.getByLabel('Access-token lifetime (seconds)').fill('600');
    await add.getByRole('button', { name: 'Create app' }).click();
    const once = page.getByTestId('one-time-dialog');
    const first = await once.getByTestId('client-secret').inputValue();
    await once.getByRole('button', { name: /I have stored it/ }).click();
    await page.getByRole('cell', { name: '10m' }).waitFor();

    await page.getByRole('button', { name: 'Actions for billing' }).click();
    await page.getByRole('menuitem', { name: 'Regenerate secret' }).click();
    await page.getByRole('dialog', { name: /Regenerate the secret of billing/ }).getByRole('button', { name: 'Regenerate secret' }).click();
    const second = await page.getByTestId('one-time-dialog').getByTestId('client-secret').inputValue();
    assert.notEqual(second, first);
    await page.getByRole('button', { name: /I have stored it/ }).click();
    const html = await page.content();
    assert.ok(!html.includes(first) && !html.includes(second));
  });

  it('changes the policy with durations checked inline, and shows the server\'s field errors', async () => {
    await page.getByRole('link', { name: 'Policy' }).click();
    const idle = page.getByLabel('Idle timeout');
    await idle.fill('soon');
    await idle.blur();
    await page.getByText(/^Invalid duration "soon"/).waitFor();
    await idle.fill('30D');
    // A value the rules accept but the server refuses: its detail appears beside the field.
    const ttl = page.getByLabel('Access-token lifetime');
    await ttl.fill('31D');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('access_token_ttl_seconds must be a whole number of seconds from 60 (1m) to 2592000 (30D)').waitFor();
    assert.equal(await ttl.getAttribute('aria-invalid'), 'true');
    await ttl.fill('15m');
    await page.getByLabel('Token limit per user').fill('7');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('.success, .problem, .field-error').first().waitFor();
    assert.match(await page.locator('.success, .problem, .field-error').first().innerText(), /Policy saved\./);
    const policy = await ts.request('GET', '/api/v1/policy', { token: adminToken });
    assert.equal(policy.body.idle_timeout_seconds, 30 * 86400);
    assert.equal(policy.body.max_tokens_per_user, 7);
  });

  it('sets a renewable period of none where tokens without expiry are allowed, and then a token made without an expiry never expires', async () => {
    await page.getByRole('link', { name: 'Policy' }).click();
    const renewable = page.getByLabel('Default renewable period');
    await renewable.fill('');
    await page.getByRole('button', { name: 'Save policy' }).click();
    // The server refuses while tokens without expiry are not allowed, beside the field.
    await page.getByText(/A renewable period of "none" makes tokens never expire by default/).waitFor();
    assert.equal(await renewable.getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Allow tokens without expiry').check();
    await page.getByLabel('Access-token lifetime').fill('30D');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved.').waitFor();
    const policy = (await ts.request('GET', '/api/v1/policy', { token: adminToken })).body;
    assert.equal(policy.renewable_period_seconds, null);
    assert.equal(policy.access_token_ttl_seconds, 2_592_000, 'access tokens up to 30 days');

    await page.goto(`${ts.url}/console/profile`);
    await page.getByRole('button', { name: 'Add token' }).click();
    const dialog = page.getByTestId('add-token-dialog');
    await dialog.getByText(/Empty: no expiry \(the policy default\)/).waitFor();
    // A name over the limit is refused visibly, not cut short.
    await dialog.getByLabel('Name').fill('n'.repeat(500));
    assert.equal((await dialog.getByLabel('Name').inputValue()).length, 500, 'nothing is cut');
    await dialog.getByText('500 / 100 characters').waitFor();
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await dialog.getByText('A name has at most 100 characters; this one has 500. Shorten it by 400.').waitFor();
    assert.equal(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    await dialog.getByLabel('Name').fill('no-expiry-default');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const once = page.getByTestId('one-time-dialog');
    await once.getByRole('button', { name: /I have stored it/ }).click();
    const row = page.getByRole('row', { name: /no-expiry-default/ });
    await row.getByText('Never', { exact: true }).waitFor();
    const listed = (await ts.request('GET', '/api/v1/tokens', { token: adminToken })).body.items.find((t: { name: string }) => t.name === 'no-expiry-default');
    assert.equal(listed.expires_at, null);
    await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { renewable_period_seconds: 90 * 86_400, allow_no_expiry: false, access_token_ttl_seconds: 1800 } });
  });

  it('lists the audit log with filters and offers the export', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByTestId('audit-table').waitFor();
    await page.getByLabel('Action').fill('token.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=token/);
    const actions = await page.getByTestId('audit-table').locator('tbody tr td:nth-child(2)').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((action) => action.startsWith('token.')), actions.join());
    const href = await page.getByRole('link', { name: 'Export (JSON Lines)' }).getAttribute('href');
    assert.equal(href, '/api/v1/audit-events/export?action=token.*');
    const exported = await page.evaluate(async (url) => (await fetch(url)).text(), href as string);
    assert.ok(exported.trim().split('\n').every((line) => (JSON.parse(line) as { action: string }).action.startsWith('token.')));
    await page.screenshot({ path: join(screenshotDir, 'audit-page.png') });
  });

  it('asks for a new password at login when the policy has expired the old one, and logs in with it', async () => {
    await createUser(ts, adminToken, 'dave');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const own = await context.newPage();
    own.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    // Passwords now expire after a day; two days on, dave's (and the admin's) has.
    const policy = await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { password_expiry_seconds: 86_400 } });
    assert.equal(policy.status, 200, policy.text);
    clock.advance(2 * 86_400);
    try {
      await own.goto(`${ts.url}/console/profile`);
      await own.getByLabel('Username').fill('dave');
      await own.getByLabel('Password').fill(userPassword);
      await own.getByRole('button', { name: 'Log in' }).click();
      await own.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await own.getByText(/Your password has expired/).waitFor();
      await own.getByLabel('New password', { exact: true }).fill(userPassword);
      await own.getByLabel('New password again').fill(userPassword);
      await own.getByRole('button', { name: 'Change password and log in' }).click();
      // The server's refusal, next to the field it names.
      await own.getByText('The new password must differ from the current one').waitFor();
      await own.getByLabel('New password', { exact: true }).fill('dave has a new passphrase');
      await own.getByLabel('New password again').fill('dave has a new passphrase');
      await own.getByRole('button', { name: 'Change password and log in' }).click();
      await own.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'dave', password: 'dave has a new passphrase' } })).status, 201);
    } finally {
      await context.close();
      // The admin's own password expired too: renew it so the tests after this one can act.
      const renewed = await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'admin', password: adminPassword, new_password: renewedAdminPassword } });
      assert.equal(renewed.status, 201, renewed.text);
      adminToken = renewed.body.session_token;
      await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { password_expiry_seconds: null } });
    }
  });

  it('lets a person change their own password on the Profile page, with the server refusal shown', async () => {
    await createUser(ts, adminToken, 'carol');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const own = await context.newPage();
    own.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    try {
      await own.goto(`${ts.url}/console/profile/password`);
      await own.getByLabel('Username').fill('carol');
      await own.getByLabel('Password').fill(userPassword);
      await own.getByRole('button', { name: 'Log in' }).click();
      await own.getByRole('heading', { name: 'Change password' }).waitFor();
      const next = 'a brand new long passphrase';
      await own.getByLabel('Current password').fill('not my password at all');
      await own.getByLabel('New password', { exact: true }).fill(next);
      await own.getByLabel('New password again').fill(next);
      await own.getByRole('button', { name: 'Change password' }).click();
      // The server's refusal, next to the field it names.
      await own.locator('.field-error, .problem').first().waitFor();
      assert.match(await own.locator('.field-error, .problem').first().innerText(), /current password/i);
      await own.getByLabel('Current password').fill(userPassword);
      await own.getByRole('button', { name: 'Change password' }).click();
      await own.getByText('Password changed.').waitFor();
      assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'carol', password: userPassword } })).status, 401, 'the old password no longer works');
      assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'carol', password: next } })).status, 201, 'the new one does');
    } finally {
      await context.close();
    }
  });
});
