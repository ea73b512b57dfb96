import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authorizationOf, corpus, type CorpusSigner } from '../../../sdks/corpus/corpus.js';
import { createVerifier, type RequestLike, type Verifier } from '../src/index.js';

/**
 * The conformance corpus (sdks/corpus/cases.json) through @tessera/verify: the reference the
 * Python and Go SDKs and GET /forward-auth are held to, case by case.
 */
describe('conformance corpus through @tessera/verify', () => {
  let server: Server;
  let signer: CorpusSigner;
  let verifier: Verifier;

  before(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'corpus-1', alg: 'EdDSA', use: 'sig' };
    server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    signer = { issuer, kid: 'corpus-1', privateKey };
    verifier = createVerifier({
      issuer,
      audience: corpus.settings.audience,
      clockSkewSeconds: corpus.settings.clock_skew_seconds,
      trustedProxies: corpus.settings.trusted_proxies,
      realm: corpus.settings.realm,
    });
  });
  after(async () => {
    verifier.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const testCase of corpus.cases) {
    it(testCase.name, async () => {
      const authorization = authorizationOf(testCase, signer);
      const headers: Record<string, string | undefined> = { authorization, 'x-forwarded-for': testCase.request.forwarded_for };
      const request: RequestLike = { method: testCase.request.method, url: testCase.request.path, header: (name) => headers[name], remoteAddress: testCase.request.peer };
      const verdict = await verifier.verify(request);
      const got = verdict.ok ? { status: 200, error: null } : { status: verdict.status, error: verdict.error ?? null };
      assert.deepEqual(got, { status: testCase.expect.status, error: testCase.expect.error }, verdict.ok ? 'allowed' : verdict.description);
      if (!verdict.ok && (verdict.status === 401 || verdict.status === 403)) {
        assert.match(verdict.wwwAuthenticate ?? '', new RegExp(`^Bearer realm="${corpus.settings.realm}"`));
      }
    });
  }
});
