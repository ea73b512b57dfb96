import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Prometheus metrics (SPEC 7): counted by route pattern, never by URL; nothing secret in a label. */
describe('GET /metrics', () => {
  let ts: TestServer;
  let admin: string;
  let created: { id: string; token: string; access_token: string };

  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
    created = (await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'metrics-probe', scope: { kind: 'all' } } })).body;
    await ts.request('GET', `/api/v1/tokens/${created.id}`, { token: admin });
    await ts.request('GET', `/no/such/${created.token}`);
    await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.token });
    const app = await createApp(ts, admin, { name: 'metrics-api', can_introspect: true });
    await ts.form('/oauth/introspect', { token: created.access_token }, { authorization: basic(app.clientId, app.clientSecret) });
  });
  after(() => ts.close());

  const scrape = async () => {
    const response = await ts.request('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  it('counts and times requests by method, route pattern and status', async () => {
    const text = await scrape();
    assert.match(text, /tessera_http_requests_total\{method="POST",route="\/api\/v1\/tokens",status="201",service="tessera"\} 1/);
    assert.match(text, /tessera_http_requests_total\{method="GET",route="\/api\/v1\/tokens\/:id",status="200",service="tessera"\} 1/);
    assert.match(text, /tessera_http_requests_total\{method="POST",route="\/oauth\/token",status="200",service="tessera"\} 1/);
    assert.match(text, /tessera_http_requests_total\{method="GET",route="unmatched",status="404",service="tessera"\} 1/);
    assert.match(text, /tessera_http_request_duration_seconds_count\{[^}]*route="\/oauth\/introspect"[^}]*\} 1/);
    assert.match(text, /tessera_process_cpu_seconds_total\{service="tessera"\} /);
    assert.match(text, /tessera_signing_keys_published\{service="tessera"\} 2/, 'the active key and the next one');
    assert.match(text, /tessera_revocation_feed_followers\{service="tessera"\} 0/);
  });

  it('shows the buffered audit events, usage counts and last uses waiting, and none dropped (issues 13, 17)', async () => {
    await ts.server.container.usage.flush();
    await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.token });
    await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'not-a-token' });
    // The exchange left one usage count and one last use in the buffer, the denial (of no
    // known token, so counted nowhere) one audit event: written within 1 s.
    const waiting = await scrape();
    assert.match(waiting, /tessera_buffered_events_waiting\{kind="audit_event",service="tessera"\} 1\b/);
    assert.match(waiting, /tessera_buffered_events_waiting\{kind="last_use",service="tessera"\} 1\b/);
    assert.match(waiting, /tessera_buffered_events_waiting\{kind="usage_count",service="tessera"\} 1\b/);
    await ts.server.container.usage.flush();
    const text = await scrape();
    assert.match(text, /tessera_buffered_events_waiting\{kind="audit_event",service="tessera"\} 0\b/);
    assert.match(text, /tessera_buffered_events_waiting\{kind="last_use",service="tessera"\} 0\b/);
    assert.match(text, /tessera_buffered_events_waiting\{kind="usage_count",service="tessera"\} 0\b/);
    assert.match(text, /tessera_buffered_events_dropped_total\{kind="audit_event",service="tessera"\} 0\b/);
    assert.match(text, /tessera_buffered_events_dropped_total\{kind="last_use",service="tessera"\} 0\b/);
  });

  it('never puts an id, a token or a secret in a label', async () => {
    const text = await scrape();
    assert.ok(!text.includes(created.id), 'no token id');
    for (const secret of ts.knownSecrets) assert.ok(secret.length < 8 || !text.includes(secret), 'no secret');
    assert.ok(!text.includes('/no/such'), 'no raw path of an unmatched request');
  });

  it('is listed in the OpenAPI document with the other operations endpoints', async () => {
    const document = (await ts.request('GET', '/openapi.json')).body;
    assert.deepEqual(document.paths['/metrics'].get.tags, ['operations']);
  });
});
