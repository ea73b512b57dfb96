import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { adminPassword, secretKey, startInstance } from '../faults/support.js';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';

const onPostgres = databaseTargets.some((target) => target.name === 'postgres');

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(base + path, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

/**
 * SPEC 9: deliveries are at least once across instances. The instance that claimed a message
 * is killed (SIGKILL) while the receiver holds its request open; another instance delivers the
 * same message, under the same webhook-id, once the lease passes.
 */
describe('webhook delivery survives the delivering instance', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 180_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  const children: ChildProcessWithoutNullStreams[] = [];
  const held: ServerResponse[] = [];
  const seen: { id: string; type: string; verified: boolean }[] = [];
  let holding = true;
  let secret = '';
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let type = '';
      let verified = false;
      try {
        type = (new Webhook(secret).verify(body, request.headers as Record<string, string>) as { type: string }).type;
        verified = true;
      } catch {
        // counted as unverified below
      }
      seen.push({ id: String(request.headers['webhook-id']), type, verified });
      if (holding) held.push(response); // never answered: the sender is killed while waiting
      else response.writeHead(204).end();
    });
  });

  before(async () => {
    database = await createPostgresDatabase();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const response of held) response.destroy();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await database.drop();
  });

  it('another instance delivers what a killed one had claimed, under the same webhook-id', async () => {
    const env = {
      TESSERA_DATABASE_URL: database.url,
      TESSERA_SECRET_KEY: secretKey,
      TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      TESSERA_WEBHOOK_LEASE_SECONDS: '2',
    };
    const a = await startInstance(env);
    children.push(a.child);
    const session = await call(a.url, 'POST', '/api/v1/sessions', undefined, { username: 'admin', password: adminPassword });
    assert.equal(session.status, 201, session.text);
    const admin = session.body['session_token'] as string;
    const endpoint = await call(a.url, 'POST', '/api/v1/webhooks', admin, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['token.created'] });
    assert.equal(endpoint.status, 201, endpoint.text);
    secret = endpoint.body['secret'] as string;

    const token = await call(a.url, 'POST', '/api/v1/tokens', admin, { name: 'failover', scope: { kind: 'all' } });
    assert.equal(token.status, 201, token.text);
    const started = Date.now();
    while (seen.length === 0) {
      assert.ok(Date.now() - started < 15_000, 'instance A sends the message');
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = seen[0] as { id: string; type: string; verified: boolean };
    a.child.kill('SIGKILL');
    await new Promise((resolve) => a.child.once('exit', resolve));

    holding = false;
    const b = await startInstance(env);
    children.push(b.child);
    const restarted = Date.now();
    while (!seen.some((s, i) => i > 0 && s.id === first.id)) {
      assert.ok(Date.now() - restarted < 20_000, 'instance B delivers it after the lease');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(seen.every((s) => s.verified && s.type === 'token.created'), JSON.stringify(seen));
    const log = await call(b.url, 'GET', `/api/v1/webhooks/${endpoint.body['id']}/deliveries`, (await call(b.url, 'POST', '/api/v1/sessions', undefined, { username: 'admin', password: adminPassword })).body['session_token']);
    const entry = (log.body['items'] as { id: string; status: string }[]).find((d) => d.id === first.id);
    assert.equal(entry?.status, 'delivered', log.text);
    console.log(`taken over and delivered ${Date.now() - restarted} ms after the second instance started (lease 2 s)`);
  });
});
