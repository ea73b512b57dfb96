import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createWebhookSender } from '../../src/app/webhook-sender.js';
import { announceExpiring } from '../../src/core/webhook-dispatch.js';
import { databaseTargets } from '../support/databases.js';
import { assertProblem, createOrg, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly event: { type: string; timestamp: string; data: Record<string, any> };
}

/**
 * A receiver as a customer writes one: every delivery is verified with the `standardwebhooks`
 * library and the endpoint's secret; an unverifiable one fails the test. `failNext` answers 500
 * to that many deliveries first.
 */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const unverified: string[] = [];
  let secret = '';
  let failNext = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = new Webhook(secret).verify(body, request.headers as Record<string, string>) as Delivery['event'];
        if (failNext > 0) {
          failNext--;
          response.statusCode = 500;
        } else {
          deliveries.push({ headers: request.headers, body, event });
          response.statusCode = 204;
        }
      } catch (error) {
        unverified.push(`${(error as Error).message}: ${body}`);
        response.statusCode = 400;
      }
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tessera`,
    deliveries,
    unverified,
    set secret(value: string) {
      secret = value;
    },
    fail(times: number) {
      failNext = times;
    },
    of: (type: string) => deliveries.filter((d) => d.event.type === type),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const waitFor = async <T>(check: () => T | undefined | false, ms = 15_000): Promise<T> => {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

for (const target of databaseTargets) {
  describe(`Webhooks (SPEC 9, Standard Webhooks) on ${target.name}`, () => {
    let ts: TestServer;
    let admin: string;
    let member: TestPrincipal;
    let foreign: TestPrincipal & { orgId: string };
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let endpoint: { id: string; secret: string };

    before(async () => {
      receiver = await startReceiver();
      ts = await startTestServer({ driver: target.name, env: { TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', TESSERA_WEBHOOK_RETRY_BASE_SECONDS: '1' } });
      admin = await loginAdmin(ts);
      member = await createUser(ts, admin, 'mona', ['member']);
      foreign = await createOrg(ts, admin, 'faraway');
    });
    after(async () => {
      await ts.close();
      await receiver.close();
    });

    it('creates an endpoint and shows its signing secret once', async () => {
      const created = await ts.request('POST', '/api/v1/webhooks', {
        token: admin,
        body: { url: receiver.url, events: ['token.created', 'token.updated', 'token.rotated', 'token.revoked', 'token.expiring'], description: 'ops' },
      });
      assert.equal(created.status, 201, created.text);
      endpoint = created.body as { id: string; secret: string };
      assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
      receiver.secret = endpoint.secret;
      const shown = await ts.request('GET', `/api/v1/webhooks/${endpoint.id}`, { token: admin });
      const listed = await ts.request('GET', '/api/v1/webhooks', { token: admin });
      assert.equal(shown.status, 200);
      assert.equal((listed.body as { items: unknown[] }).items.length, 1);
      for (const text of [shown.text, listed.text]) assert.ok(!text.includes(endpoint.secret) && !text.includes('secret'), 'the secret is never shown again');
    });

    it('announces each token change, signed, naming the token, its owner and the actor, never a secret', async () => {
      const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci-deploy', owner: 'mona', scope: { kind: 'all' } } });
      assert.equal(created.status, 201, created.text);
      const token = created.body as { id: string; token: string; access_token: string };
      assert.equal((await ts.request('PATCH', `/api/v1/tokens/${token.id}`, { token: admin, body: { name: 'ci-deploy-2' } })).status, 200);
      const rotated = await ts.request('POST', `/api/v1/tokens/${token.id}/rotate`, { token: admin, body: {} });
      assert.equal(rotated.status, 200, rotated.text);
      assert.equal((await ts.request('POST', `/api/v1/tokens/${token.id}/revoke`, { token: admin, body: { reason: 'rotated out' } })).status, 200);

      const types = ['token.created', 'token.updated', 'token.rotated', 'token.revoked'];
      await waitFor(() => types.every((type) => receiver.of(type).some((d) => d.event.data['token'].id === token.id)));
      assert.deepEqual(receiver.unverified, [], 'every delivery verifies with the standardwebhooks library');
      const ours = receiver.deliveries.filter((d) => d.event.data['token'].id === token.id);
      assert.deepEqual(ours.map((d) => d.event.type), types, 'in the order they happened');
      for (const delivery of ours) {
        assert.equal(delivery.event.data['token'].owner.username, 'mona');
        assert.equal(delivery.event.data['actor'].username, 'admin');
        assert.match(String(delivery.headers['webhook-id']), /^msg_/);
        assert.ok(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
        for (const secret of [token.token, token.access_token, (rotated.body as { token: string }).token, endpoint.secret]) {
          assert.ok(!delivery.body.includes(secret), 'no secret in a payload');
        }
      }
      assert.equal(ours[1]?.event.data['token'].name, 'ci-deploy-2');
      assert.equal(ours[3]?.event.data['details'].reason, 'rotated out');
      assert.equal(new Set(ours.map((d) => d.headers['webhook-id'])).size, 4);
    });

    it('retries a failing receiver with backoff under the same webhook-id, and logs each delivery', async () => {
      receiver.fail(2);
      const before = receiver.deliveries.length;
      const created = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'retried', scope: { kind: 'all' } } });
      assert.equal(created.status, 201);
      const id = (created.body as { id: string }).id;
      const delivered = await waitFor(() => receiver.deliveries.slice(before).find((d) => d.event.data['token'].id === id), 20_000);
      const log = await ts.request('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: admin });
      assert.equal(log.status, 200, log.text);
      const entry = (log.body as { items: { id: string; status: string; attempts: number; last_status_code: number }[] }).items.find((d) => d.id === delivered.headers['webhook-id']);
      assert.ok(entry, 'the delivery log names the webhook-id');
      assert.equal(entry.status, 'delivered');
      assert.equal(entry.attempts, 3, 'two failures, then delivered');
      assert.equal(entry.last_status_code, 204);

      const again = await ts.request('POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${entry.id}/redeliver`, { token: admin });
      assert.equal(again.status, 202, again.text);
      await waitFor(() => receiver.deliveries.filter((d) => d.headers['webhook-id'] === entry.id).length === 2);
    });

    it('announces token.expiring once per threshold (14, 7, 1 days), however many instances sweep at once', async () => {
      const created = await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'expiring', scope: { kind: 'all' }, expires: '10D' } });
      assert.equal(created.status, 201, created.text);
      const id = (created.body as { id: string }).id;
      // On PostgreSQL, three instances on one database; PGlite is one process, so three sweeps of it.
      const databaseUrl = ts.server.container.config.databaseUrl;
      const others = databaseUrl === undefined ? [] : await Promise.all([1, 2].map(() => startTestServer({ config: { databaseUrl }, env: { TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', TESSERA_WEBHOOK_RETRY_BASE_SECONDS: '1' } })));
      const stores = databaseUrl === undefined ? [1, 2, 3].map(() => ts.server.container.store) : [ts, ...others].map((instance) => instance.server.container.store);
      const day = 86_400_000;
      const sweepAt = (offsetDays: number) => Promise.all(stores.map((store) => announceExpiring(store, new Date(Date.now() + offsetDays * day))));
      try {
        for (const offset of [0, 0.5, 3.5, 4, 9, 9.5]) await sweepAt(offset);
      } finally {
        for (const other of others) await other.close();
      }
      const notices = await waitFor(() => {
        const found = receiver.of('token.expiring').filter((d) => d.event.data['token'].id === id);
        return found.length >= 3 && found;
      });
      await new Promise((r) => setTimeout(r, 1500));
      const final = receiver.of('token.expiring').filter((d) => d.event.data['token'].id === id);
      // Any instance may deliver each one, so they may arrive in any order.
      assert.deepEqual(final.map((d) => d.event.data['details'].days).sort((a, b) => b - a), [14, 7, 1], 'exactly one per threshold');
      assert.equal(notices.length, 3);
    });

    it('refuses bad input with a problem naming the field, and changes nothing', async () => {
      const bad = [
        [{ url: 'ftp://example.com/x', events: ['token.created'] }, '/url'],
        [{ url: 'not a url', events: ['token.created'] }, '/url'],
        [{ url: 'https://user:pw@example.com/x', events: ['token.created'] }, '/url'],
        [{ url: receiver.url, events: ['token.exchanged'] }, '/events/0'],
        [{ url: receiver.url, events: [] }, '/events'],
        [{ url: receiver.url, events: ['token.created'], secret: 'mine' }, undefined],
        [{ url: `${receiver.url}\u0000`, events: ['token.created'] }, '/url'],
      ] as const;
      for (const [body, field] of bad) {
        const response = await ts.request('POST', '/api/v1/webhooks', { token: admin, body });
        assertProblem(response, 400, undefined, field);
      }
      assert.equal((await ts.request('GET', '/api/v1/webhooks', { token: admin })).body.items.length, 1, 'nothing was created');
    });

    it('is for admins of the organization only: members are refused, other organizations see nothing', async () => {
      assertProblem(await ts.request('GET', '/api/v1/webhooks', { token: member.token }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('POST', '/api/v1/webhooks', { token: member.token, body: { url: receiver.url, events: ['token.created'] } }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('GET', `/api/v1/webhooks/${endpoint.id}`, { token: foreign.token }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('PATCH', `/api/v1/webhooks/${endpoint.id}`, { token: foreign.token, body: { enabled: false } }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('DELETE', `/api/v1/webhooks/${endpoint.id}`, { token: foreign.token }), 404, 'NOT_FOUND');
      assertProblem(await ts.request('GET', `/api/v1/webhooks/${endpoint.id}/deliveries`, { token: foreign.token }), 404, 'NOT_FOUND');
      // The other organization's token events never reach this organization's endpoint.
      const theirs = await ts.request('POST', '/api/v1/tokens', { token: foreign.token, body: { name: 'far-away', scope: { kind: 'all' } } });
      assert.equal(theirs.status, 201);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(!receiver.deliveries.some((d) => d.event.data['token'].id === (theirs.body as { id: string }).id));
    });

    it('edits and deletes an endpoint; a disabled or deleted one receives nothing', async () => {
      const edited = await ts.request('PATCH', `/api/v1/webhooks/${endpoint.id}`, { token: admin, body: { enabled: false, description: 'paused' } });
      assert.equal(edited.status, 200, edited.text);
      assert.equal((edited.body as { enabled: boolean }).enabled, false);
      const count = receiver.deliveries.length;
      assert.equal((await ts.request('POST', '/api/v1/tokens', { token: member.token, body: { name: 'quiet', scope: { kind: 'all' } } })).status, 201);
      assert.equal((await ts.request('DELETE', `/api/v1/webhooks/${endpoint.id}`, { token: admin })).status, 204);
      assertProblem(await ts.request('GET', `/api/v1/webhooks/${endpoint.id}`, { token: admin }), 404);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(receiver.deliveries.length, count);
      const audit = await ts.request('GET', '/api/v1/audit-events?action=webhook.*', { token: admin });
      const actions = (audit.body as { items: { action: string; details: unknown }[] }).items.map((e) => e.action);
      for (const action of ['webhook.created', 'webhook.updated', 'webhook.redelivered', 'webhook.deleted']) assert.ok(actions.includes(action), action);
      assert.ok(!audit.text.includes(endpoint.secret), 'the secret is not audited');
    });
  });
}

describe('Webhook targets (SPEC 9: no loopback, private or link-local target without the setting)', () => {
  let ts: TestServer;
  let admin: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver();
    ts = await startTestServer();
    admin = await loginAdmin(ts);
  });
  after(async () => {
    await ts.close();
    await receiver.close();
  });

  it('refuses private, loopback and link-local URLs when the endpoint is saved', async () => {
    for (const url of [receiver.url, 'http://localhost:8080/x', 'http://10.1.2.3/x', 'http://[::1]:80/x', 'http://169.254.169.254/latest/meta-data', 'http://192.168.1.1/', 'http://[::ffff:127.0.0.1]/', 'https://metadata.internal/']) {
      const response = await ts.request('POST', '/api/v1/webhooks', { token: admin, body: { url, events: ['token.created'] } });
      assertProblem(response, 400, 'VALIDATION_FAILED', '/url');
      assert.match((response.body as { detail: string }).detail, /TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
    }
    const accepted = await ts.request('POST', '/api/v1/webhooks', { token: admin, body: { url: 'https://hooks.example.com/tessera', events: ['token.created'] } });
    assert.equal(accepted.status, 201, 'a public name is accepted (and checked again when delivering)');
  });

  it('checks the resolved address again when connecting: a name that resolves to loopback is refused, with no request made', async () => {
    const sender = createWebhookSender({ allowPrivateNetworks: false, timeoutMs: 2000, userAgent: 'test' });
    const port = new URL(receiver.url).port;
    const message = { id: 'msg_1', secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`, timestamp: new Date(), body: '{"type":"token.created"}' };
    for (const url of [`http://localhost:${port}/hooks`, `http://127.0.0.1:${port}/hooks`]) {
      const outcome = await sender.send({ ...message, url });
      assert.ok('error' in outcome && /loopback, private or link-local/.test(outcome.error), JSON.stringify(outcome));
    }
    assert.equal(receiver.deliveries.length + receiver.unverified.length, 0, 'nothing reached the receiver');
    receiver.secret = message.secret;
    const allowed = await createWebhookSender({ allowPrivateNetworks: true, timeoutMs: 2000, userAgent: 'test' }).send({ ...message, url: `http://localhost:${port}/hooks` });
    assert.deepEqual(allowed, { statusCode: 204 }, 'with the setting the same target is reached');
  });

  it('does not follow redirects', async () => {
    const redirecting = createServer((_request, response) => {
      response.statusCode = 307;
      response.setHeader('location', receiver.url);
      response.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const sender = createWebhookSender({ allowPrivateNetworks: true, timeoutMs: 2000, userAgent: 'test' });
    const before = receiver.deliveries.length;
    const outcome = await sender.send({ id: 'msg_2', secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`, timestamp: new Date(), body: '{}', url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/` });
    assert.deepEqual(outcome, { statusCode: 307 }, 'a redirect is an answer, not followed (and not a 2xx: retried)');
    assert.equal(receiver.deliveries.length, before);
    await new Promise<void>((resolve) => redirecting.close(() => resolve()));
  });
});
