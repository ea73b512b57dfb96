import { createHash, generateKeyPairSync, sign, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * The floor of issue 17: the least work a token endpoint can do and still be one — a plain
 * node:http handler that reads the form body, checks HTTP Basic client credentials by a
 * SHA-256 compare, and answers JSON: with one JWT signature for the grants, with an in-memory
 * lookup for introspection. Kept minimal on purpose: it is what Tessera's CPU per request is
 * compared with, so every line here is work Tessera must also do.
 */
export interface FloorServer {
  readonly url: string;
  readonly basic: string;
  readonly accessToken: string;
  close(): Promise<void>;
}

const hash = (value: string) => createHash('sha256').update(value).digest();

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

/** `algorithm` is the JOSE name of the one signature the grants make (Tessera's setting). */
export async function startFloorServer(algorithm: 'EdDSA' | 'ES256' | 'RS256'): Promise<FloorServer> {
  const { privateKey } =
    algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : algorithm === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const digest = algorithm === 'EdDSA' ? null : 'sha256';
  const header = Buffer.from(JSON.stringify({ alg: algorithm, typ: 'at+jwt', kid: 'floor' })).toString('base64url');
  const clientId = 'floor-client';
  const clientSecret = 'floor-secret-0123456789abcdef0123456789';
  const secretHash = hash(clientSecret);
  const issued = new Map<string, object>();

  const mint = () => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: 'http://floor', sub: clientId, aud: 'api', iat, exp: iat + 1800, jti: Math.random().toString(36).slice(2), client_id: clientId };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign(digest, Buffer.from(input), algorithm === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
    const token = `${input}.${signature.toString('base64url')}`;
    return { token, claims };
  };
  const { token: accessToken, claims } = mint();
  issued.set(accessToken, claims);

  const server: Server = createServer(async (request, response) => {
    const body = new URLSearchParams(await readBody(request));
    const credentials = Buffer.from((request.headers.authorization ?? '').slice(6), 'base64').toString('utf8');
    const colon = credentials.indexOf(':');
    const secret = hash(credentials.slice(colon + 1));
    if (credentials.slice(0, colon) !== clientId || !timingSafeEqual(secret, secretHash)) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      return;
    }
    let answer: string;
    if (request.url === '/token') {
      body.get('grant_type');
      answer = JSON.stringify({ access_token: mint().token, token_type: 'Bearer', expires_in: 1800, scope: 'all' });
    } else {
      const found = issued.get(body.get('token') ?? '');
      answer = JSON.stringify(found ? { active: true, ...found } : { active: false });
    }
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    basic: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    accessToken,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
