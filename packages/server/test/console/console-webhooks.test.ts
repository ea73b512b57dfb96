import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { loginAdmin } from '../support/fixtures.js';
import { browserUnavailable, ensureConsoleBuilt, launchBrowser } from './browser.js';

const unavailable = browserUnavailable();

/** Security → Webhooks in Chromium: add an endpoint, keep its secret, see and redeliver deliveries. */
describe('web console webhooks page in a browser', { skip: unavailable, timeout: 300_000 }, () => {
  let ts: TestServer;
  let browser: Browser;
  let adminToken: string;
  let secret = '';
  const received: { id: string; type: string }[] = [];
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const event = new Webhook(secret).verify(Buffer.concat(chunks).toString('utf8'), request.headers as Record<string, string>) as { type: string };
        received.push({ id: String(request.headers['webhook-id']), type: event.type });
        response.writeHead(204).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });

  before(async () => {
    await ensureConsoleBuilt();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ts = await startTestServer({ env: { TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    adminToken = await loginAdmin(ts);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    it(`adds an endpoint, shows its secret once, and lists its deliveries with redelivery (${viewport.width}×${viewport.height})`, async () => {
      const context = await browser.newContext({ viewport });
      const page: Page = await context.newPage();
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      await page.goto(`${ts.url}/console/security/webhooks`);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(adminPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();

      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const add = page.getByRole('dialog', { name: 'Add webhook endpoint' });
      await add.getByLabel('URL').fill('ftp://nowhere.example');
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      await add.getByText(/Only http:\/\/ and https:\/\/ webhook URLs/).waitFor();
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/${viewport.width}`;
      await add.getByLabel('URL').fill(url);
      await add.getByLabel('token.created').check();
      await add.getByRole('button', { name: 'Add endpoint' }).click();
      const once = page.getByTestId('one-time-dialog');
      secret = await once.getByTestId('webhook-secret').inputValue();
      assert.match(secret, /^whsec_/);
      await once.getByRole('button', { name: /I have stored it/ }).click();
      const row = page.getByTestId('webhook-row').filter({ hasText: url });
      await row.waitFor();
      assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');

      const before = received.length;
      const made = await ts.request('POST', '/api/v1/tokens', { token: adminToken, body: { name: `console-hook-${viewport.width}`, scope: { kind: 'all' } } });
      assert.equal(made.status, 201);
      while (received.length === before) await new Promise((r) => setTimeout(r, 50));

      await row.getByRole('button', { name: `Actions for ${url}` }).click();
      await page.getByRole('menuitem', { name: 'Deliveries' }).click();
      const log = page.getByTestId('deliveries');
      const delivery = log.getByTestId('delivery').filter({ hasText: 'token.created' }).first();
      await delivery.getByText('Delivered').waitFor();
      await delivery.getByRole('button', { name: 'Redeliver' }).click();
      await log.getByText('token.created queued for redelivery').waitFor();
      const id = received.at(-1)?.id;
      while (received.filter((r) => r.id === id).length < 2) await new Promise((r) => setTimeout(r, 50));
      await log.getByRole('button', { name: 'Done' }).click();
      await log.waitFor({ state: 'detached' });
      await context.close();
    });
  }
});
