/**
 * npm run bench:soak -- --minutes N [--warmup M] — does memory stay flat under a steady mixed
 * load (issue 13 item 7)? Starts `tessera serve` as a process of its own (PGlite in a temporary
 * directory, or a PostgreSQL database of its own created from TESSERA_BENCH_DATABASE_URL when
 * that is set), drives it over loopback with cycles of: create an API token, three refresh
 * grants with rotation, three introspections of the minted access tokens, revoke the token.
 * Every 5 s it reads the server's own /metrics (heap used, RSS, cache entries). At the end it
 * prints the heap and RSS slopes (least squares, MB per minute) after the warm-up, and the
 * cache sizes; the server is measured alone, the load generator's memory is not in the figures.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' }, warmup: { type: 'string' }, concurrency: { type: 'string', default: '8' } } });
const minutes = Number(values.minutes);
const warmupMinutes = values.warmup !== undefined ? Number(values.warmup) : Math.min(1, minutes / 4);
const concurrency = Number(values.concurrency);
if (!(minutes > 0) || !(warmupMinutes >= 0) || warmupMinutes >= minutes) throw new Error('--minutes must be > 0 and --warmup below it');

const adminPassword = 'soak bench admin password';
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function openDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void>; label: string }> {
  const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'];
  if (!adminUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
    return { env: { TESSERA_DATA_DIR: dir }, label: 'PGlite', drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `tessera_soak_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { TESSERA_DATABASE_URL: url.toString(), TESSERA_SECRET_KEY: randomBytes(32).toString('base64') },
    label: 'PostgreSQL',
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      ...env,
      TESSERA_PORT: '0',
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_ADMIN_PASSWORD: adminPassword,
      TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000',
      TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '1000000',
      TESSERA_SHUTDOWN_DRAIN_SECONDS: '0',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

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

interface Sample {
  readonly atMin: number;
  readonly heapMb: number;
  readonly rssMb: number;
  readonly caches: Record<string, number>;
}

async function sample(base: string, startedAt: number): Promise<Sample> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const caches: Record<string, number> = {};
  for (const match of text.matchAll(/^tessera_cache_entries\{[^}]*cache="([^"]+)"[^}]*\} ([0-9.e+]+)$/gm)) caches[match[1] as string] = Number(match[2]);
  return {
    atMin: (Date.now() - startedAt) / 60_000,
    heapMb: gauge('tessera_nodejs_heap_size_used_bytes') / 2 ** 20,
    rssMb: gauge('tessera_process_resident_memory_bytes') / 2 ** 20,
    caches,
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

const database = await openDatabase();
const server = await startServer(database.env);
const statuses = new Map<string, number>();
const count = (what: string, status: number) => statuses.set(`${what} ${status}`, (statuses.get(`${what} ${status}`) ?? 0) + 1);
try {
  const base = server.url;
  const login = await call(base, 'POST', '/api/v1/sessions', { json: { username: 'admin', password: adminPassword } });
  const admin = login.body['session_token'] as string;
  await call(base, 'PUT', '/api/v1/policy', { token: admin, json: { refresh_token_rotation: true, max_tokens_per_user: 1000 } });
  const app = await call(base, 'POST', '/api/v1/apps', { token: admin, json: { name: 'soak-introspector', can_introspect: true } });
  const introspector = basic(app.body['client_id'] as string, app.body['client_secret'] as string);
  console.log(`soak: ${minutes} min (warm-up ${warmupMinutes} min), ${concurrency} workers, ${database.label}, server pid ${server.child.pid} at ${base}`);

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
  const startedAt = Date.now();
  const samples: Sample[] = [];
  const sampler = (async () => {
    let lastPrint = 0;
    while (Date.now() < endAt) {
      const s = await sample(base, startedAt);
      samples.push(s);
      if (s.atMin - lastPrint >= 1 || samples.length === 1) {
        lastPrint = Math.floor(s.atMin);
        console.log(`  ${s.atMin.toFixed(1)} min: heap ${s.heapMb.toFixed(1)} MB, RSS ${s.rssMb.toFixed(1)} MB, ${cycles} cycles, caches ${JSON.stringify(s.caches)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  })();
  await Promise.all([...Array.from({ length: concurrency }, () => worker()), sampler]);
  const last = await sample(base, startedAt);
  samples.push(last);

  const after = samples.filter((s) => s.atMin >= warmupMinutes);
  const heapSlope = slope(after.map((s) => ({ x: s.atMin, y: s.heapMb })));
  const rssSlope = slope(after.map((s) => ({ x: s.atMin, y: s.rssMb })));
  const maxCaches: Record<string, number> = {};
  for (const s of samples) for (const [name, size] of Object.entries(s.caches)) maxCaches[name] = Math.max(maxCaches[name] ?? 0, size);
  const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
  console.log('');
  console.log(`requests: ${requests} in ${cycles} cycles (${(requests / (minutes * 60)).toFixed(0)}/s): ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  console.log(`after ${warmupMinutes} min warm-up (${after.length} samples over ${(minutes - warmupMinutes).toFixed(1)} min):`);
  console.log(`  heap slope ${heapSlope >= 0 ? '+' : ''}${heapSlope.toFixed(2)} MB/min (from ${after[0]?.heapMb.toFixed(1)} to ${last.heapMb.toFixed(1)} MB)`);
  console.log(`  RSS slope  ${rssSlope >= 0 ? '+' : ''}${rssSlope.toFixed(2)} MB/min (from ${after[0]?.rssMb.toFixed(1)} to ${last.rssMb.toFixed(1)} MB)`);
  console.log(`  cache entries at the end ${JSON.stringify(last.caches)}, largest seen ${JSON.stringify(maxCaches)}`);
} finally {
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  await database.drop();
}
