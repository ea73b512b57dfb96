import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { auth as expressJwtBearer } from 'express-oauth2-jwt-bearer';
import Fastify from 'fastify';
import fastifyJwt from '@fastify/jwt';
import buildGetJwks from 'get-jwks';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import jwt from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { algorithms, provision, type Provisioned } from './provision.js';

/**
 * The Node ecosystem's OAuth and JWT libraries against a real Tessera over HTTP, used as their
 * READMEs show, for each signing algorithm (issue 11). Versions are pinned exactly in
 * packages/server/package.json. Where a library cannot do something by design (jsonwebtoken has
 * no EdDSA; get-jwks converts keys with jwk-to-pem, which has no OKP), the test asserts that it
 * refuses, so a change in the library shows up here.
 */
for (const algorithm of algorithms) {
  describe(`Node libraries against a server signing ${algorithm}`, () => {
    let p: Provisioned;
    before(async () => {
      p = await provision(algorithm);
    });
    after(async () => p.close());

    // openid-client refuses http:// by default; `allowInsecureRequests` is its documented
    // option for exactly this (a loopback test server), not a workaround of Tessera's answers.
    const discover = (clientId: string, auth: client.ClientAuth) =>
      client.discovery(new URL(p.issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests], algorithm: 'oauth2' });

    describe('openid-client 6.9.0', () => {
      it('discovers the RFC 8414 metadata', async () => {
        const config = await discover(p.worker.clientId, client.ClientSecretBasic(p.worker.clientSecret));
        const metadata = config.serverMetadata();
        assert.equal(metadata.issuer, p.issuer);
        assert.equal(metadata.token_endpoint, `${p.issuer}/oauth/token`);
        assert.equal(metadata.jwks_uri, `${p.issuer}/.well-known/jwks.json`);
      });

      it('refreshes with an API token (no client secret: the API token id is the public client)', async () => {
        const api = await p.apiToken();
        const config = await discover(api.id, client.None());
        const tokens = await client.refreshTokenGrant(config, api.token);
        assert.equal(tokens.token_type, 'bearer');
        assert.equal(typeof tokens.access_token, 'string');
        assert.equal(tokens.refresh_token, undefined);
        assert.equal(typeof tokens.expiresIn(), 'number');
      });

      it('runs client_credentials with client_secret_basic and client_secret_post', async () => {
        for (const auth of [client.ClientSecretBasic(p.worker.clientSecret), client.ClientSecretPost(p.worker.clientSecret)]) {
          const config = await discover(p.worker.clientId, auth);
          const tokens = await client.clientCredentialsGrant(config);
          assert.equal(typeof tokens.access_token, 'string');
          assert.equal(tokens.scope, 'all');
        }
      });

      it('introspects and revokes', async () => {
        const token = await p.accessToken();
        const config = await discover(p.resourceServer.clientId, client.ClientSecretBasic(p.resourceServer.clientSecret));
        const active = await client.tokenIntrospection(config, token);
        assert.equal(active.active, true);
        assert.equal(active.client_id, p.worker.clientId);
        await client.tokenRevocation(config, token);
        assert.equal((await client.tokenIntrospection(config, token)).active, false);
      });

      it('reports wrong client credentials as the server answered them: 401 with a Basic challenge', async () => {
        const config = await discover(p.worker.clientId, client.ClientSecretBasic('wrong'));
        await assert.rejects(client.clientCredentialsGrant(config), (error: { code?: string; status?: number; cause?: { scheme: string }[] }) => {
          // openid-client surfaces the WWW-Authenticate challenge of RFC 6749 §5.2's 401.
          assert.equal(error.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE');
          assert.equal(error.status, 401);
          assert.equal(error.cause?.[0]?.scheme, 'basic');
          return true;
        });
      });
    });

    describe('oauth4webapi 3.8.8 (strict response processing)', () => {
      const options = { [oauth.allowInsecureRequests]: true };
      let as: oauth.AuthorizationServer;
      before(async () => {
        const issuer = new URL(p.issuer);
        as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }));
      });

      it('processes the refresh and client_credentials responses', async () => {
        const api = await p.apiToken();
        const refreshed = await oauth.processRefreshTokenResponse(as, { client_id: api.id }, await oauth.refreshTokenGrantRequest(as, { client_id: api.id }, oauth.None(), api.token, options));
        assert.equal(typeof refreshed.access_token, 'string');
        assert.equal(refreshed.refresh_token, undefined);
        const worker = { client_id: p.worker.clientId };
        const issued = await oauth.processClientCredentialsResponse(
          as,
          worker,
          await oauth.clientCredentialsGrantRequest(as, worker, oauth.ClientSecretBasic(p.worker.clientSecret), new URLSearchParams(), options),
        );
        assert.equal(issued.token_type, 'bearer');
      });

      it('processes introspection and revocation responses', async () => {
        const token = await p.accessToken();
        const rs = { client_id: p.resourceServer.clientId };
        const auth = oauth.ClientSecretPost(p.resourceServer.clientSecret);
        const introspected = await oauth.processIntrospectionResponse(as, rs, await oauth.introspectionRequest(as, rs, auth, token, options));
        assert.equal(introspected.active, true);
        assert.equal(await oauth.processRevocationResponse(await oauth.revocationRequest(as, rs, auth, token, options)), undefined);
      });

      it('validates the access token as a resource server (RFC 9068, validateJwtAccessToken)', async () => {
        const token = await p.accessToken();
        const request = new Request('http://api.test/plans', { headers: { authorization: `Bearer ${token}` } });
        const claims = await oauth.validateJwtAccessToken(as, request, 'api', options);
        assert.equal(claims.client_id, p.worker.clientId);
      });
    });

    describe('jose createRemoteJWKSet + jwtVerify with the RFC 9068 checks', () => {
      it('verifies typ at+jwt, iss, aud and the required claims', async () => {
        const token = await p.accessToken();
        const jwks = createRemoteJWKSet(new URL(`${p.issuer}/.well-known/jwks.json`));
        const { payload, protectedHeader } = await jwtVerify(token, jwks, {
          issuer: p.issuer,
          audience: 'api',
          typ: 'at+jwt',
          // RFC 9068 §2.2: the claims an access token must carry.
          requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
        });
        assert.equal(protectedHeader.alg, algorithm);
        assert.equal(payload['client_id'], p.worker.clientId);
      });
    });

    describe('jsonwebtoken 9.0.3 + jwks-rsa 4.1.0', () => {
      const verifyWithJwksRsa = async (token: string) => {
        const keys = jwksRsa({ jwksUri: `${p.issuer}/.well-known/jwks.json` });
        const { header } = jwt.decode(token, { complete: true }) ?? assert.fail('not a JWT');
        const key = await keys.getSigningKey(header.kid);
        return jwt.verify(token, key.getPublicKey(), { algorithms: ['RS256', 'ES256'], issuer: p.issuer, audience: 'api' }) as jwt.JwtPayload;
      };

      if (algorithm === 'EdDSA') {
        it('cannot verify EdDSA by design (jsonwebtoken has no EdDSA): it refuses', async () => {
          const token = await p.accessToken();
          await assert.rejects(verifyWithJwksRsa(token));
          // Even when told to accept it, jsonwebtoken 9 does not know the algorithm.
          const keys = jwksRsa({ jwksUri: `${p.issuer}/.well-known/jwks.json` });
          const kid = jwt.decode(token, { complete: true })?.header.kid;
          await assert.rejects(async () => {
            const key = await keys.getSigningKey(kid);
            jwt.verify(token, key.getPublicKey(), { algorithms: ['EdDSA' as jwt.Algorithm] });
          });
        });
      } else {
        it('verifies the access token', async () => {
          const payload = await verifyWithJwksRsa(await p.accessToken());
          assert.equal(payload['client_id'], p.worker.clientId);
        });
      }
    });

    describe('express-oauth2-jwt-bearer 1.10.0', () => {
      it('protects an Express route with issuerBaseURL discovery, strict (typ at+jwt)', async () => {
        const app = express();
        app.use(expressJwtBearer({ issuerBaseURL: p.issuer, audience: 'api', strict: true }));
        app.get('/plans', (request, response) => {
          response.json({ sub: request.auth?.payload.sub });
        });
        // The library's refusals carry their status and WWW-Authenticate; answer them without Express's stack-trace page.
        app.use((error: { status?: number; headers?: Record<string, string> }, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
          response.status(error.status ?? 500).set(error.headers ?? {}).end();
        });
        const server = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        try {
          const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          const token = await p.accessToken();
          const ok = await fetch(`${base}/plans`, { headers: { authorization: `Bearer ${token}` } });
          assert.equal(ok.status, 200, await ok.clone().text());
          assert.deepEqual(await ok.json(), { sub: p.worker.clientId });
          const forged = await fetch(`${base}/plans`, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
          assert.equal(forged.status, 401);
        } finally {
          server.close();
        }
      });
    });

    describe('@fastify/jwt 10.2.8 + get-jwks 11.0.3', () => {
      const protectedApp = async () => {
        const getJwks = buildGetJwks({ issuersWhitelist: [`${p.issuer}/`] });
        const app = Fastify();
        await app.register(fastifyJwt, {
          decode: { complete: true },
          secret: (_request: unknown, token: { header: { kid: string; alg: string }; payload: { iss: string } }) =>
            getJwks.getPublicKey({ kid: token.header.kid, domain: token.payload.iss, alg: token.header.alg }),
          verify: { allowedIss: p.issuer, allowedAud: 'api' },
        } as never);
        app.get('/plans', async (request) => {
          await request.jwtVerify();
          return { sub: (request.user as { sub: string }).sub };
        });
        return app;
      };

      if (algorithm === 'EdDSA') {
        it('cannot verify EdDSA by design (get-jwks converts with jwk-to-pem, which has no OKP): it refuses', async () => {
          const app = await protectedApp();
          try {
            const response = await app.inject({ method: 'GET', url: '/plans', headers: { authorization: `Bearer ${await p.accessToken()}` } });
            assert.notEqual(response.statusCode, 200);
            const getJwks = buildGetJwks();
            const kid = JSON.parse(Buffer.from((await p.accessToken()).split('.')[0] as string, 'base64url').toString()).kid;
            await assert.rejects(getJwks.getPublicKey({ kid, domain: p.issuer, alg: 'EdDSA' }), /OKP/);
          } finally {
            await app.close();
          }
        });
      } else {
        it('verifies the access token on a Fastify route', async () => {
          const app = await protectedApp();
          try {
            const response = await app.inject({ method: 'GET', url: '/plans', headers: { authorization: `Bearer ${await p.accessToken()}` } });
            assert.equal(response.statusCode, 200, response.body);
            assert.deepEqual(response.json(), { sub: p.worker.clientId });
          } finally {
            await app.close();
          }
        });
      }
    });
  });
}
