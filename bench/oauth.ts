/**
 * npm run bench:oauth — the OAuth token service under load (issues 4 and 11). First the
 * in-process cost of signing and verifying one access token with each algorithm (ES256, RS256,
 * EdDSA), as ratios to ES256, the default. Then, for each database (a
 * PostgreSQL database of its own, created from TESSERA_BENCH_DATABASE_URL — default
 * postgres://postgres@127.0.0.1:5432/postgres — and dropped at the end; then the embedded
 * PGlite), the real server is started in this process and driven over loopback by autocannon
 * in a separate process: the refresh grant, the client-credentials grant and introspection of
 * an access token, each as a ratio to GET /healthz of the same server measured in the same run
 * (interleaved rounds, median of each, so background load hits baseline and routes alike).
 * Absolute figures on a shared machine are noise; the ratios are the evidence.
 */
import { randomBytes } from 'node:crypto';
import { generateSigningKey, openSigningKey, signAccessToken, verifyAccessToken, type AccessTokenClaims } from '../packages/server/src/core/access-token-format.js';
import { loadConfig, startServer, type RunningServer } from '@tessera/server';
import { withBenchDatabase } from './lib/database.js';
import { placement, printTable, ratio, runInterleaved, runLoad, type LoadResult } from './lib/load.js';
import { basic, call, form } from './lib/oauth-loads.js';

const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(process.env['BENCH_SECONDS'] ?? 3);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const adminPassword = 'bench admin password';
async function measure(server: RunningServer, only?: string[]): Promise<Record<string, string | number>[]> {
  const session = (await call(server, 'POST', '/api/v1/sessions', { username: 'admin', password: adminPassword })).session_token as string;
  // Several servers share one database in turn: names of their own.
  const suffix = randomBytes(3).toString('hex');
  const apiToken = await call(server, 'POST', '/api/v1/tokens', { name: `bench-${suffix}`, scope: { kind: 'all' }, expires: '30D' }, session);
  const worker = await call(server, 'POST', '/api/v1/apps', { name: `bench-worker-${suffix}`, roles: ['member'] }, session);
  const resourceServer = await call(server, 'POST', '/api/v1/apps', { name: `bench-api-${suffix}`, can_introspect: true }, session);
  const accessToken = apiToken.access_token as string;

  const all: { what: string; load: Parameters<typeof runLoad>[0] }[] = [
    { what: 'GET /healthz (baseline)', load: { url: `${server.url}/healthz` } },
    {
      what: 'refresh_token grant',
      load: { url: `${server.url}/oauth/token`, method: 'POST', headers: { 'content-type': form }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiToken.token as string }).toString() },
    },
    {
      what: 'client_credentials grant',
      load: {
        url: `${server.url}/oauth/token`,
        method: 'POST',
        headers: { 'content-type': form, authorization: basic(worker.client_id as string, worker.client_secret as string) },
        body: 'grant_type=client_credentials',
      },
    },
    {
      what: 'introspection of an access token',
      load: {
        url: `${server.url}/oauth/introspect`,
        method: 'POST',
        headers: { 'content-type': form, authorization: basic(resourceServer.client_id as string, resourceServer.client_secret as string) },
        body: new URLSearchParams({ token: accessToken }).toString(),
      },
    },
  ];
  const runs = all.filter((run) => only === undefined || only.some((what) => run.what.startsWith(what)));
  // Warm up every route once (JIT, caches, connection pool) before measuring.
  for (const run of runs) await runLoad({ ...run.load, seconds: 1 });
  const measured = await runInterleaved(Object.fromEntries(runs.map((run) => [run.what, { ...run.load, seconds }])), rounds);
  const results = runs.map((run) => measured[run.what] as LoadResult);
  for (const [i, result] of results.entries()) {
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${runs[i]?.what}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  const baseline = (results[0] as LoadResult).requestsPerSecond;
  return runs.map((run, i) => {
    const result = results[i] as LoadResult;
    return { route: run.what, 'req/s': Math.round(result.requestsPerSecond), 'p50 ms': result.p50Ms, 'p99 ms': result.p99Ms, ratio: ratio(result.requestsPerSecond, baseline) };
  });
}

// The limits are for abuse, not for a benchmark that hammers one token from one address.
const env = { TESSERA_LOG_LEVEL: 'silent', TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000', TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '1000000' };

// 0. In process: one token signed and verified by the server's own code, per algorithm.
const algorithms = ['ES256', 'RS256', 'EdDSA'] as const;
const now = new Date();
const iat = Math.floor(now.getTime() / 1000);
const claims: AccessTokenClaims = { iss: 'http://bench', sub: 'usr_1', aud: 'api', exp: iat + 1800, iat, jti: 'j', client_id: 'tok_1', org: 'org_1', roles: ['member'], scope: 'all', tid: 'tok_1', amr: ['token'] };
function perSecond(run: () => unknown, seconds = 0.5): number {
  for (let i = 0; i < 200; i++) run();
  let count = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < 50; i++) run();
    count += 50;
  }
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}
const inProcess = algorithms.map((algorithm) => {
  const key = openSigningKey(Buffer.alloc(32, 1), generateSigningKey(Buffer.alloc(32, 1), 'k', randomBytes(12), now, algorithm));
  const token = signAccessToken(key, claims);
  const signs = perSecond(() => signAccessToken(key, claims));
  const verifies = perSecond(() => verifyAccessToken(token, () => key, { issuer: 'http://bench', now }));
  return { algorithm, signs, verifies };
});
const es256 = inProcess[0] as (typeof inProcess)[number];
printTable('Access-token signing and verification in process (one core; ratios to ES256, the default)', inProcess.map((row) => ({
  algorithm: row.algorithm,
  'signs/s': Math.round(row.signs),
  'µs/sign': (1e6 / row.signs).toFixed(1),
  'sign ratio': ratio(row.signs, es256.signs),
  'verifies/s': Math.round(row.verifies),
  'µs/verify': (1e6 / row.verifies).toFixed(1),
  'verify ratio': ratio(row.verifies, es256.verifies),
})));

// PostgreSQL, one server per signing algorithm: the grants that sign, against the baseline.
const secretKey = randomBytes(32);
await withBenchDatabase(adminUrl, async ({ url }) => {
  for (const algorithm of algorithms) {
    // A new algorithm on the same database rotates to a key of it at start (SPEC 5.2).
    const server = await startServer(loadConfig({ ...env, TESSERA_SIGNING_ALGORITHM: algorithm }, { port: 0, databaseUrl: url, adminPassword, secretKey }));
    try {
      printTable(
        `On PostgreSQL, ${algorithm} (median of ${rounds} interleaved ${seconds} s rounds per route, 32 connections, load from a separate process; ${placement})`,
        await measure(server, algorithm === 'ES256' ? undefined : ['GET /healthz', 'refresh_token', 'client_credentials']),
      );
    } finally {
      await server.close();
    }
  }
});

// PGlite, in memory.
const embedded = await startServer(loadConfig(env, { port: 0, adminPassword, secretKey: randomBytes(32) }), { inMemory: true });
try {
  printTable(`On PGlite (median of ${rounds} interleaved ${seconds} s rounds per route, 32 connections, load from a separate process; ${placement})`, await measure(embedded));
} finally {
  await embedded.close();
}
console.log('\nTargets on PostgreSQL: refresh grant ≥ 0.20 of the baseline; introspection of an access token ≥ 0.35.');
