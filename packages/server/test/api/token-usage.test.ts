import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createUser, loginAdmin } from '../support/fixtures.js';
import { startTestServer, TestClock, type TestServer } from '../support/server.js';

/**
 * Issue 17: exchanges at the token endpoint are counted per token and minute instead of one
 * audit row each; `GET /tokens/{id}/usage` shows the counts, to whoever may read the token.
 * Denials keep their audit events and count too.
 */
describe('GET /api/v1/tokens/{id}/usage', () => {
  const clock = new TestClock();
  let ts: TestServer;
  let admin: string;
  let token: { id: string; token: string };

  before(async () => {
    ts = await startTestServer({ clock });
    admin = await loginAdmin(ts);
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'usage-probe', scope: { kind: 'custom', endpoints: ['/plans'] } } });
    assert.equal(created.status, 201, created.text);
    token = created.body;
  });
  after(() => ts.close());

  it('counts exchanges and denials per minute, audits the denials only', async () => {
    const start = clock.now();
    for (let i = 0; i < 3; i++) assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token.token })).status, 200);
    clock.advance(60);
    assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token.token })).status, 200);
    // A scope beyond the token's: denied, audited and counted.
    assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token.token, scope: 'GET:/clients' })).status, 400);
    await ts.server.container.usage.flush();

    const usage = await ts.request('GET', `/api/v1/tokens/${token.id}/usage`, { token: admin });
    assert.equal(usage.status, 200, usage.text);
    assert.deepEqual(usage.body.totals, { success: 4, denied: 1 });
    const minute = (at: Date) => new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
    const later = new Date(start.getTime() + 60_000);
    assert.deepEqual(usage.body.minutes, [
      { minute: minute(start), outcome: 'success', count: 3 },
      { minute: minute(later), outcome: 'denied', count: 1 },
      { minute: minute(later), outcome: 'success', count: 1 },
    ]);

    const audit = await ts.request('GET', `/api/v1/audit-events?target=${token.id}`, { token: admin });
    assert.equal(audit.status, 200, audit.text);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    assert.equal(actions.filter((a: string) => a === 'token.exchanged').length, 0, 'no audit row per exchange');
    assert.equal(actions.filter((a: string) => a === 'token.denied').length, 1, 'each denial keeps its row');

    const window = await ts.request('GET', `/api/v1/tokens/${token.id}/usage?since=${encodeURIComponent(later.toISOString())}&until=${encodeURIComponent(new Date(later.getTime() + 60_000).toISOString())}`, { token: admin });
    assert.deepEqual(window.body.totals, { success: 1, denied: 1 });
  });

  it('answers only to whoever may read the token, and refuses a window beyond 7 days', async () => {
    const other = await createUser(ts, admin, 'usage-other');
    assert.ok([403, 404].includes((await ts.request('GET', `/api/v1/tokens/${token.id}/usage`, { token: other.token })).status));
    assertProblem(await ts.request('GET', '/api/v1/tokens/tok_nope/usage', { token: admin }), 404);
    const wide = await ts.request('GET', `/api/v1/tokens/${token.id}/usage?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z`, { token: admin });
    assertProblem(wide, 400, 'VALIDATION_FAILED', 'until');
    assertProblem(await ts.request('GET', `/api/v1/tokens/${token.id}/usage?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z`, { token: admin }), 400, 'VALIDATION_FAILED', 'since');
  });
});
