import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { databaseTargets } from '../support/databases.js';
import { createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';

const waitFor = async (condition: () => Promise<boolean>, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
};

for (const target of databaseTargets) {
  describe(`recent_ips: where a token was used (SPEC 9) on ${target.name}`, () => {
    let ts: TestServer;
    let alice: TestPrincipal;
    const clock = new TestClock();

    before(async () => {
      // Loopback is the trusted proxy, so each request names its client in X-Forwarded-For.
      ts = await startTestServer({ driver: target.name, clock, env: { TESSERA_TRUSTED_PROXIES: '127.0.0.1,::1' } });
      alice = await createUser(ts, await loginAdmin(ts), 'alice', ['member']);
    });
    after(async () => ts.close());

    const useFrom = async (apiToken: string, ip: string) => {
      clock.advance(1);
      const response = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: apiToken }, { 'x-forwarded-for': ip });
      assert.equal(response.status, 200, response.text);
    };
    const recent = async (id: string) => (await ts.request('GET', `/api/v1/tokens/${id}`, { token: alice.token })).body.recent_ips as { ip: string; last_seen_at: string }[];

    it('starts empty, then keeps the last 5 distinct addresses with their last time, newest first, across batches', async () => {
      const made = await ts.request('POST', '/api/v1/tokens', { token: alice.token, body: { name: 'ci', scope: { kind: 'all' } } });
      assert.equal(made.status, 201, made.text);
      const { id, token } = made.body;
      assert.deepEqual(made.body.recent_ips, []);

      // One batch: seven uses from four addresses, one address seen twice.
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.1', '2001:db8::7']) await useFrom(token, ip);
      await waitFor(async () => (await recent(id)).length === 3);
      const first = await recent(id);
      assert.deepEqual(first.map((r) => r.ip), ['2001:db8::7', '198.51.100.1', '198.51.100.2']);
      assert.equal(Date.parse(first[1]!.last_seen_at), clock.now().getTime() - 1000, 'the address seen twice keeps its later time');

      // Later batches merge with what is stored, and only five stay.
      for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) await useFrom(token, ip);
      await waitFor(async () => (await recent(id))[0]?.ip === '203.0.113.3');
      assert.deepEqual((await recent(id)).map((r) => r.ip), ['203.0.113.3', '203.0.113.2', '203.0.113.1', '2001:db8::7', '198.51.100.1']);
      await useFrom(token, '198.51.100.2');
      await waitFor(async () => (await recent(id))[0]?.ip === '198.51.100.2');
      const last = await recent(id);
      assert.deepEqual(last.map((r) => r.ip), ['198.51.100.2', '203.0.113.3', '203.0.113.2', '203.0.113.1', '2001:db8::7']);
      assert.equal(new Set(last.map((r) => r.ip)).size, 5, 'distinct');
      const listed = await ts.request('GET', '/api/v1/tokens', { token: alice.token });
      assert.deepEqual(listed.body.items[0].recent_ips, last, 'lists carry them too');
    });
  });
}
