/**
 * npm run bench:verify — what @tessera/verify costs an API server (issue 5 targets):
 *  1. in-process verifications per second: a bare node:crypto Ed25519 verify (the baseline),
 *     cold SDK verification (every token new) and cached verification (the same token again);
 *  2. requests per second and server CPU per request of the same Fastify route protected and
 *     unprotected (bare, and sent the same Authorization header), driven from a separate load
 *     process in the same run;
 *  3. the cost of each signature algorithm Tessera signs with (ES256, the default; RS256;
 *     EdDSA): bare node:crypto verify and cold SDK verification, as ratios to ES256.
 * Ratios to baselines measured in the same run are the evidence; absolute figures are noise.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { createVerifier, fastifyAuth, type RequestLike } from '@tessera/verify';
import { runInterleavedCpu } from './lib/cpu.js';
import { placement, printTable, ratio, runLoad } from './lib/load.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const kid = 'bench-key';
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
const jwksServer = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;

const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid })).toString('base64url');
function token(n: number): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, aud: 'api', sub: `usr_${n}`, org: 'org_1', roles: ['member'], scope: 'custom', endpoints: ['GET /plans'], tid: 'tok_1', amr: ['token'], client_id: 'tok_1', jti: `j${n}`, iat: now, exp: now + 3600 };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
}

const verifier = createVerifier({ issuer, audience: 'api', jwksUri: `${issuer}/jwks` });
const requestFor = (t: string): RequestLike => ({ method: 'GET', url: '/plans/7', header: (n) => (n === 'authorization' ? `Bearer ${t}` : undefined), remoteAddress: '127.0.0.1' });

async function opsPerSecond(run: (i: number) => unknown | Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(1000, iterations); i++) await run(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await run(i);
  return iterations / (Number(process.hrtime.bigint() - start) / 1e9);
}

// 1. In process.
const cold = Array.from({ length: 20_000 }, (_, i) => token(i));
const sample = cold[0] as string;
const [signingInput, signature] = [sample.slice(0, sample.lastIndexOf('.')), Buffer.from(sample.slice(sample.lastIndexOf('.') + 1), 'base64url')];
const bare = await opsPerSecond(() => verify(null, Buffer.from(signingInput), publicKey, signature), 20_000);
await verifier.verify(requestFor(sample)); // fetch the JWKS once
const coldRate = await opsPerSecond((i) => verifier.verify(requestFor(cold[(i % 19_000) + 1000] as string)), 19_000);
const cachedRequest = requestFor(sample);
const cachedRate = await opsPerSecond(() => verifier.verify(cachedRequest), 1_000_000);
let syncCount = 0;
const syncStart = process.hrtime.bigint();
for (let i = 0; i < 2_000_000; i++) if (verifier.verifySync(cachedRequest)?.ok) syncCount++;
const syncRate = syncCount / (Number(process.hrtime.bigint() - syncStart) / 1e9);
printTable('In-process verification (one core)', [
  { what: 'node:crypto Ed25519 verify (baseline)', 'ops/s': Math.round(bare), ratio: '1.00' },
  { what: 'SDK cold (new token each time)', 'ops/s': Math.round(coldRate), ratio: ratio(coldRate, bare) },
  { what: 'SDK cached, await verify() (scope checked)', 'ops/s': Math.round(cachedRate), ratio: ratio(cachedRate, bare) },
  { what: 'SDK cached, verifySync() as adapters use it', 'ops/s': Math.round(syncRate), ratio: ratio(syncRate, bare) },
]);

// 2. Over HTTP, from a separate load process.
const app = Fastify();
app.get('/open/plans/7', async () => ({ ok: true }));
await app.register(async (protectedScope) => {
  await protectedScope.register(fastifyAuth(verifier));
  protectedScope.get('/plans/7', async () => ({ ok: true }));
});
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const seconds = Number(process.env['BENCH_SECONDS'] ?? 4);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
await runLoad({ url: `${base}/open/plans/7`, seconds: 1 }); // warm up
await runLoad({ url: `${base}/plans/7`, seconds: 1, headers: { authorization: `Bearer ${sample}` } });
// The unprotected route twice: bare, and sent the same Authorization header as the protected one,
// so the two differ only by the verification (a 600-byte header costs parsing on both sides).
// Server CPU per request is read for this process, where the routes run (bench/lib/cpu.ts): on a
// shared machine it moves far less than requests per second.
const { open, openWithHeader, guarded } = await runInterleavedCpu(
  {
    open: { url: `${base}/open/plans/7`, seconds },
    openWithHeader: { url: `${base}/open/plans/7`, seconds, headers: { authorization: `Bearer ${sample}` } },
    guarded: { url: `${base}/plans/7`, seconds, headers: { authorization: `Bearer ${sample}` } },
  },
  rounds,
);
if (guarded.non2xx > 0) throw new Error(`protected route answered ${guarded.non2xx} non-2xx responses`);
const cpuRatio = (baseline: number, value: number) => (baseline / value).toFixed(2);
printTable(`Fastify route from a separate load process (32 connections; median of ${rounds} interleaved ${seconds} s rounds; ${placement})`, [
  { route: 'unprotected (baseline)', 'req/s': Math.round(open.requestsPerSecond), 'p50 ms': open.p50Ms, 'p99 ms': open.p99Ms, 'req/s ratio': '1.00', 'server µs/req': Math.round(open.serverUsPerRequest), 'CPU ratio': '1.00' },
  {
    route: 'unprotected, same Authorization header',
    'req/s': Math.round(openWithHeader.requestsPerSecond),
    'p50 ms': openWithHeader.p50Ms,
    'p99 ms': openWithHeader.p99Ms,
    'req/s ratio': ratio(openWithHeader.requestsPerSecond, open.requestsPerSecond),
    'server µs/req': Math.round(openWithHeader.serverUsPerRequest),
    'CPU ratio': cpuRatio(open.serverUsPerRequest, openWithHeader.serverUsPerRequest),
  },
  {
    route: 'protected by @tessera/verify',
    'req/s': Math.round(guarded.requestsPerSecond),
    'p50 ms': guarded.p50Ms,
    'p99 ms': guarded.p99Ms,
    'req/s ratio': ratio(guarded.requestsPerSecond, open.requestsPerSecond),
    'server µs/req': Math.round(guarded.serverUsPerRequest),
    'CPU ratio': cpuRatio(open.serverUsPerRequest, guarded.serverUsPerRequest),
  },
]);
console.log(
  `Protected vs the same request unprotected: ${ratio(guarded.requestsPerSecond, openWithHeader.requestsPerSecond)} by req/s, ` +
    `${cpuRatio(openWithHeader.serverUsPerRequest, guarded.serverUsPerRequest)} by server CPU per request (CPU ratio: unprotected µs / protected µs).`,
);
console.log('\nTargets: protected ≥ 0.9 of unprotected (issue 17); cached ≥ 1,000,000/s; cold ≥ 0.8 of the bare verify.');

// 3. Per algorithm, against one JWKS holding a key of each.
const perAlgorithm = (['ES256', 'RS256', 'EdDSA'] as const).map((alg) => {
  const pair =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { alg, kid: `bench-${alg}`, ...pair };
});
const signWith = (alg: string, data: Buffer, key: KeyObject) =>
  alg === 'EdDSA' ? sign(null, data, key) : alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, key);
const verifyWith = (alg: string, data: Buffer, key: KeyObject, signature: Buffer) =>
  alg === 'EdDSA' ? verify(null, data, key, signature) : alg === 'ES256' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verify('sha256', data, key, signature);
const multiJwks = createServer((_req, res) =>
  res.end(JSON.stringify({ keys: perAlgorithm.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })) })),
);
await new Promise<void>((resolve) => multiJwks.listen(0, '127.0.0.1', resolve));
const multiIssuer = `http://127.0.0.1:${(multiJwks.address() as AddressInfo).port}`;
const multiVerifier = createVerifier({ issuer: multiIssuer, audience: 'api', jwksUri: `${multiIssuer}/jwks` });
const algorithmRows = [];
for (const { alg, kid: algKid, privateKey: algKey, publicKey: algPublic } of perAlgorithm) {
  const algHeader = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid: algKid })).toString('base64url');
  const mintAlg = (n: number) => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${algHeader}.${Buffer.from(JSON.stringify({ iss: multiIssuer, aud: 'api', sub: `usr_${n}`, org: 'org_1', roles: ['member'], scope: 'all', tid: 'tok_1', amr: ['token'], client_id: 'tok_1', jti: `${alg}${n}`, iat: now, exp: now + 3600 })).toString('base64url')}`;
    return `${input}.${signWith(alg, Buffer.from(input), algKey).toString('base64url')}`;
  };
  const count = 4000;
  const signStart = process.hrtime.bigint();
  const tokens = Array.from({ length: count + 1 }, (_, i) => mintAlg(i));
  const signRate = (count + 1) / (Number(process.hrtime.bigint() - signStart) / 1e9);
  const first = tokens[0] as string;
  const input = Buffer.from(first.slice(0, first.lastIndexOf('.')));
  const sig = Buffer.from(first.slice(first.lastIndexOf('.') + 1), 'base64url');
  const bareRate = await opsPerSecond(() => verifyWith(alg, input, algPublic, sig), count);
  await multiVerifier.verify(requestFor(first)); // fetch the JWKS key once
  const coldAlgRate = await opsPerSecond((i) => multiVerifier.verify(requestFor(tokens[(i % count) + 1] as string)), count);
  algorithmRows.push({ alg, signRate, bareRate, coldAlgRate });
}
const es = algorithmRows[0] as (typeof algorithmRows)[number];
printTable('Per signature algorithm (one core; ratios to ES256, the default)', algorithmRows.map((row) => ({
  algorithm: row.alg,
  'signs/s': Math.round(row.signRate),
  'sign ratio': ratio(row.signRate, es.signRate),
  'bare verifies/s': Math.round(row.bareRate),
  'bare ratio': ratio(row.bareRate, es.bareRate),
  'SDK cold/s': Math.round(row.coldAlgRate),
  'SDK cold ratio': ratio(row.coldAlgRate, es.coldAlgRate),
})));

await app.close();
verifier.close();
multiVerifier.close();
jwksServer.close();
multiJwks.close();
