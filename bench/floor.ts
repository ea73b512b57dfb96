/**
 * npm run bench:floor — Tessera's token endpoint and introspection against the floor (issue 17):
 * a minimal node:http handler doing only the work any token endpoint must do (bench/lib/
 * floor-server.ts). Reports server CPU µs per request — read for this process, where both
 * servers run while autocannon loads them from another process — and, on PostgreSQL, the CPU
 * of the database backends serving Tessera, each with its ratio to the floor. Interleaved
 * rounds, medians, pinned cores where taskset allows.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, startServer, type RunningServer } from '@tessera/server';
import { median, runInterleavedCpu, runInterleavedCpuRounds, type CpuResult } from './lib/cpu.js';
import { withBenchDatabase } from './lib/database.js';
import { startFloorServer } from './lib/floor-server.js';
import { placement, printTable } from './lib/load.js';
import { prepareOAuthLoads, benchAlgorithm, oauthBenchEnv } from './lib/oauth-loads.js';

const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(process.env['BENCH_SECONDS'] ?? 3);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
const algorithm = benchAlgorithm;
/** BENCH_DATABASE=pg or pglite measures one of them only. */
const databases = process.env['BENCH_DATABASE'] === 'pg' ? ['pg'] : process.env['BENCH_DATABASE'] === 'pglite' ? ['pglite'] : ['pg', 'pglite'];
const env = oauthBenchEnv(algorithm);
const form = 'application/x-www-form-urlencoded';
const us = (value: number) => Math.round(value);
const times = (value: number, floor: number) => `${(value / floor).toFixed(2)}×`;

async function measure(server: RunningServer, databasePids: () => Promise<number[]>): Promise<Record<string, string | number>[]> {
  const floor = await startFloorServer(algorithm);
  try {
    const tessera = await prepareOAuthLoads(server);
    const loads = {
      'floor: grant': { seconds, url: `${floor.url}/token`, method: 'POST' as const, headers: { 'content-type': form, authorization: floor.basic }, body: 'grant_type=client_credentials' },
      'floor: introspection': { seconds, url: `${floor.url}/introspect`, method: 'POST' as const, headers: { 'content-type': form, authorization: floor.basic }, body: new URLSearchParams({ token: floor.accessToken }).toString() },
      'refresh_token grant': { ...tessera.refresh, seconds, databasePids },
      'client_credentials grant': { ...tessera.clientCredentials, seconds, databasePids },
      'introspection of an access token': { ...tessera.introspection, seconds, databasePids },
    };
    for (const load of Object.values(loads)) await runInterleavedCpu({ warm: { ...load, seconds: 1 } }, 1);
    const rounded = await runInterleavedCpuRounds(loads, rounds);
    for (const [what, list] of Object.entries(rounded) as [string, CpuResult[]][]) {
      for (const result of list) if (result.non2xx > 0 || result.errors > 0) throw new Error(`${what}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    const cpu = (list: readonly CpuResult[]) => list.map((result) => result.serverUsPerRequest);
    const floorOf = (what: string) => rounded[what.includes('introspection') ? 'floor: introspection' : 'floor: grant'];
    return Object.entries(rounded).map(([what, list]) => {
      const mine = cpu(list as CpuResult[]);
      const floorRounds = cpu(floorOf(what));
      // Round r of the route ran seconds after round r of the floor: a slow stretch of this
      // shared machine slows both, so the ratio within a round varies less than either.
      const paired = mine.map((value, r) => value / (floorRounds[r] as number));
      return {
        route: what,
        'server µs/req': us(median(mine)),
        'vs floor': times(median(mine), median(floorRounds)),
        'vs floor, per round': `${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}-${Math.max(...paired).toFixed(2)})`,
        'database µs/req': us(median((list as CpuResult[]).map((result) => result.databaseUsPerRequest))),
        'req/s': Math.round(median((list as CpuResult[]).map((result) => result.requestsPerSecond))),
      };
    });
  } finally {
    await floor.close();
  }
}

const title = (where: string) => `${where}, ${algorithm} (medians of ${rounds} interleaved ${seconds} s rounds; per round: the median and range of each round's ratio to the floor's round; 32 connections, load from a separate process; ${placement})`;

// PostgreSQL: a database of its own, dropped at the end.
if (databases.includes('pg')) await withBenchDatabase(adminUrl, async ({ url, backends }) => {
  const server = await startServer(loadConfig(env, { port: 0, databaseUrl: url, adminPassword: 'bench admin password', secretKey: randomBytes(32) }));
  try {
    printTable(title('On PostgreSQL'), await measure(server, backends));
  } finally {
    await server.close();
  }
});

if (databases.includes('pglite')) {
  const embedded = await startServer(loadConfig(env, { port: 0, adminPassword: 'bench admin password', secretKey: randomBytes(32) }), { inMemory: true });
  try {
    printTable(title('On PGlite (in this process: its CPU is part of the server figure)'), await measure(embedded, async () => []));
  } finally {
    await embedded.close();
  }
}
console.log('\nGoals (issue 17): refresh ≤ 1.4× the floor, client_credentials ≤ 1.3×, introspection ≤ 1.6×.');
