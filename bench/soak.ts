/**
 * npm run bench:soak -- --minutes N [--warmup M] — does memory stay flat under a steady mixed
 * load (issue 13 item 7)? Runs the server in this process (PGlite in a temporary directory, or
 * a PostgreSQL database of its own created from TESSERA_BENCH_DATABASE_URL when that is set)
 * and the load in a child process over loopback, in cycles of: create an API token, three
 * refresh grants with rotation, three introspections of the minted access tokens, revoke the
 * token. Every 5 s it collects garbage (node --expose-gc) and samples heap used, RSS and the
 * size of every cache, so the slope is of what is retained, not of when the collector ran. At
 * the end it prints the heap and RSS slopes (least squares, MB per minute) after the warm-up.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig, startServer } from '@tessera/server';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    warmup: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    // Internal: this script, run again as the load generator against a URL.
    'load-against': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const warmupMinutes = values.warmup !== undefined ? Number(values.warmup) : Math.min(1, minutes / 4);
const concurrency = Number(values.concurrency);
if (!(minutes > 0) || !(warmupMinutes >= 0) || warmupMinutes >= minutes) throw new Error('--minutes must be > 0 and --warmup below it');

const adminPassword = 'soak bench admin password';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function call(base: string, method: string, path: string, init: { token?: string; json?: unknown; form?: Record<string, string>; authorization?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.authorization) headers['authorization'] = init.authorization;
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** The load generator (child process): cycles until the time is up, then prints its counts as JSON. */
async function generateLoad(base: string): Promise<void> {
  const statuses: Record<string, number> = {};
  const count = (what: string, status: number) => (statuses[`${what} ${status}`] = (statuses[`${what} ${status}`] ?? 0) + 1);
  const login = await call(base, 'POST', '/api/v1/sessions', { json: { username: 'admin', password: adminPassword } });
  const admin = login.body['session_token'] as string;
  await call(base, 'PUT', '/api/v1/policy', { token: admin, json: { refresh_token_rotation: true, max_tokens_per_user: 1000 } });
  const app = await call(base, 'POST', '/api/v1/apps', { token: admin, json: { name: 'soak-introspector', can_introspect: true } });
  const introspector = basic(app.body['client_id'] as string, app.body['client_secret'] as string);
  const endAt = Date.now() + minutes * 60_000;
  let cycles = 0;
  async function worker(): Promise<void> {
    while (Date.now() < endAt) {
      const created = await call(base, 'POST', '/api/v1/tokens', { token: admin, json: { name: `soak-${randomBytes(5).toString('hex')}`, scope: { kind: 'all' } } });
      count('create', created.status);
      if (created.status !== 201) continue;
      let secret = created.body['token'] as string;
      const accessTokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const grant = await call(base, 'POST', '/oauth/token', { form: { grant_type: 'refresh_token', refresh_token: secret } });
        count('refresh', grant.status);
        if (grant.status !== 200) break;
        secret = (grant.body['refresh_token'] as string | undefined) ?? secret;
        accessTokens.push(grant.body['access_token'] as string);
      }
      for (const token of accessTokens) count('introspect', (await call(base, 'POST', '/oauth/introspect', { form: { token }, authorization: introspector })).status);
      count('revoke', (await call(base, 'POST', `/api/v1/tokens/${created.body['id'] as string}/revoke`, { token: admin })).status);
      cycles++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  process.stdout.write(JSON.stringify({ cycles, statuses }) + '\n');
}

async function openDatabase(): Promise<{ overrides: Record<string, unknown>; drop(): Promise<void>; label: string }> {
  const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'];
  if (!adminUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
    return { overrides: { dataDir: dir }, label: 'PGlite', drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `tessera_soak_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    overrides: { databaseUrl: url.toString(), secretKey: randomBytes(32) },
    label: 'PostgreSQL',
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function soak(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:soak does)');
  const database = await openDatabase();
  const server = await startServer(
    loadConfig(
      { TESSERA_LOG_LEVEL: 'warn', TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000', TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '1000000' },
      { port: 0, adminPassword, ...database.overrides },
    ),
  );
  try {
    const { container } = server;
    const caches = () => ({ ...container.storage.cacheSizes(), rate_limit_windows: container.rateLimiter.size(), verified_access_tokens: container.oauth.verifiedCount() });
    const load = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', fileURLToPath(import.meta.url), '--load-against', server.url, '--minutes', String(minutes), '--concurrency', String(concurrency)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let loadOutput = '';
    load.stdout.on('data', (chunk: Buffer) => (loadOutput += chunk.toString()));
    const loadDone = new Promise<void>((resolve, reject) => load.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load generator exited ${code}`)))));
    console.log(`soak: ${minutes} min (warm-up ${warmupMinutes} min), ${concurrency} workers in a child process, ${database.label}`);

    const startedAt = Date.now();
    const samples: { atMin: number; heapMb: number; rssMb: number; caches: Record<string, number> }[] = [];
    const take = () => {
      gc();
      const memory = process.memoryUsage();
      samples.push({ atMin: (Date.now() - startedAt) / 60_000, heapMb: memory.heapUsed / 2 ** 20, rssMb: memory.rss / 2 ** 20, caches: caches() });
      return samples[samples.length - 1] as (typeof samples)[number];
    };
    let finished = false;
    void loadDone.finally(() => (finished = true));
    let lastPrint = -1;
    while (!finished) {
      const s = take();
      if (Math.floor(s.atMin) > lastPrint) {
        lastPrint = Math.floor(s.atMin);
        console.log(`  ${s.atMin.toFixed(1)} min: heap ${s.heapMb.toFixed(1)} MB, RSS ${s.rssMb.toFixed(1)} MB, caches ${JSON.stringify(s.caches)}`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 5000)), loadDone.catch(() => {})]);
    }
    await loadDone;
    const last = take();
    const { cycles, statuses } = JSON.parse(loadOutput) as { cycles: number; statuses: Record<string, number> };

    const after = samples.filter((s) => s.atMin >= warmupMinutes);
    const heapSlope = slope(after.map((s) => ({ x: s.atMin, y: s.heapMb })));
    const rssSlope = slope(after.map((s) => ({ x: s.atMin, y: s.rssMb })));
    const largest: Record<string, number> = {};
    for (const s of samples) for (const [name, size] of Object.entries(s.caches)) largest[name] = Math.max(largest[name] ?? 0, size);
    const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
    const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
    console.log('');
    console.log(`requests: ${requests} in ${cycles} cycles (${(requests / (minutes * 60)).toFixed(0)}/s): ${JSON.stringify(statuses)}`);
    console.log(`after the ${warmupMinutes} min warm-up (${after.length} samples over ${(minutes - warmupMinutes).toFixed(1)} min, each after a full GC):`);
    console.log(`  heap slope ${sign(heapSlope)} MB/min (from ${after[0]?.heapMb.toFixed(1)} to ${last.heapMb.toFixed(1)} MB)`);
    console.log(`  RSS slope  ${sign(rssSlope)} MB/min (from ${after[0]?.rssMb.toFixed(1)} to ${last.rssMb.toFixed(1)} MB)`);
    console.log(`  cache entries at the end ${JSON.stringify(last.caches)}, largest seen ${JSON.stringify(largest)}`);
  } finally {
    await server.close();
    await database.drop();
  }
}

if (values['load-against'] !== undefined) await generateLoad(values['load-against']);
else await soak();
