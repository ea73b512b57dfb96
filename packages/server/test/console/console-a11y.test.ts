import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { a11yViolations, formatViolations } from './a11y.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser } from './browser.js';

const unavailable = browserUnavailable();

const viewports = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

/**
 * axe-core (WCAG 2.2 A/AA and best practices) on every page and dialog state of the console, at
 * desktop and phone width: each page, each create/edit/rotate/revoke dialog, a dialog showing an
 * error, the one-time secret, open menus, a member refused an admin page. Every state is audited
 * before the test fails, so one run lists everything to fix.
 */
describe('web console accessibility (axe-core)', { skip: unavailable, timeout: 600_000 }, () => {
  let ts: TestServer;
  let browser: Browser;

  before(async () => {
    await ensureConsoleBuilt();
    ts = await startTestServer({ env: { TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    const adminToken = await loginAdmin(ts);
    await createUser(ts, adminToken, 'alice', ['member']);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  for (const viewport of viewports) {
    const size = `${viewport.width}×${viewport.height}`;
    it(`has no axe violation on any page or dialog at ${size}`, async () => {
      const context = await browser.newContext({ viewport });
      const page: Page = await context.newPage();
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      const found: string[] = [];
      let states = 0;
      const audit = async (label: string) => {
        states += 1;
        const violations = await a11yViolations(page);
        if (violations.length) found.push(`${label} (${size}):\n${formatViolations(violations)}`);
      };
      const phone = viewport.width < 760;
      const nav = async (name: string, heading: string) => {
        if (phone) await page.getByRole('button', { name: 'Menu' }).click();
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      };
      const closeDialog = async () => {
        await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
        await page.getByRole('dialog').waitFor({ state: 'detached' });
      };
      const openMenu = async (label: string) => {
        await page.getByRole('button', { name: label }).click();
        await page.getByRole('menu').waitFor();
      };
      const menuItem = async (label: string, item: string) => {
        await openMenu(label);
        await page.getByRole('menuitem', { name: item }).click();
        await page.getByRole('dialog').waitFor();
      };

      // Login, then a refused login.
      await page.goto(`${ts.url}/console/`);
      await page.getByLabel('Username').waitFor();
      await audit('login');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').first().waitFor();
      await audit('login, refused');
      await page.getByLabel('Password').fill(adminPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      await page.locator('[data-testid=tokens-table], .empty').first().waitFor();
      await audit('profile');
      if (phone) {
        await page.getByRole('button', { name: 'Menu' }).click();
        await audit('navigation menu open');
        await page.getByRole('button', { name: 'Menu' }).click();
      }

      // Profile: the token dialogs.
      await page.getByRole('button', { name: 'Add token' }).click();
      const add = page.getByTestId('add-token-dialog');
      await add.waitFor();
      await audit('add token dialog');
      await add.getByLabel('Scope').selectOption('custom');
      await add.getByTestId('endpoints').fill('GET /reports');
      await add.getByTestId('ip-allowlist').fill('10.0.0.0/8\n300.1.1.1');
      await add.getByRole('button', { name: 'Create token' }).click();
      await add.locator('.field-error').first().waitFor();
      await audit('add token dialog, errors shown');
      await add.getByTestId('ip-allowlist').fill('10.0.0.0/8');
      await add.getByLabel('Name', { exact: true }).fill(`a11y-${viewport.width}`);
      await add.getByRole('button', { name: 'Create token' }).click();
      await page.getByTestId('one-time-dialog').waitFor();
      await audit('one-time API token');
      await page.getByRole('button', { name: /I have stored it/ }).click();
      const actions = `Actions for a11y-${viewport.width}`;
      await page.getByRole('button', { name: actions }).waitFor();
      await audit('profile, one token');
      await openMenu(actions);
      await audit('token menu open');
      await page.keyboard.press('Escape');
      await menuItem(actions, 'Edit');
      await audit('edit token dialog');
      await closeDialog();
      await menuItem(actions, 'Rotate');
      await audit('rotate dialog');
      await page.getByRole('dialog').getByLabel('Grace period for the old secret').fill('forever');
      await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
      await page.getByRole('dialog').locator('.field-error').waitFor();
      await audit('rotate dialog, error shown');
      await closeDialog();
      await menuItem(actions, 'Revoke');
      await audit('revoke dialog');
      await closeDialog();
      await page.goto(`${ts.url}/console/profile/password`);
      await page.getByLabel('Current password').waitFor();
      await audit('profile, password tab');

      // Users and service accounts.
      await nav('Users', 'Users');
      await audit('users');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('dialog').waitFor();
      await audit('add user dialog');
      await closeDialog();
      await page.getByRole('link', { name: 'alice' }).click();
      await page.getByRole('heading', { name: /alice/, level: 1 }).waitFor();
      await audit('a user, tokens tab');
      await nav('Service accounts', 'Service accounts');
      await audit('service accounts');

      // API tokens.
      await nav('API tokens', 'API tokens');
      await page.getByTestId('api-tokens-table').waitFor();
      await audit('API tokens');
      await openMenu(actions);
      await audit('API tokens, menu open');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Save search' }).click();
      await page.getByRole('dialog').waitFor();
      await audit('save search dialog');
      await closeDialog();
      await page.getByTestId('token-search').fill('nothing-is-called-this');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText(/No API token matches/).waitFor();
      await audit('API tokens, nothing matches');
      await page.getByRole('button', { name: 'Add token' }).click();
      const owner = page.getByTestId('choose-owner-dialog');
      await audit('add token: choose the owner');
      await owner.getByLabel('Owner').fill('nobody-here');
      await owner.getByRole('button', { name: 'Continue' }).click();
      await owner.locator('.field-error').waitFor();
      await audit('add token: unknown owner');
      await owner.getByLabel('Owner').fill('alice');
      await owner.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('dialog', { name: 'Add token for alice' }).waitFor();
      await audit('add token for alice');
      await closeDialog();

      // Apps.
      await nav('Apps', 'Apps');
      await audit('apps, none');
      await page.getByRole('button', { name: 'Add app' }).click();
      const app = page.getByRole('dialog', { name: 'Add app' });
      await app.getByLabel('Name').fill(`app-${viewport.width}`);
      await audit('add app dialog');
      await app.getByLabel('Access-token lifetime (seconds)').fill('30');
      await app.getByRole('button', { name: 'Create app' }).click();
      await app.locator('.field-error').waitFor();
      await audit('add app dialog, error shown');
      await app.getByLabel('Access-token lifetime (seconds)').fill('600');
      await app.getByRole('button', { name: 'Create app' }).click();
      await page.getByTestId('one-time-dialog').waitFor();
      await audit('one-time client secret');
      await page.getByRole('button', { name: /I have stored it/ }).click();
      const appActions = `Actions for app-${viewport.width}`;
      await openMenu(appActions);
      await audit('apps, menu open');
      await page.keyboard.press('Escape');
      await menuItem(appActions, 'Edit');
      await audit('edit app dialog');
      await closeDialog();
      await menuItem(appActions, 'Regenerate secret');
      await audit('regenerate secret dialog');
      await closeDialog();
      await menuItem(appActions, 'Delete');
      await audit('delete app dialog');
      await closeDialog();

      // Webhooks.
      await nav('Webhooks', 'Webhooks');
      await audit('webhooks, none');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const hook = page.getByRole('dialog', { name: 'Add webhook endpoint' });
      await audit('add endpoint dialog');
      await hook.getByLabel('URL').fill('ftp://nowhere.example');
      await hook.getByRole('button', { name: 'Add endpoint' }).click();
      await hook.locator('.field-error').waitFor();
      await audit('add endpoint dialog, error shown');
      await hook.getByLabel('URL').fill(`http://127.0.0.1:9/hook/${viewport.width}`);
      await hook.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByTestId('one-time-dialog').waitFor();
      await audit('one-time signing secret');
      await page.getByRole('button', { name: /I have stored it/ }).click();
      const hookActions = `Actions for http://127.0.0.1:9/hook/${viewport.width}`;
      await openMenu(hookActions);
      await audit('webhooks, menu open');
      await page.keyboard.press('Escape');
      await menuItem(hookActions, 'Deliveries');
      await audit('deliveries dialog');
      await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).first().click();
      await menuItem(hookActions, 'Edit');
      await audit('edit endpoint dialog');
      await closeDialog();
      await menuItem(hookActions, 'Delete');
      await audit('delete endpoint dialog');
      await closeDialog();

      // Policy, with a field error; the audit log.
      await nav('Policy', 'Policy');
      await audit('policy');
      await page.getByLabel('Idle timeout').fill('soon');
      await page.getByLabel('Idle timeout').blur();
      await page.getByRole('button', { name: 'Save policy' }).click();
      await page.locator('.field-error').first().waitFor();
      await audit('policy, error shown');
      await nav('Audit log', 'Audit log');
      await page.getByTestId('audit-table').waitFor();
      await audit('audit log');

      // A member who opens an admin page.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(userPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      await page.goto(`${ts.url}/console/security/api-tokens`);
      await page.getByRole('alert').first().waitFor();
      await audit('member on an admin page');

      await context.close();
      assert.ok(states >= 40, `only ${states} states audited`);
      assert.equal(found.length, 0, `axe-core found violations in ${found.length} of ${states} states:\n${found.join('\n')}`);
    });
  }
});
