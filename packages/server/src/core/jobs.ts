import type { Clock } from './ports.js';
import type { Store } from './store.js';

/** A periodic job (SPEC 8): expiry and idle sweeps, key rotation, retention. */
export interface PeriodicJob {
  readonly name: string;
  /** The job runs at most once per this many seconds. */
  readonly everySeconds: number;
  /**
   * `true`: once per period for the whole cluster, whichever instance claims it first
   * (claimed through the store under an advisory lock). `false`: on every instance, for
   * per-instance state such as caches.
   */
  readonly clusterWide: boolean;
  /** Returns facts worth logging (counts), never secrets. */
  run(now: Date): Promise<Record<string, unknown> | void>;
}

export interface JobRunnerDeps {
  readonly store: Pick<Store, 'jobs'>;
  readonly clock: Clock;
  /** Names this instance in `job_runs`, for people reading the table. */
  readonly instanceId: string;
  readonly jobs: readonly PeriodicJob[];
  /** How often the runner wakes to look for due jobs. */
  readonly tickMs: number;
  readonly onRun: (name: string, facts: Record<string, unknown>) => void;
  readonly onError: (name: string, error: unknown) => void;
}

/**
 * Wakes every `tickMs` and runs the jobs that are due. A failing job is reported and retried
 * at its next period; it never stops the others. Ticks never overlap: a slow job delays the
 * next tick rather than running twice on one instance.
 */
export function createJobRunner(deps: JobRunnerDeps) {
  const { store, clock, jobs } = deps;
  const localLastRun = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> | undefined;

  async function due(job: PeriodicJob, now: Date): Promise<boolean> {
    if (job.clusterWide) return store.jobs.claim(job.name, now, job.everySeconds, deps.instanceId);
    const last = localLastRun.get(job.name);
    if (last !== undefined && now.getTime() - last < job.everySeconds * 1000) return false;
    localLastRun.set(job.name, now.getTime());
    return true;
  }

  async function runDueNow(): Promise<string[]> {
    const ran: string[] = [];
    for (const job of jobs) {
      try {
        const now = clock.now();
        if (!(await due(job, now))) continue;
        const facts = await job.run(now);
        ran.push(job.name);
        deps.onRun(job.name, facts ?? {});
      } catch (error) {
        deps.onError(job.name, error);
      }
    }
    return ran;
  }

  const runner = {
    /** Runs every due job once; returns the names of those this instance ran. */
    runDue(): Promise<string[]> {
      running ??= runDueNow().finally(() => (running = undefined));
      return running;
    },
    start(): void {
      if (timer) return;
      timer = setInterval(() => void runner.runDue(), deps.tickMs);
      timer.unref();
    },
    /** Stops the timer and waits for a run in progress, so shutdown never cuts a job in half. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
  return runner;
}

export type JobRunner = ReturnType<typeof createJobRunner>;
