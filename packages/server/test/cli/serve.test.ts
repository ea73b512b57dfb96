import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { after, describe, it } from 'node:test';
import { startServe, stopServe, type ServeProcess } from '../support/serve.js';

const serve = startServe;
const stop = (served: ServeProcess) => stopServe(served);

async function json(url: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tessera serve on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on a bare machine, prints the generated admin password once, and keeps data across restarts', async () => {
    const first = await serve({ TESSERA_DATA_DIR: dataDir });
    assert.equal((await json(`${first.url}/healthz`)).status, 200);
    assert.equal((await json(`${first.url}/readyz`)).status, 200);
    const password = /Admin password \(shown only this once, keep it safe\): (\S+)/.exec(first.output())?.[1];
    assert.ok(password, first.output());
    const keyMode = statSync(join(dataDir, 'secret.key')).mode & 0o777;
    assert.equal(keyMode, 0o600, 'the generated secret key is readable by its owner only');

    const login = await json(`${first.url}/api/v1/sessions`, { method: 'POST', body: { username: 'admin', password } });
    assert.equal(login.status, 201);
    const token = login.body['session_token'] as string;
    const created = await json(`${first.url}/api/v1/users`, { method: 'POST', token, body: { username: 'persisted', password: 'persisted password' } });
    assert.equal(created.status, 201);
    assert.equal(await stop(first), 0, 'SIGTERM shuts down cleanly');

    const second = await serve({ TESSERA_DATA_DIR: dataDir });
    try {
      assert.doesNotMatch(second.output(), /Admin password/, 'the password is printed on the first start only');
      const again = await json(`${second.url}/api/v1/sessions`, { method: 'POST', body: { username: 'persisted', password: 'persisted password' } });
      assert.equal(again.status, 201, 'users survive a restart');
      const me = await json(`${second.url}/api/v1/me`, { token });
      assert.equal(me.status, 200, 'sessions survive a restart (the secret key is kept in the data directory)');
    } finally {
      await stop(second);
    }
  });

  it('refuses a bad configuration at boot, naming the variable', async () => {
    await assert.rejects(serve({ TESSERA_PORT: 'eighty' }), /exited with 2 before listening:[\s\S]*TESSERA_PORT: expected a whole number from 0 to 65535, got "eighty"/);
  });

  it('requires a secret key with PostgreSQL', async () => {
    await assert.rejects(serve({ TESSERA_DATABASE_URL: 'postgres://127.0.0.1:1/none', TESSERA_SECRET_KEY: '' }), /exited with 2 before listening:[\s\S]*TESSERA_SECRET_KEY: required with TESSERA_DATABASE_URL/);
  });
});

/** One GET over a connection of its own, so the test sees the Connection header the server sent. */
function get(url: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { connection: 'keep-alive' } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tessera serve drains on SIGTERM', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-drain-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('turns /readyz 503 at once, keeps serving with Connection: close for the drain period, hints SSE followers, then exits 0', async () => {
    const password = 'drain test admin password';
    const served = await serve({ TESSERA_DATA_DIR: dataDir, TESSERA_ADMIN_PASSWORD: password, TESSERA_SHUTDOWN_DRAIN_SECONDS: '2' });
    const login = await json(`${served.url}/api/v1/sessions`, { method: 'POST', body: { username: 'admin', password } });
    const app = await json(`${served.url}/api/v1/apps`, { method: 'POST', token: login.body['session_token'] as string, body: { name: 'follower', can_introspect: true } });
    assert.equal(app.status, 201);
    const basic = `Basic ${Buffer.from(`${app.body['client_id'] as string}:${app.body['client_secret'] as string}`).toString('base64')}`;
    const feed = await fetch(`${served.url}/oauth/revocations`, { headers: { authorization: basic } });
    assert.equal(feed.status, 200);
    const reader = (feed.body as ReadableStream<Uint8Array>).getReader();
    let stream = '';
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        stream += Buffer.from(value).toString();
      }
    })();
    const before = await get(`${served.url}/healthz`);
    assert.equal(before.connection, 'keep-alive');

    const signalled = Date.now();
    served.child.kill('SIGTERM');
    // Readiness flips before anything else (the signal handler runs on the next turn of the loop).
    let ready = await get(`${served.url}/readyz`);
    while (ready.status === 200 && Date.now() - signalled < 1000) ready = await get(`${served.url}/readyz`);
    const flippedMs = Date.now() - signalled;
    assert.equal(ready.status, 503, 'readiness answers 503 while draining');
    assert.ok(flippedMs < 500, `readiness flipped after ${flippedMs} ms`);

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const during = await get(`${served.url}/healthz`);
    assert.equal(during.status, 200, 'requests are still served during the drain');
    assert.equal(during.connection, 'close', 'and asked to close their connection');
    await reading;
    assert.match(stream, /retry: \d+\nevent: reconnect\n/, 'the feed follower got a reconnect hint before the stream ended');

    assert.equal(await served.exited, 0, served.output());
    const stoppedMs = Date.now() - signalled;
    console.log(`# drain: /readyz 503 after ${flippedMs} ms, exit after ${stoppedMs} ms (drain 2 s)`);
    assert.ok(stoppedMs >= 2000 && stoppedMs < 6000, `stopped after ${stoppedMs} ms`);
  });
});
