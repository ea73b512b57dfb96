/**
 * npm run bench:profile — where Tessera's server CPU goes on the token endpoint and
 * introspection (issue 17 item 2). Starts the real server in this process (PGlite by default,
 * PostgreSQL with BENCH_DATABASE=pg), loads one route from a separate process as bench:floor
 * does, and samples this process with the V8 profiler (node:inspector) for the run only. Prints
 * the top self-time functions and self time by where the code lives (Tessera's source, each
 * dependency, Node's internals), and writes the .cpuprofile for Chrome DevTools or speedscope.
 *
 * BENCH_ROUTE: refresh | client_credentials | introspection | floor-grant | floor-introspection
 * (default: the first three, one profile each; the floor's are bench/lib/floor-server.ts, for
 * telling Tessera's work from the floor's).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import pg from 'pg';
import { loadConfig, startServer, type RunningServer } from '@tessera/server';
import { startFloorServer } from './lib/floor-server.js';
import { runLoad } from './lib/load.js';
import { withBenchDatabase } from './lib/database.js';
import { prepareOAuthLoads, benchAlgorithm, oauthBenchEnv } from './lib/oauth-loads.js';

const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const database = process.env['BENCH_DATABASE'] === 'pg' ? 'pg' : 'pglite';
const algorithm = benchAlgorithm;
const top = Number(process.env['BENCH_TOP'] ?? 30);
const routes = (process.env['BENCH_ROUTE'] ?? 'refresh,client_credentials,introspection').split(',') as ('refresh' | 'client_credentials' | 'introspection' | 'floor-grant' | 'floor-introspection')[];
const out = process.env['BENCH_PROFILE_DIR'] ?? '/tmp';
const env = oauthBenchEnv(algorithm);

/** Where a frame's code lives: Tessera's file, a dependency, or Node itself. */
function placeOf(url: string): string {
  if (url === '') return '(native / V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
  }
  if (url.startsWith('node:')) return 'node internals';
  const packages = url.indexOf('/packages/');
  return packages >= 0 ? url.slice(packages + 1) : url;
}

function summarise(profile: Profiler.Profile, requests: number): void {
  const total = profile.endTime - profile.startTime; // µs
  const samples = profile.samples?.length ?? 1;
  const perSample = total / samples;
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    const us = (node.hitCount ?? 0) * perSample;
    if (us === 0) continue;
    const place = placeOf(frame.url);
    const name = `${frame.functionName || '(anonymous)'}  ${place}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  const busy = [...byPlace.values()].reduce((a, b) => a + b, 0);
  const line = (us: number, label: string) => `${(us / requests).toFixed(1).padStart(7)} µs/req ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${label}`;
  console.log(`  sampled busy time ${(busy / requests).toFixed(1)} µs/req over ${requests} requests`);
  console.log('  by place:');
  for (const [place, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${line(us, place)}`);
  console.log(`  top ${top} functions by self time:`);
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${line(us, name)}`);
}

/** Per-table reads and writes, and transactions, of the bench database (PostgreSQL only). */
type TableStats = Map<string, number>;
let readStats: (() => Promise<TableStats>) | undefined;

async function profileRoutes(server: RunningServer, label: string): Promise<void> {
  const loads = await prepareOAuthLoads(server);
  const floor = await startFloorServer(algorithm);
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: floor.basic };
  const byRoute = {
    refresh: loads.refresh,
    client_credentials: loads.clientCredentials,
    introspection: loads.introspection,
    'floor-grant': { url: `${floor.url}/token`, method: 'POST' as const, headers: form, body: 'grant_type=client_credentials' },
    'floor-introspection': { url: `${floor.url}/introspect`, method: 'POST' as const, headers: form, body: new URLSearchParams({ token: floor.accessToken }).toString() },
  } as const;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  try {
    for (const route of routes) {
      const load = byRoute[route];
      await runLoad({ ...load, seconds: 1 }); // warm up: JIT, caches, connections
      const statsBefore = await readStats?.();
      await session.post('Profiler.start');
      const result = await runLoad({ ...load, seconds });
      const { profile } = await session.post('Profiler.stop');
      const statsAfter = await readStats?.();
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${route}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      const file = `${out}/tessera-${label}-${algorithm}-${route}.cpuprofile`;
      await writeFile(file, JSON.stringify(profile));
      console.log(`\n${route} on ${label}, ${algorithm}: ${Math.round(result.requestsPerSecond)} req/s (${file})`);
      summarise(profile, result.requests);
      if (statsBefore && statsAfter) {
        console.log('  database work per request (pg_stat_*):');
        for (const [what, value] of statsAfter) {
          const delta = (value - (statsBefore.get(what) ?? 0)) / result.requests;
          if (delta >= 0.001) console.log(`    ${delta.toFixed(3).padStart(8)}  ${what}`);
        }
      }
    }
  } finally {
    await session.post('Profiler.disable');
    session.disconnect();
    await floor.close();
  }
}

if (database === 'pg') {
  await withBenchDatabase(adminUrl, async ({ url }) => {
    const server = await startServer(loadConfig(env, { port: 0, databaseUrl: url, adminPassword: 'bench admin password', secretKey: randomBytes(32) }));
    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    readStats = async () => {
      // Statistics are sent by backends at transaction end and read in a snapshot: clear it first.
      await probe.query('SELECT pg_stat_clear_snapshot()');
      const tables = await probe.query<{ relname: string; reads: string; writes: string }>(
        'SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS reads, n_tup_ins + n_tup_upd + n_tup_del AS writes FROM pg_stat_user_tables',
      );
      const database = await probe.query<{ xact_commit: string }>('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()');
      const stats: TableStats = new Map([['transactions (all sessions)', Number(database.rows[0]?.xact_commit ?? 0)]]);
      for (const row of tables.rows) {
        stats.set(`${row.relname} reads`, Number(row.reads));
        stats.set(`${row.relname} rows written`, Number(row.writes));
      }
      return stats;
    };
    try {
      await profileRoutes(server, 'postgresql');
    } finally {
      await probe.end();
      await server.close();
    }
  });
} else {
  const server = await startServer(loadConfig(env, { port: 0, adminPassword: 'bench admin password', secretKey: randomBytes(32) }), { inMemory: true });
  try {
    await profileRoutes(server, 'pglite');
  } finally {
    await server.close();
  }
}
