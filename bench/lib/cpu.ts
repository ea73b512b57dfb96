import { readFile } from 'node:fs/promises';
import { pinDatabase, runLoad, type LoadOptions, type LoadResult } from './load.js';

/** CPU seconds a process has used (user + system), from /proc/<pid>/stat; 0 when it is gone. */
export async function processCpuSeconds(pid: number | 'self'): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

export interface CpuResult extends LoadResult {
  /** CPU µs of this process (the server under test) per request answered. */
  readonly serverUsPerRequest: number;
  /** CPU µs of the database processes serving it per request, when they can be read. */
  readonly databaseUsPerRequest: number;
}

/**
 * One load run with the server's CPU time per request: the server runs in this process and
 * the load generator in another, so the CPU this process spends during the run is the
 * server's. It does not depend on how fast the load generator is, unlike requests per second.
 */
export async function runLoadWithCpu(options: LoadOptions, databasePids: () => Promise<number[]> = async () => []): Promise<CpuResult> {
  const readAll = async (pids: number[]) => new Map(await Promise.all(pids.map(async (pid) => [pid, await processCpuSeconds(pid)] as const)));
  const pids = await databasePids();
  pinDatabase(pids);
  const databaseBefore = await readAll(pids);
  const before = process.cpuUsage();
  const result = await runLoad(options);
  const used = process.cpuUsage(before);
  // Backends come and go (a pool reconnects): one that ended during the run reads 0 and is left
  // out rather than counted negative; one that started during it counts from 0.
  const databaseAfter = await readAll(await databasePids());
  let databaseUsed = 0;
  for (const [pid, seconds] of databaseAfter) databaseUsed += Math.max(0, seconds - (databaseBefore.get(pid) ?? 0));
  const requests = Math.max(result.requests, 1);
  return { ...result, serverUsPerRequest: (used.user + used.system) / requests, databaseUsPerRequest: (databaseUsed * 1e6) / requests };
}

/** Each load's rounds, in the order they ran (round r of every load ran within seconds of the others'). */
export async function runInterleavedCpuRounds<K extends string>(
  loads: Record<K, LoadOptions & { databasePids?: () => Promise<number[]> }>,
  rounds: number,
): Promise<Record<K, CpuResult[]>> {
  const results = Object.fromEntries(Object.keys(loads).map((key) => [key, [] as CpuResult[]])) as Record<K, CpuResult[]>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(loads) as K[]) results[key].push(await runLoadWithCpu(loads[key], loads[key].databasePids));
  }
  return results;
}

/** The middle value (the upper one of an even count). */
export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Like runInterleaved, with CPU per request; keeps each load's median round by server CPU. */
export async function runInterleavedCpu<K extends string>(
  loads: Record<K, LoadOptions & { databasePids?: () => Promise<number[]> }>,
  rounds: number,
): Promise<Record<K, CpuResult>> {
  const results = await runInterleavedCpuRounds(loads, rounds);
  const middle = (list: CpuResult[]) => [...list].sort((a, b) => a.serverUsPerRequest - b.serverUsPerRequest)[Math.floor(list.length / 2)] as CpuResult;
  return Object.fromEntries(Object.entries(results).map(([key, list]) => [key, middle(list as CpuResult[])])) as Record<K, CpuResult>;
}
