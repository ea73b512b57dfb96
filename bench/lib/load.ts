import { fork, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * The load generator gets a core of its own and the server (this process) another, as the
 * issue's targets assume. Without taskset or a second core, nothing is pinned (and the tables
 * say so). PostgreSQL's backends are pinned to the load generator's core by runs that measure
 * the server's CPU (`pinDatabase`).
 */
const pinning = (() => {
  if (availableParallelism() < 2 || process.env['BENCH_PIN'] === '0') return undefined;
  const loadCore = availableParallelism() - 1;
  const pinned = spawnSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' });
  return pinned.status === 0 ? { serverCore: 0, loadCore } : undefined;
})();

/**
 * Puts the database backends serving a run on the load generator's core (BENCH_PIN_DATABASE=0:
 * left to the scheduler). Left anywhere, a backend preempts the server on its own core
 * between its requests, and the cache misses that follow cost the server more CPU per request
 * than its code does; in production the database usually runs on another machine. Their own
 * CPU is still read and reported.
 */
export function pinDatabase(pids: readonly number[]): void {
  if (!pinning || process.env['BENCH_PIN_DATABASE'] === '0') return;
  for (const pid of pids) spawnSync('taskset', ['-pc', String(pinning.loadCore), String(pid)], { stdio: 'ignore' });
}

/** How the run was placed, for the printed tables. */
export const placement = pinning
  ? `server pinned to core ${pinning.serverCore}, load generator${process.env['BENCH_PIN_DATABASE'] === '0' ? '' : " (and PostgreSQL's backends)"} to core ${pinning.loadCore}`
  : 'processes not pinned';

/** One load run's figures, as autocannon reports them. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  /** Requests answered in the run. */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections?: number;
  readonly seconds?: number;
}

/**
 * Drives `url` with autocannon from a separate process, so the load generator does not share
 * the server's event loop (on this 2-core machine each gets a core). Bounded in time.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const worker = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
  const child = pinning
    ? spawn('taskset', ['-c', String(pinning.loadCore), process.execPath, '--import', 'tsx', worker, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(worker, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

/**
 * Runs each load in turn, `rounds` times over (A B C, A B C, ...), and keeps each one's median
 * round by requests per second. Interleaving makes a noisy neighbour on this shared machine
 * hit the baseline and the measured routes alike, so their ratio stays meaningful.
 */
export async function runInterleaved<K extends string>(loads: Record<K, LoadOptions>, rounds: number): Promise<Record<K, LoadResult>> {
  const results = Object.fromEntries(Object.keys(loads).map((key) => [key, [] as LoadResult[]])) as Record<K, LoadResult[]>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(loads) as K[]) results[key].push(await runLoad(loads[key]));
  }
  const median = (list: LoadResult[]) => [...list].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(list.length / 2)] as LoadResult;
  return Object.fromEntries(Object.entries(results).map(([key, list]) => [key, median(list as LoadResult[])])) as Record<K, LoadResult>;
}

/** Formats a ratio to a baseline measured in the same run. */
export const ratio = (value: number, baseline: number) => (baseline > 0 ? (value / baseline).toFixed(2) : 'n/a');

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const width = (column: string) => Math.max(column.length, ...rows.map((row) => String(row[column]).length));
  console.log(`\n${title}`);
  console.log(columns.map((c) => c.padEnd(width(c))).join('  '));
  for (const row of rows) console.log(columns.map((c) => String(row[c]).padEnd(width(c))).join('  '));
}
