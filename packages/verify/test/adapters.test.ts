import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve, type HttpBindings } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono, type Context } from 'hono';
import { createVerifier, expressAuth, fastifyAuth, fetchAuth, protect, type Auth, type Verifier } from '../src/index.js';
import { startFakeIssuer, type FakeIssuer } from './issuer.js';

/** Each adapter on a real server of its framework, answering `auth` as JSON on success. */
type Start = (verifier: Verifier) => Promise<{ url: string; close: () => Promise<void> }>;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const adapters: Record<string, Start> = {
  'node http': (verifier) => listen(createServer(protect(verifier, (_req, res, auth) => void res.end(JSON.stringify(auth))))),
  express: (verifier) => {
    const app = express();
    app.use(expressAuth(verifier));
    app.all('/{*rest}', (_req, res) => {
      res.json(res.locals['auth']);
    });
    return listen(createServer(app));
  },
  fastify: async (verifier) => {
    const app = Fastify();
    let parsed = 0;
    app.addHook('preValidation', async () => {
      parsed++;
    });
    await app.register(fastifyAuth(verifier));
    app.all('/*', async (request) => ({ ...(request as unknown as { auth: Auth }).auth, parsedBodies: parsed }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  hono: async (verifier) => {
    type Env = { Bindings: HttpBindings; Variables: { auth: Auth } };
    const app = new Hono<Env>();
    app.use('*', fetchAuth<Context<Env>>(verifier, (c) => c.env.incoming.socket.remoteAddress));
    app.all('*', (c) => c.json(c.get('auth')));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};

describe('adapters', () => {
  let issuer: FakeIssuer;
  let verifier: Verifier;
  before(async () => {
    issuer = await startFakeIssuer();
    verifier = createVerifier({ issuer: issuer.issuer, audience: 'api' });
  });
  after(async () => {
    verifier.close();
    await issuer.close();
  });

  for (const [name, start] of Object.entries(adapters)) {
    describe(name, () => {
      let server: { url: string; close: () => Promise<void> };
      before(async () => {
        server = await start(verifier);
      });
      after(async () => server.close());

      const call = (path: string, authorization?: string, method = 'GET') =>
        fetch(server.url + path, { method, headers: authorization ? { authorization } : {} });

      it('lets a valid token through with its auth', async () => {
        const token = await issuer.sign({ scope: 'custom', endpoints: ['/plans'], roles: ['member'] });
        const response = await call('/plans/7', `Bearer ${token}`);
        assert.equal(response.status, 200);
        const body = (await response.json()) as Auth;
        assert.equal(body.sub, 'usr_1');
        assert.deepEqual(body.roles, ['member']);
        assert.equal(body.tokenId, 'tok_1');
      });

      it('answers 401 without an error code when no credentials are sent', async () => {
        const response = await call('/plans');
        assert.equal(response.status, 401);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="api"');
      });

      it('answers 401 invalid_token for a bad token', async () => {
        const response = await call('/plans', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
        assert.equal(response.status, 401);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="api", error="invalid_token", error_description="/);
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_token');
      });

      it('answers 403 insufficient_scope outside the token scope', async () => {
        const token = await issuer.sign({ scope: 'custom', endpoints: ['GET /plans'] });
        const response = await call('/plans', `Bearer ${token}`, 'DELETE');
        assert.equal(response.status, 403);
        assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      });

      it('answers 400 invalid_request for a malformed Authorization header', async () => {
        const response = await call('/plans', 'Bearer two tokens');
        assert.equal(response.status, 400);
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
      });
    });
  }

  // Tessera down: a valid token whose key this server has not fetched yet cannot be checked.
  // Every adapter must answer 503 with Retry-After, never 500 or a misleading 401.
  for (const [name, start] of Object.entries(adapters)) {
    it(`${name} answers 503 temporarily_unavailable with Retry-After when the JWKS cannot be reached`, async () => {
      const offline = createVerifier({ issuer: issuer.issuer, audience: 'api', jwksUri: 'http://127.0.0.1:9/jwks.json' });
      const server = await start(offline);
      try {
        const response = await fetch(`${server.url}/plans`, { headers: { authorization: `Bearer ${await issuer.sign()}` } });
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('retry-after'), '1');
        assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
      } finally {
        offline.close();
        await server.close();
      }
    });
  }

  it('fastify refuses in onRequest, before any body is parsed', async () => {
    const server = await adapters['fastify']!(verifier);
    try {
      const refused = await fetch(`${server.url}/upload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"big":1}' });
      assert.equal(refused.status, 401);
      const token = await issuer.sign();
      const ok = await fetch(`${server.url}/upload`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"big":1}' });
      assert.equal(((await ok.json()) as { parsedBodies: number }).parsedBodies, 1, 'only the authenticated request reached body handling');
    } finally {
      await server.close();
    }
  });
});
