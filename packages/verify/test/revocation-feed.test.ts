import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createVerifier, type RequestLike, type Verifier } from '../src/index.js';
import { startFakeIssuer, type FakeIssuer } from './issuer.js';

const request = (token: string): RequestLike => ({ method: 'GET', url: '/plans', header: (n) => (n === 'authorization' ? `Bearer ${token}` : undefined), remoteAddress: '127.0.0.1' });

type FeedEvent = { kind: string; id: string; at: number; org?: string; owner?: string | null; before?: number };

/** A feed source speaking the server's protocol: SSE events with ids, a `synced` marker, heartbeats. */
class FakeFeed {
  server: Server | undefined;
  port = 0;
  readonly events: FeedEvent[] = [];
  readonly clients = new Set<ServerResponse>();
  lastEventIds: (string | undefined)[] = [];
  authorizations: (string | undefined)[] = [];

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      this.lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      this.authorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const from = Number(req.headers['last-event-id'] ?? 0);
      this.events.forEach((event, index) => index + 1 > from && this.write(res, index + 1, event));
      res.write('event: synced\ndata: {}\n\n');
      this.clients.add(res);
      const heartbeat = setInterval(() => res.write(': ping\n\n'), 100);
      res.on('close', () => {
        clearInterval(heartbeat);
        this.clients.delete(res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  write(res: ServerResponse, id: number, event: FeedEvent) {
    res.write(`id: ${id}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`);
  }
  publish(event: FeedEvent) {
    this.events.push(event);
    for (const client of this.clients) this.write(client, this.events.length, event);
  }
  async stop(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

const waitFor = async (condition: () => Promise<boolean>, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
};

describe('revocation feed', () => {
  let issuer: FakeIssuer;
  const feed = new FakeFeed();
  let verifier: Verifier;

  before(async () => {
    issuer = await startFakeIssuer();
    await feed.start();
    feed.publish({ kind: 'token', id: 'tok_old', at: 1 });
    verifier = createVerifier({
      issuer: issuer.issuer,
      audience: 'api',
      revocations: { url: `http://127.0.0.1:${feed.port}/oauth/revocations`, clientId: 'cl_feed', clientSecret: 's3cret', maxStalenessSeconds: 1, reconnectDelayMs: 50 },
    });
    await verifier.ready();
  });
  after(async () => {
    verifier.close();
    await issuer.close();
    await feed.stop().catch(() => {});
  });

  it('authenticates as the app and applies the backlog', async () => {
    assert.equal(feed.authorizations[0], `Basic ${Buffer.from('cl_feed:s3cret').toString('base64')}`);
    const old = await issuer.sign({ tid: 'tok_old' });
    assert.ok(!(await verifier.verify(request(old))).ok);
  });

  it('refuses tokens revoked after they were cached, by API token, jti or principal', async () => {
    const byToken = await issuer.sign({ tid: 'tok_a' });
    const byJti = await issuer.sign({ tid: 'tok_b', jti: 'jti-b' });
    const byOwner = await issuer.sign({ tid: 'tok_c', sub: 'usr_disabled' });
    for (const token of [byToken, byJti, byOwner]) assert.ok((await verifier.verify(request(token))).ok);
    const now = Math.floor(Date.now() / 1000);
    feed.publish({ kind: 'token', id: 'tok_a', at: now });
    feed.publish({ kind: 'access_token', id: 'jti-b', at: now });
    feed.publish({ kind: 'principal', id: 'usr_disabled', at: now });
    for (const token of [byToken, byJti, byOwner]) {
      await waitFor(async () => !(await verifier.verify(request(token))).ok);
      const verdict = await verifier.verify(request(token));
      assert.ok(!verdict.ok && verdict.status === 401 && verdict.error === 'invalid_token');
    }
    // A token issued after the principal was re-enabled is not caught by the old revocation.
    const later = await issuer.sign({ tid: 'tok_d', sub: 'usr_disabled', iat: now + 2 });
    assert.ok((await verifier.verify(request(later))).ok);
  });

  it('fails closed when the feed is gone longer than the bound, and recovers without restart', async () => {
    const token = await issuer.sign({ tid: 'tok_live' });
    assert.ok((await verifier.verify(request(token))).ok);
    const port = feed.port;
    await feed.stop();
    await waitFor(async () => {
      const verdict = await verifier.verify(request(token));
      return !verdict.ok && verdict.status === 503;
    }, 5000);
    feed.publish({ kind: 'token', id: 'tok_while_down', at: 1 });
    await feed.start(port);
    await waitFor(async () => (await verifier.verify(request(token))).ok, 5000);
    assert.equal(feed.lastEventIds.at(-1), '4', 'it resumed from the last event it had seen');
    assert.ok(!(await verifier.verify(request(await issuer.sign({ tid: 'tok_while_down' })))).ok, 'the missed revocation arrived');
  });

  it('applies cutoffs: access tokens from API tokens issued before them are refused, newer ones and apps\' tokens are not', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await issuer.sign({ tid: 'tok_e', sub: 'usr_cut', org: 'org_cut', iat: now - 10 });
    const newer = await issuer.sign({ tid: 'tok_f', sub: 'usr_cut', org: 'org_cut', iat: now - 5 });
    const otherOwner = await issuer.sign({ tid: 'tok_g', sub: 'usr_other', org: 'org_cut', iat: now - 10 });
    const otherOrg = await issuer.sign({ tid: 'tok_h', sub: 'usr_cut', org: 'org_far', iat: now - 10 });
    const app = await issuer.sign({ tid: undefined, sub: 'cl_app', org: 'org_cut', iat: now - 10 });
    for (const token of [old, newer, otherOwner, otherOrg, app]) assert.ok((await verifier.verify(request(token))).ok);

    feed.publish({ kind: 'cutoff', id: 'usr_cut', org: 'org_cut', owner: 'usr_cut', before: now - 5, at: now });
    await waitFor(async () => !(await verifier.verify(request(old))).ok);
    for (const token of [newer, otherOwner, otherOrg, app]) assert.ok((await verifier.verify(request(token))).ok, 'only the owner\'s older tokens are caught');

    feed.publish({ kind: 'cutoff', id: '*', org: 'org_cut', owner: null, before: now - 5, at: now });
    await waitFor(async () => !(await verifier.verify(request(otherOwner))).ok);
    for (const token of [newer, otherOrg, app]) assert.ok((await verifier.verify(request(token))).ok, 'an organization cutoff spares newer tokens, other organizations and apps');

    // A malformed cutoff (no org or no time) is skipped, not applied as "everything".
    feed.publish({ kind: 'cutoff', id: '*', owner: null, at: now });
    feed.publish({ kind: 'cutoff', id: '*', org: 'org_far', owner: null, at: now });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await verifier.verify(request(otherOrg))).ok);
  });
});
