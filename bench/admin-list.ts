/**
 * npm run bench:admin — the admin token list at scale (issue 3): 100,000 API tokens across
 * 1,000 principals of one organization, in a PostgreSQL database of its own (created from
 * TESSERA_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres, and dropped
 * at the end). Median and p95 latency of the first page, a deep keyset page (page 500), a
 * search and a filtered sort, through the Store and through HTTP, each next to a baseline
 * measured in the same run (`select 1` through the Store, GET /healthz over HTTP).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, startServer } from '@tessera/server';
import type { TokenListQuery } from '../packages/server/src/core/store.js';
import { printTable, ratio } from './lib/load.js';

const adminUrl = process.env['TESSERA_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const runs = Number(process.env['BENCH_RUNS'] ?? 200);
const tokenCount = 100_000;
const principalCount = 1_000;
const pageSize = 50;
const deepPage = 500;

const name = `tessera_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;

const adminPassword = 'bench admin password';
const server = await startServer(
  loadConfig({ TESSERA_LOG_LEVEL: 'silent' }, { port: 0, databaseUrl: url.toString(), adminPassword, secretKey: randomBytes(32) }),
);
try {
  const { store } = server.container;
  const seeding = performance.now();
  const db = new pg.Client({ connectionString: url.toString() });
  db.on('error', () => {});
  await db.connect();
  // Bulk inserts, one statement each: 900 users and 100 service accounts, then the tokens spread
  // over them with a realistic mix of scopes, expiries, usage and revocations.
  await db.query(`
    INSERT INTO principals (id, org_id, kind, username, display_name, status, created_at, updated_at)
    SELECT 'usr_bench' || lpad(i::text, 5, '0'), 'org_default',
           CASE WHEN i % 10 = 0 THEN 'service_account' ELSE 'user' END,
           CASE WHEN i % 10 = 0 THEN 'svc-' ELSE 'user-' END || lpad(i::text, 4, '0'),
           'Bench ' || i, 'active', now() - interval '400 days', now() - interval '400 days'
    FROM generate_series(1, ${principalCount}) AS i`);
  await db.query(`
    INSERT INTO api_tokens (id, org_id, owner_id, owner_username, created_by, name, mode, scope_kind, endpoints, roles, ip_allowlist,
                            secret_hash, expires_at, last_used_at, last_used_ip, revoked_at, revoked_by, created_at, updated_at)
    SELECT 'b' || lpad(i::text, 11, '0'), 'org_default', p.id, p.username, 'usr_bench00001',
           (ARRAY['ci', 'deploy', 'backup', 'monitoring', 'terraform', 'grafana', 'scim', 'recovery', 'reporting', 'sync'])[i % 10 + 1] || '-' || i,
           CASE WHEN i % 20 = 0 THEN 'direct' ELSE 'refreshable' END,
           CASE WHEN i % 20 = 0 THEN 'scim' WHEN i % 3 = 0 THEN 'custom' ELSE 'all' END,
           CASE WHEN i % 3 = 0 AND i % 20 <> 0 THEN '["/plans", "GET /clients"]'::jsonb ELSE '[]'::jsonb END,
           '["member"]'::jsonb, '[]'::jsonb,
           sha256(i::text::bytea),
           CASE WHEN i % 7 = 0 THEN NULL ELSE created + interval '90 days' END,
           CASE WHEN i % 4 = 0 THEN NULL ELSE created + (i % 80) * interval '1 day' END,
           CASE WHEN i % 4 = 0 THEN NULL ELSE '10.0.' || (i % 250) || '.' || (i % 200) END,
           CASE WHEN i % 11 = 0 THEN created + interval '30 days' END,
           CASE WHEN i % 11 = 0 THEN 'usr_bench00001' END,
           created, created
    FROM (SELECT i, date_trunc('milliseconds', now() - (i % 400) * interval '1 day' - (i % 86400) * interval '1 second') AS created
          FROM generate_series(1, ${tokenCount}) AS i) AS s
    JOIN principals AS p ON p.id = 'usr_bench' || lpad((i % ${principalCount} + 1)::text, 5, '0')`);
  await db.query('ANALYZE');
  await db.end();
  const seedMs = performance.now() - seeding;

  const now = new Date();
  const base: TokenListQuery = { orgId: 'org_default', sort: 'created_at', descending: true, limit: pageSize, now, idleTimeoutSeconds: null };
  // The cursor of page 500, found by walking the keyset pages once.
  let cursor: string | undefined;
  const walking = performance.now();
  for (let page = 1; page < deepPage; page++) cursor = (await store.tokens.list({ ...base, cursor })).nextCursor ?? undefined;
  const walkMs = performance.now() - walking;
  if (!cursor) throw new Error('no cursor for the deep page');

  const queries: { what: string; store: TokenListQuery; http: string }[] = [
    { what: 'first page (sort -created_at)', store: base, http: 'sort=-created_at' },
    { what: `deep keyset page (page ${deepPage})`, store: { ...base, cursor }, http: `sort=-created_at&cursor=${cursor}` },
    { what: 'search q=svc-042 (name or owner)', store: { ...base, q: 'svc-042' }, http: 'q=svc-042' },
    {
      what: 'filtered sort (active, custom, -last_used_at)',
      store: { ...base, status: 'active', kind: 'custom', sort: 'last_used_at' },
      http: 'status=active&kind=custom&sort=-last_used_at',
    },
    // Beyond the four figures the issue asks for: the other sorts and filters an admin reaches for.
    { what: 'sort by owner', store: { ...base, sort: 'owner', descending: false }, http: 'sort=owner' },
    { what: 'expired, soonest first', store: { ...base, status: 'expired', sort: 'expires_at', descending: false }, http: 'status=expired&sort=expires_at' },
    { what: 'unused for 60 days', store: { ...base, unusedDays: 60 }, http: 'unused_days=60' },
  ];

  const session = await (
    await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: adminPassword }) })
  ).json() as { session_token: string };
  const get = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${session.session_token}` } });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<{ items?: unknown[] }>;
  };

  /** Median and p95 of `runs` timed calls, after a tenth as many warm-up calls. */
  async function measure(call: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
    for (let i = 0; i < Math.ceil(runs / 10); i++) await call();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await call();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(runs / 2)] as number, p95: times[Math.min(runs - 1, Math.floor(runs * 0.95))] as number };
  }

  const storeBaseline = await measure(() => store.ping());
  const httpBaseline = await measure(() => fetch(`${server.url}/healthz`).then((r) => r.text()));
  const rows: Record<string, string | number>[] = [
    { query: 'baseline (store: select 1; HTTP: GET /healthz)', rows: '-', 'store median ms': storeBaseline.median.toFixed(2), 'store p95 ms': storeBaseline.p95.toFixed(2), 'store ×': '1.0', 'HTTP median ms': httpBaseline.median.toFixed(2), 'HTTP p95 ms': httpBaseline.p95.toFixed(2), 'HTTP ×': '1.0' },
  ];
  for (const query of queries) {
    const found = (await store.tokens.list(query.store)).items.length;
    const viaHttp = (await get(`/api/v1/tokens?all=true&limit=${pageSize}&${query.http}`)).items?.length;
    if (found !== viaHttp) throw new Error(`${query.what}: the store found ${found} rows, HTTP ${viaHttp}`);
    const s = await measure(() => store.tokens.list(query.store));
    const h = await measure(() => get(`/api/v1/tokens?all=true&limit=${pageSize}&${query.http}`));
    rows.push({
      query: query.what,
      rows: found,
      'store median ms': s.median.toFixed(2),
      'store p95 ms': s.p95.toFixed(2),
      'store ×': ratio(s.median, storeBaseline.median).replace(/0$/, ''),
      'HTTP median ms': h.median.toFixed(2),
      'HTTP p95 ms': h.p95.toFixed(2),
      'HTTP ×': ratio(h.median, httpBaseline.median).replace(/0$/, ''),
    });
  }
  console.log(`Seeded ${tokenCount.toLocaleString('en')} tokens across ${principalCount.toLocaleString('en')} principals in ${(seedMs / 1000).toFixed(1)} s; walked ${deepPage - 1} keyset pages in ${(walkMs / 1000).toFixed(1)} s (${(walkMs / (deepPage - 1)).toFixed(2)} ms a page).`);
  printTable(`Admin token list, ${pageSize} a page, ${runs} runs each (× = median over the baseline's median)`, rows);
} finally {
  await server.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
