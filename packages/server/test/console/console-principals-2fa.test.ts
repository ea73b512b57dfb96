import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import QRCode from 'qrcode';
import { TestClock, adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { totp } from '../support/totp.js';
import { expectNoA11yViolations } from './a11y.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser, screenshotDir } from './browser.js';

const unavailable = browserUnavailable();

const viewports = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** What the console passes to qrcode (components/two-factor.tsx qrOptions). */
const qrOptions = { type: 'svg', errorCorrectionLevel: 'M', margin: 2 } as const;

/**
 * Issue 15 items 6 and 8 in Chromium, at desktop and phone width: two-factor enrolment on the
 * profile and at login, the code step of a login, and editing, resetting and deleting users and
 * service accounts (with a first token in the create dialog). One server for the file.
 */
describe('web console: two-factor login, users and service accounts', { skip: unavailable, timeout: 600_000 }, () => {
  let ts: TestServer;
  let browser: Browser;
  let admin: string;
  const clock = new TestClock();

  before(async () => {
    await ensureConsoleBuilt();
    ts = await startTestServer({ clock });
    admin = await loginAdmin(ts);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  async function open(viewport: (typeof viewports)[number]): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height } });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ts.url });
    const page = await context.newPage();
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    return { context, page };
  }

  async function logIn(page: Page, username: string, password: string, path = '/console/profile') {
    await page.goto(`${ts.url}${path}`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });

  /** The field's error is visible, tied to the input (aria-describedby), and says `text`. */
  async function expectFieldError(field: Locator, text: RegExp) {
    // The refusal comes back from the server after the click: wait for it (at most 5 s) before reading.
    await field.and(field.page().locator('[aria-invalid="true"]')).waitFor({ timeout: 5000 }).catch(() => {});
    assert.equal(await field.getAttribute('aria-invalid'), 'true', `${text} marks the field invalid`);
    const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    const messages = await Promise.all(ids.map((id) => field.page().locator(`[id="${id}"]`).textContent()));
    assert.ok(
      messages.some((m) => m !== null && text.test(m)),
      `field error ${text} in ${JSON.stringify(messages)}`,
    );
    const errorId = ids.find((id) => id.endsWith('-error'));
    assert.ok(errorId && (await field.page().locator(`[id="${errorId}"]`).isVisible()));
  }

  /** Waits (briefly) until the focused element is the one described: by its name attribute, label, tag or text. */
  async function expectFocus(page: Page, want: { name?: string; label?: string; tag?: string; text?: string | RegExp }, message: string) {
    const text = want.text instanceof RegExp ? { source: want.text.source } : want.text;
    try {
      await page.waitForFunction(
        ({ name, label, tag, text }) => {
          const active = document.activeElement as HTMLInputElement | null;
          if (!active) return false;
          if (name !== undefined && active.getAttribute('name') !== name) return false;
          if (label !== undefined && active.labels?.[0]?.textContent !== label) return false;
          if (tag !== undefined && active.tagName !== tag) return false;
          if (typeof text === 'string' && active.textContent !== text) return false;
          if (typeof text === 'object' && !new RegExp(text.source).test(active.textContent ?? '')) return false;
          return true;
        },
        { ...want, text },
        { timeout: 3_000 },
      );
    } catch {
      const actual = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200));
      assert.fail(`${message}: focus is on ${actual}`);
    }
  }

  const secondFactor = async (token: string) => (await ts.request('GET', '/api/v1/me/second-factor', { token })).body;

  for (const viewport of viewports) {
    describe(`at ${viewport.width}×${viewport.height}`, () => {
      const mona = `mona-${viewport.name}`;
      let monaToken = '';
      let seed = '';
      let recovery: string[] = [];

      it('enrols an authenticator on the profile: QR code of the otpauth URI, the key as text, a code, then the recovery codes once', async () => {
        monaToken = (await createUser(ts, admin, mona)).token;
        const { context, page } = await open(viewport);
        await logIn(page, mona, userPassword, '/console/profile/two-factor');
        await page.getByRole('heading', { name: 'Two-factor login', level: 2 }).waitFor();
        await page.getByTestId('two-factor-status').getByText('off').waitFor();
        await expectNoA11yViolations(page, `profile two-factor tab, off, ${viewport.name}`);

        const opener = page.getByRole('button', { name: 'Set up two-factor login' });
        await opener.click();
        const dialog = page.getByRole('dialog', { name: 'Set up two-factor login' });
        await dialog.waitFor();
        await expectFocus(page, { name: 'otp' }, 'the dialog opens on its code field');
        seed = ((await dialog.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '');
        assert.match(seed, /^[A-Z2-7]{32}$/);
        const uri = ((await dialog.getByTestId('totp-uri').textContent()) ?? '').trim();
        assert.equal(new URL(uri).searchParams.get('secret'), seed);
        // The picture is the otpauth URI's QR code, drawn in the page (the CSP allows data: images).
        const qr = dialog.getByTestId('totp-qr');
        await qr.waitFor();
        assert.equal(await qr.getAttribute('src'), `data:image/svg+xml;charset=utf-8,${encodeURIComponent(await QRCode.toString(uri, qrOptions))}`);
        assert.ok(((await qr.getAttribute('alt')) ?? '').includes('QR code'));
        assert.ok((await qr.boundingBox())!.width >= 150, 'large enough to scan');
        await shot(page, `2fa-enrol-${viewport.name}`);
        await expectNoA11yViolations(page, `enrol dialog, ${viewport.name}`);

        const code = dialog.getByRole('textbox', { name: 'Authentication code' });
        await code.fill('12345');
        await dialog.getByRole('button', { name: 'Turn on two-factor login' }).click();
        await expectFieldError(code, /6 digits; this one has 5/);
        await code.fill('000000');
        await dialog.getByRole('button', { name: 'Turn on two-factor login' }).click();
        await dialog.getByText(/does not match the pending enrolment/).waitFor();
        await expectFieldError(code, /does not match the pending enrolment/);
        await expectNoA11yViolations(page, `enrol dialog with a refused code, ${viewport.name}`);
        assert.deepEqual(await secondFactor(monaToken), { enabled: false, pending: true, recovery_codes_left: 0 });

        await code.fill(totp(seed, clock.now()));
        await dialog.getByRole('button', { name: 'Turn on two-factor login' }).click();
        const codes = page.getByRole('dialog', { name: /your recovery codes/ });
        await codes.getByText(/shown only this once and cannot be shown again/).waitFor();
        recovery = (await codes.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
        assert.equal(recovery.length, 10);
        await codes.getByRole('button', { name: 'Copy recovery codes' }).click();
        await codes.getByText('Recovery codes copied to the clipboard').waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), recovery.join('\n'), 'the copy is every code, one a line');
        await shot(page, `2fa-recovery-codes-${viewport.name}`);
        await expectNoA11yViolations(page, `recovery codes dialog, ${viewport.name}`);
        // Escape does not dismiss the codes: they are acknowledged.
        await page.keyboard.press('Escape');
        assert.ok(await codes.isVisible());
        await codes.getByRole('button', { name: /I have saved them/ }).click();
        await page.getByTestId('two-factor-status').getByText('10 of 10 recovery codes left').waitFor();
        await expectNoA11yViolations(page, `profile two-factor tab, on, ${viewport.name}`);
        await expectFocus(page, { text: /Two-factor login is on/ }, 'focus lands on the confirmation');
        assert.deepEqual(await secondFactor(monaToken), { enabled: true, pending: false, recovery_codes_left: 10 });
        assert.ok(!(await page.content()).includes(recovery[0] as string), 'the codes are gone from the page once acknowledged');
        await context.close();
      });

      it('asks for the code at login: a bad code is refused at the field, the right one (or a recovery code) logs in', async () => {
        const { context, page } = await open(viewport);
        await logIn(page, mona, userPassword);
        await page.getByRole('heading', { name: 'Enter your authentication code' }).waitFor();
        await expectFocus(page, { name: 'otp' }, 'focus on the code field');
        const code = page.getByRole('textbox', { name: 'Authentication code' });
        await code.fill('12');
        await page.getByRole('button', { name: 'Verify and log in' }).click();
        await expectFieldError(code, /6 digits; this one has 2/);
        await code.fill('000000');
        await page.getByRole('button', { name: 'Verify and log in' }).click();
        await page.getByText(/authentication code is not valid/).waitFor();
        await expectFieldError(code, /authentication code is not valid/);
        await shot(page, `2fa-login-code-${viewport.name}`);
        await expectNoA11yViolations(page, `login code step with a refused code, ${viewport.name}`);

        clock.advance(30);
        // The desktop run logs in with the app's code, the phone run with a recovery code.
        await code.fill(viewport.name === 'desktop' ? totp(seed, clock.now()) : (recovery[0] as string));
        await page.getByRole('button', { name: 'Verify and log in' }).click();
        await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
        if (viewport.name === 'phone') assert.equal((await secondFactor(monaToken)).recovery_codes_left, 9);
        await context.close();
      });

      it('turns two-factor login off with a current code', async () => {
        const { context, page } = await open(viewport);
        clock.advance(30);
        await logIn(page, mona, userPassword, '/console/profile/two-factor');
        await page.getByRole('textbox', { name: 'Authentication code' }).fill(totp(seed, clock.now()));
        await page.getByRole('button', { name: 'Verify and log in' }).click();
        await page.getByRole('heading', { name: 'Two-factor login', level: 2 }).waitFor();

        const opener = page.getByRole('button', { name: 'Turn off two-factor login' });
        await opener.click();
        const dialog = page.getByRole('dialog', { name: 'Turn off two-factor login' });
        await expectFocus(page, { name: 'otp' }, 'focus on the code field');
        const code = dialog.getByRole('textbox', { name: 'Authentication code' });
        await dialog.getByRole('button', { name: 'Turn off' }).click();
        await expectFieldError(code, /Enter the 6-digit code from your authenticator app, or a recovery code/);
        await code.fill('999999');
        await dialog.getByRole('button', { name: 'Turn off' }).click();
        await expectFieldError(code, /not valid or was already used/);
        await expectNoA11yViolations(page, `turn-off dialog with a refused code, ${viewport.name}`);
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await expectFocus(page, { text: 'Turn off two-factor login' }, 'focus returns to the opener');

        await opener.click();
        clock.advance(30);
        await dialog.getByRole('textbox', { name: 'Authentication code' }).fill(totp(seed, clock.now()));
        await dialog.getByRole('button', { name: 'Turn off' }).click();
        await page.getByTestId('two-factor-status').getByText('off').waitFor();
        await page.getByRole('status').getByText('Two-factor login is off.').waitFor();
        assert.equal((await secondFactor(monaToken)).enabled, false);
        await context.close();
      });

      it('creates a service account with a first API token, shown once', async () => {
        const sa = `ci-bot-${viewport.name}`;
        const { context, page } = await open(viewport);
        await logIn(page, 'admin', adminPassword, '/console/security/service-accounts');
        await page.getByRole('heading', { name: 'Service accounts', level: 1 }).waitFor();
        await page.getByRole('button', { name: 'Add service account' }).click();
        const add = page.getByRole('dialog', { name: 'Add service account' });
        await expectFocus(page, { label: 'Username' }, 'focus on the first field');
        await add.getByLabel('Username').fill(sa);
        await add.getByLabel('Also create an API token for it now').check();
        await add.getByLabel('Token name').fill('x'.repeat(101));
        await add.getByLabel('Token expiry').fill('soon');
        await add.getByRole('button', { name: 'Create', exact: true }).click();
        await expectFieldError(add.getByLabel('Token name'), /A token name has at most 100 characters; this one has 101/);
        await expectFieldError(add.getByLabel('Token expiry'), /soon/);
        await shot(page, `sa-create-with-token-${viewport.name}`);
        await expectNoA11yViolations(page, `add service account dialog with a first token and errors, ${viewport.name}`);
        // Nothing was created while the form was refused.
        assert.equal((await ts.request('GET', `/api/v1/service-accounts?q=${sa}`, { token: admin })).body.items.length, 0);

        await add.getByLabel('Token name').fill('');
        await add.getByLabel('Token expiry').fill('30D');
        await add.getByRole('button', { name: 'Create', exact: true }).click();
        const once = page.getByTestId('one-time-dialog');
        const secret = await once.getByTestId('new-token').inputValue();
        await expectNoA11yViolations(page, `one-time dialog of the first token, ${viewport.name}`);
        await once.getByText(`Service account ${sa} and token "${sa}_api_token" created`).waitFor();
        await once.getByRole('button', { name: /I have stored it/ }).click();
        await page.getByRole('heading', { name: new RegExp(sa), level: 1 }).waitFor();
        await page.getByText(`${sa}_api_token`).first().waitFor();
        const exchanged = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: secret });
        assert.equal(exchanged.status, 200, exchanged.text);
        assert.ok(!(await page.content()).includes(secret.split('.').pop() as string), 'the secret is gone from the page');
        await context.close();
      });

      it('edits a service account: the Edit IP allowlist dialog, details, roles and status', async () => {
        const sa = `ci-bot-${viewport.name}`;
        const id = (await ts.request('GET', `/api/v1/service-accounts?q=${sa}`, { token: admin })).body.items[0].id as string;
        const { context, page } = await open(viewport);
        await logIn(page, 'admin', adminPassword, `/console/security/service-accounts/${id}/details`);
        await page.getByRole('heading', { name: 'IP allowlist', level: 2 }).waitFor();
        await page.getByTestId('principal-ip-allowlist').getByText('Any address.').waitFor();
        await expectNoA11yViolations(page, `service account details tab, ${viewport.name}`);

        // The seeds: "Go to the IP allowlist section, click Edit. The Edit IP allowlist dialog box appears."
        const edit = page.getByRole('button', { name: 'Edit IP allowlist' });
        await edit.click();
        const ips = page.getByRole('dialog', { name: 'Edit IP allowlist' });
        const field = ips.getByLabel('IP addresses or ranges');
        await expectFocus(page, { tag: 'TEXTAREA' }, 'focus on the first field');
        await field.pressSequentially('10.0.0.1\n300.1.1.1\n\nnot-an-ip');
        assert.equal(await field.getAttribute('aria-invalid'), null, 'no error while typing');
        await field.blur();
        // Every bad line, by the line number the person sees.
        await expectFieldError(field, /^line 2: Invalid IP entry "300\.1\.1\.1".*\nline 4: Invalid IP entry "not-an-ip"/);
        await shot(page, `sa-edit-ip-allowlist-${viewport.name}`);
        await expectNoA11yViolations(page, `edit IP allowlist dialog with an error, ${viewport.name}`);
        const seedExamples = ['10.0.0.1', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '1.1.1.0/24', '2001:0db8:85a3::/64', '1.1.1.0 - 1.1.1.25', '2001:db8::1 - 2001:db8::ffff'];
        await field.fill(seedExamples.join('\n'));
        await ips.getByRole('button', { name: 'Save' }).click();
        await page.getByText('IP allowlist saved.').waitFor();
        await expectFocus(page, { text: 'Edit IP allowlist' }, 'focus returns to the opener');
        const saved = (await ts.request('GET', `/api/v1/service-accounts/${id}`, { token: admin })).body;
        assert.equal(saved.ip_allowlist.length, seedExamples.length);
        await page.getByTestId('principal-ip-allowlist').getByText('1.1.1.0/24').waitFor();

        await page.getByRole('button', { name: 'Edit details' }).click();
        const details = page.getByRole('dialog', { name: 'Edit service account details' });
        await expectFocus(page, { label: 'Display name' }, 'focus on the first field');
        await details.getByLabel('Display name').fill('n'.repeat(201));
        await details.getByLabel('Email').fill('not-an-address');
        await details.getByRole('button', { name: 'Save' }).click();
        await expectFieldError(details.getByLabel('Display name'), /at most 200 characters; this one has 201/);
        await expectFieldError(details.getByLabel('Email'), /Email “not-an-address” is not an email address/);
        await expectNoA11yViolations(page, `edit details dialog with errors, ${viewport.name}`);
        await details.getByLabel('Display name').fill('CI robot');
        await details.getByLabel('Email').fill('ci@example.com');
        await details.getByRole('button', { name: 'Save' }).click();
        await page.getByRole('heading', { name: /CI robot/, level: 1 }).waitFor();

        await page.getByRole('button', { name: 'Edit roles' }).click();
        const roles = page.getByRole('dialog', { name: `Edit roles of ${sa}` });
        await roles.getByLabel('auditor').waitFor();
        await expectFocus(page, { tag: 'INPUT' }, 'focus on the first role');
        await expectNoA11yViolations(page, `edit roles dialog, ${viewport.name}`);
        await roles.getByLabel('auditor').check();
        await roles.getByRole('button', { name: 'Save' }).click();
        await page.getByText('Roles saved.').waitFor();
        assert.deepEqual([...(await ts.request('GET', `/api/v1/service-accounts/${id}`, { token: admin })).body.roles].sort(), ['auditor', 'member']);

        await page.getByRole('button', { name: `Disable ${sa}` }).click();
        await page.getByRole('dialog', { name: `Disable ${sa}?` }).waitFor();
        await expectNoA11yViolations(page, `disable confirmation, ${viewport.name}`);
        await expectFocus(page, { text: 'Cancel' }, 'a confirmation opens on Cancel');
        await page.getByRole('dialog', { name: `Disable ${sa}?` }).getByRole('button', { name: 'Disable' }).click();
        await page.getByText(`${sa} is disabled.`).waitFor();
        await expectFocus(page, { text: `Enable ${sa}` }, 'focus returns to the status button');
        assert.equal((await ts.request('GET', `/api/v1/service-accounts/${id}`, { token: admin })).body.status, 'disabled');
        await shot(page, `sa-details-${viewport.name}`);
        await expectNoA11yViolations(page, `details tab of a disabled service account, ${viewport.name}`);
        await page.getByRole('button', { name: `Enable ${sa}` }).click();
        await page.getByRole('dialog', { name: `Enable ${sa}?` }).getByRole('button', { name: 'Enable' }).click();
        await page.getByText(`${sa} is enabled.`).waitFor();
        assert.equal((await ts.request('GET', `/api/v1/service-accounts/${id}`, { token: admin })).body.status, 'active');
        await context.close();
      });

      it("resets a user's password and deletes a user", async () => {
        const user = await createUser(ts, admin, `rita-${viewport.name}`);
        const { context, page } = await open(viewport);
        await logIn(page, 'admin', adminPassword, `/console/security/users/${user.id}/details`);
        await page.getByRole('button', { name: 'Reset password' }).click();
        const reset = page.getByRole('dialog', { name: `Reset the password of ${user.username}` });
        await expectFocus(page, { label: 'New password' }, 'focus on the first field');
        await reset.getByLabel('New password', { exact: true }).fill('short');
        await reset.getByLabel('New password again').fill('shorter');
        await reset.getByRole('button', { name: 'Reset password' }).click();
        await expectFieldError(reset.getByLabel('New password', { exact: true }), /12 to 256 characters; this one has 5/);
        await expectFieldError(reset.getByLabel('New password again'), /The two new passwords differ/);
        await expectNoA11yViolations(page, `reset password dialog with errors, ${viewport.name}`);
        const next = 'a brand new long password';
        await reset.getByLabel('New password', { exact: true }).fill(next);
        await reset.getByLabel('New password again').fill(next);
        await reset.getByRole('button', { name: 'Reset password' }).click();
        await page.getByText(/Password of .* reset; their sessions have ended/).waitFor();
        assert.equal((await ts.request('GET', '/api/v1/me', { token: user.token })).status, 401, 'their session ended');
        assert.ok(await ts.login(user.username, next));

        // A user without a second factor: the reset is refused in words.
        await page.getByRole('button', { name: 'Reset two-factor login' }).click();
        const resetFactor = page.getByRole('dialog', { name: /Reset two-factor login of/ });
        await resetFactor.getByRole('button', { name: 'Reset two-factor login' }).click();
        await resetFactor.getByText(/has no second factor to reset/).waitFor();
        await expectNoA11yViolations(page, `reset two-factor dialog with the refusal, ${viewport.name}`);
        await resetFactor.getByRole('button', { name: 'Cancel' }).click();

        await page.getByRole('button', { name: `Delete user ${user.username}` }).click();
        const del = page.getByRole('dialog', { name: `Delete user ${user.username}?` });
        await expectFocus(page, { label: 'Username to confirm' }, 'focus on the first field');
        await del.getByLabel('Username to confirm').fill('someone-else');
        await del.getByRole('button', { name: 'Delete user' }).click();
        await expectFieldError(del.getByLabel('Username to confirm'), /“someone-else” is not/);
        await shot(page, `user-delete-${viewport.name}`);
        await expectNoA11yViolations(page, `delete user dialog with an error, ${viewport.name}`);
        await del.getByLabel('Username to confirm').fill(user.username);
        await del.getByRole('button', { name: 'Delete user' }).click();
        await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
        assert.equal((await ts.request('GET', `/api/v1/users/${user.id}`, { token: admin })).status, 404);
        await context.close();
      });
    });
  }

  it('a user-manager edits roles only within its own rights: the refusal shows in the dialog', async () => {
    await createUser(ts, admin, 'uma', ['user-manager']);
    const sa = await ts.request('POST', '/api/v1/service-accounts', { token: admin, body: { username: 'report-bot' } });
    assert.equal(sa.status, 201, sa.text);
    const { context, page } = await open(viewports[0]);
    await logIn(page, 'uma', userPassword, `/console/security/service-accounts/${sa.body.id}/details`);
    await page.getByRole('button', { name: 'Edit roles' }).click();
    const roles = page.getByRole('dialog', { name: 'Edit roles of report-bot' });
    await roles.getByLabel('admin', { exact: true }).check();
    await roles.getByRole('button', { name: 'Save' }).click();
    const refusal = roles.getByTestId('dialog-problem');
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /right/i);
    await expectNoA11yViolations(page, 'edit roles dialog with the refusal, 1280×800');
    assert.deepEqual((await ts.request('GET', `/api/v1/service-accounts/${sa.body.id}`, { token: admin })).body.roles, ['member']);
    await context.close();
  });

  it('walks a user through the enrolment the policy requires at login, then an administrator resets it', async () => {
    const nina = await createUser(ts, admin, 'nina');
    const policy = await ts.request('PUT', '/api/v1/policy', { token: admin, body: { require_second_factor: true } });
    assert.equal(policy.status, 200, policy.text);
    try {
      const { context, page } = await open(viewports[1]);
      await logIn(page, 'nina', userPassword);
      await page.getByRole('heading', { name: 'Set up two-factor login' }).waitFor();
      await page.getByText('Your organization requires two-factor login.').waitFor();
      await expectFocus(page, { name: 'otp' }, 'focus on the code field');
      const seed = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '');
      await page.getByTestId('totp-qr').waitFor();
      await shot(page, '2fa-login-enrol-phone');
      await expectNoA11yViolations(page, 'login enrolment step, phone');
      const code = page.getByRole('textbox', { name: 'Authentication code' });
      await code.fill('abcdef');
      await page.getByRole('button', { name: 'Verify and log in' }).click();
      await expectFieldError(code, /6 digits \(0–9\) only/);
      await code.fill(totp(seed, clock.now()));
      await page.getByRole('button', { name: 'Verify and log in' }).click();
      await page.getByRole('heading', { name: 'Two-factor login is on' }).waitFor();
      assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
      await expectNoA11yViolations(page, 'login recovery codes step, phone');
      await page.getByRole('button', { name: /I have saved them/ }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      await page.goto(`${ts.url}/console/profile/two-factor`);
      await page.getByText('required by your organization').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Turn off two-factor login' }).count(), 0, 'cannot be turned off where required');
      await context.close();
    } finally {
      await ts.request('PUT', '/api/v1/policy', { token: admin, body: { require_second_factor: false } });
    }

    const { context, page } = await open(viewports[0]);
    await logIn(page, 'admin', adminPassword, `/console/security/users/${nina.id}/details`);
    await page.getByRole('button', { name: 'Reset two-factor login' }).click();
    await page.getByRole('dialog', { name: /Reset two-factor login of nina/ }).getByRole('button', { name: 'Reset two-factor login' }).click();
    await page.getByText('Two-factor login of nina reset.').waitFor();
    assert.equal((await secondFactor(await ts.login('nina', userPassword))).enabled, false);
    await context.close();
  });
});
