/**
 * npm run bench:inject — Tessera's own CPU per request on the token endpoint and introspection,
 * without sockets: requests are injected into the Fastify app (light-my-request) one after the
 * other, in this process, and the process CPU per request is read. No load generator shares
 * the cores, so on a busy machine it moves far less than bench:floor does; it is the quick A/B
 * for a change to the hot path (its figures include light-my-request's own cost, the same on
 * both sides). PGlite by default; BENCH_DATABASE=pg for PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, startServer, type RunningServer } from '@tessera/server';
import { printTable } from './lib/load.js';
import { withBenchDatabase } from './lib/database.js';
import { prepareOAuthLoads, benchAlgorithm, oauthBenchEnv } from './lib/oauth-loads.js';

const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const count = Number(process.env['BENCH_REQUESTS'] ?? 5000);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const database = process.env['BENCH_DATABASE'] === 'pg' ? 'pg' : 'pglite';
const algorithm = benchAlgorithm;
const env = oauthBenchEnv(algorithm);

async function measure(server: RunningServer): Promise<Record<string, string | number>[]> {
  const loads = await prepareOAuthLoads(server);
  const routes = { 'refresh_token grant': loads.refresh, 'client_credentials grant': loads.clientCredentials, 'introspection of an access token': loads.introspection };
  const samples = new Map<string, number[]>();
  const run = async (load: (typeof routes)[keyof typeof routes], n: number) => {
    const url = new URL(load.url).pathname;
    const before = process.cpuUsage();
    // 8 in flight, as a few keep-alive connections would be.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < n / 8; i++) {
          const response = await server.app.inject({ method: 'POST', url, headers: load.headers, payload: load.body });
          if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
        }
      }),
    );
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  for (const load of Object.values(routes)) await run(load, 1000);
  for (let round = 0; round < rounds; round++) {
    for (const [what, load] of Object.entries(routes)) samples.set(what, [...(samples.get(what) ?? []), await run(load, count)]);
  }
  return [...samples].map(([route, list]) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { route, 'µs/req (median)': Math.round(sorted[Math.floor(sorted.length / 2)] as number), min: Math.round(sorted[0] as number), max: Math.round(sorted.at(-1) as number) };
  });
}

const title = `Injected, ${database}, ${algorithm} (${rounds} interleaved rounds of ${count} requests, CPU of this process per request)`;
if (database === 'pg') {
  await withBenchDatabase(adminUrl, async ({ url }) => {
    const server = await startServer(loadConfig(env, { port: 0, databaseUrl: url, adminPassword: 'bench admin password', secretKey: randomBytes(32) }));
    try {
      printTable(title, await measure(server));
    } finally {
      await server.close();
    }
  });
} else {
  const server = await startServer(loadConfig(env, { port: 0, adminPassword: 'bench admin password', secretKey: randomBytes(32) }), { inMemory: true });
  try {
    printTable(title, await measure(server));
  } finally {
    await server.close();
  }
}
