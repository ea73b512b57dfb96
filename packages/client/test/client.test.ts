import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { adminPassword, startTestServer, type TestServer } from '../../server/test/support/server.js';
import { renderTypes } from '../scripts/render-types.js';
import { createTesseraClient, paginate, TesseraApiError, TesseraConnectionError } from '../src/index.js';

describe('@tessera/client against a real server', () => {
  let ts: TestServer;
  let session: string;

  before(async () => {
    ts = await startTestServer();
    session = await ts.login('admin', adminPassword);
  });
  after(async () => ts.close());

  it('the committed types are what the running server documents', async () => {
    const document = (await ts.request('GET', '/openapi.json')).body;
    const committed = await readFile(new URL('../generated/openapi.d.ts', import.meta.url), 'utf8');
    const fresh = await renderTypes(document);
    assert.ok(fresh === committed, 'generated/openapi.d.ts is stale: run `npm run generate -w @tessera/client` and commit it');
  });

  it('creates, rotates and revokes a token with typed bodies', async () => {
    const tessera = createTesseraClient({ baseUrl: ts.url, token: session });
    const { data: created } = await tessera.POST('/api/v1/tokens', { body: { name: 'client-ci', scope: { kind: 'all' } } });
    assert.equal(created.name, 'client-ci');
    assert.match(created.token, /^tsr_/);
    const { data: rotated } = await tessera.POST('/api/v1/tokens/{id}/rotate', { params: { path: { id: created.id } }, body: {} });
    assert.notEqual(rotated.token, created.token);
    // The old secret no longer exchanges; the new one does.
    assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.token })).status, 400);
    assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: rotated.token })).status, 200);
    const { data: revoked } = await tessera.POST('/api/v1/tokens/{id}/revoke', { params: { path: { id: created.id } }, body: {} });
    assert.equal(revoked.status, 'revoked');
  });

  it('throws refusals as TesseraApiError with the server problem', async () => {
    const tessera = createTesseraClient({ baseUrl: ts.url, token: session });
    const refusal = await tessera.POST('/api/v1/tokens', { body: { scope: { kind: 'all' }, expires: '0D' } }).catch((error: unknown) => error);
    assert.ok(refusal instanceof TesseraApiError);
    assert.equal(refusal.status, 400);
    assert.equal(refusal.code, 'VALIDATION_FAILED');
    assert.equal(refusal.problem.field, '/expires');
    const anonymous = createTesseraClient({ baseUrl: ts.url });
    const denied = await anonymous.GET('/api/v1/me').catch((error: unknown) => error);
    assert.ok(denied instanceof TesseraApiError);
    assert.equal(denied.status, 401);
  });

  it('tells an unreachable server apart from a refusal', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const tessera = createTesseraClient({ baseUrl: `http://127.0.0.1:${port}`, token: session });
    const failure = await tessera.GET('/api/v1/me').catch((error: unknown) => error);
    assert.ok(failure instanceof TesseraConnectionError);
  });

  it('with cookies, sends the CSRF header the server requires on changes', async () => {
    const cookie = `tessera_session=${session}`;
    const withCookie: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      request.headers.set('cookie', cookie);
      return fetch(request);
    };
    const browserLike = createTesseraClient({ baseUrl: ts.url, cookies: true, fetch: withCookie });
    const { data } = await browserLike.POST('/api/v1/tokens', { body: { name: 'cookie-made', scope: { kind: 'all' } } });
    assert.equal(data.name, 'cookie-made');
    // Without the convention the same cookie call is refused: the header is what made it pass.
    const bare = await fetch(`${ts.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'no-csrf', scope: { kind: 'all' } }),
    });
    assert.equal(bare.status, 403);
  });

  it('paginates every item across pages', async () => {
    const tessera = createTesseraClient({ baseUrl: ts.url, token: session });
    const { data: account } = await tessera.POST('/api/v1/service-accounts', { body: { username: 'pager' } });
    for (let i = 0; i < 5; i += 1) {
      await tessera.POST('/api/v1/tokens', { body: { name: `page-${i}`, owner: account.id, scope: { kind: 'all' } } });
    }
    const pages: number[] = [];
    const names: string[] = [];
    const items = paginate(async (cursor) => {
      const { data } = await tessera.GET('/api/v1/tokens', { params: { query: { all: true, owner: account.id, limit: 2, sort: 'name', ...(cursor && { cursor }) } } });
      pages.push(data.items.length);
      return data;
    });
    for await (const token of items) names.push(token.name);
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    assert.deepEqual(pages.slice(0, 3), [2, 2, 1]);
  });
});
