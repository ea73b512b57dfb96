import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

type KeyLike = CryptoKey | Uint8Array;

/**
 * A stand-in Tessera for SDK tests: signs access tokens with jose (an implementation
 * independent of the server's) and serves the JWKS, counting fetches. The real server is
 * exercised against the SDK in the server's own integration tests.
 */
export interface FakeIssuer {
  readonly issuer: string;
  readonly audience: string;
  jwksFetches: number;
  sign(claims?: Partial<JWTPayload> & Record<string, unknown>, header?: Record<string, unknown>, key?: KeyLike): Promise<string>;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** What the JWKS endpoint answers: the key (default), no key (retired), or a 500. */
  jwksMode: 'published' | 'retired' | 'failing';
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  let server: Server;
  const state = { jwksFetches: 0, jwksMode: 'published' as FakeIssuer['jwksMode'] };
  server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json') {
      state.jwksFetches++;
      if (state.jwksMode === 'failing') return void response.writeHead(500).end();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: state.jwksMode === 'published' ? [publicJwk] : [] }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeIssuer = {
    issuer,
    audience: 'api',
    get jwksFetches() {
      return state.jwksFetches;
    },
    set jwksFetches(value: number) {
      state.jwksFetches = value;
    },
    get jwksMode() {
      return state.jwksMode;
    },
    set jwksMode(mode) {
      state.jwksMode = mode;
    },
    privateKey,
    publicJwk,
    async sign(claims = {}, header = {}, key = privateKey) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        sub: 'usr_1',
        org: 'org_1',
        roles: ['member'],
        scope: 'all',
        tid: 'tok_1',
        amr: ['token'],
        client_id: 'tok_1',
        jti: `jti-${Math.random()}`,
        ...claims,
      })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1', ...header } as never)
        .setIssuer((claims.iss as string | undefined) ?? issuer)
        .setAudience((claims.aud as string | undefined) ?? 'api')
        .setIssuedAt((claims.iat as number | undefined) ?? now)
        .setExpirationTime((claims.exp as number | undefined) ?? now + 600)
        .sign(key);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}
