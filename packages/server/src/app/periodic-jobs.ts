import type { JobRunnerDeps } from '../core/jobs.js';
import type { Keyring } from '../core/keyring.js';
import type { Store } from '../core/store.js';
import type { TokenService } from '../core/tokens/index.js';
import { announceExpiring } from '../core/webhook-dispatch.js';

const hour = 3600;

/** The audit log's monthly partitions covering now and the coming week (migration 0013). */
export const prepareAuditPartitions = (store: Store, now: Date) => store.audit.preparePartitions(now, new Date(now.getTime() + 7 * 86_400_000));

/** The periodic work of an instance: which jobs, how often, and which run once per cluster. */
export function periodicJobs(deps: {
  store: Store;
  keyring: Keyring;
  tokens: TokenService;
  auditRetentionSeconds: number;
  signingKeyRotationSeconds: number;
  /** How long revocation events are kept for followers that catch up. */
  revocationEventsSeconds: number;
}): JobRunnerDeps['jobs'] {
  const { store, keyring, tokens } = deps;
  return [
    // Checked often so a key is replaced within minutes of its due date; the rotation
    // itself is atomic (replaceActive), the claim only saves the other instances the work.
    { name: 'signing-key-rotation', everySeconds: Math.min(hour, deps.signingKeyRotationSeconds / 4), clusterWide: true, run: async () => ({ rotated: await keyring.rotateIfDue() }) },
    // Each instance picks up a key another instance rotated in before it signs with a stale one for long.
    { name: 'signing-key-refresh', everySeconds: 60, clusterWide: false, run: () => keyring.refresh() },
    { name: 'token-lapse-sweep', everySeconds: 60, clusterWide: true, run: (now) => tokens.sweepLapsed(now) },
    { name: 'token-expiry-notices', everySeconds: 60, clusterWide: true, run: (now) => announceExpiring(store, now) },
    {
      name: 'revocation-prune',
      everySeconds: hour,
      clusterWide: true,
      run: async (now) => {
        await store.revocations.pruneExpired(now);
        // Followers may resume from anywhere in the catch-up window, so only older events go
        // (with five minutes to spare for a follower that asked at the window's edge).
        await store.revocationEvents.pruneBefore(new Date(now.getTime() - deps.revocationEventsSeconds * 1000));
      },
    },
    {
      // Issue 17: the audit log's monthly partitions, created a week before their month begins,
      // so events land in their month's partition rather than the default one.
      name: 'audit-partitions',
      everySeconds: hour,
      clusterWide: true,
      run: async (now) => ({ created: (await prepareAuditPartitions(store, now)).length }),
    },
    {
      name: 'audit-retention',
      everySeconds: hour,
      clusterWide: true,
      run: async (now) => {
        const before = deps.auditRetentionSeconds === 0 ? null : new Date(now.getTime() - deps.auditRetentionSeconds * 1000);
        // Usage counts follow the audit log's retention; the keys of written count batches
        // only guard retries, which end with the process that made them: a day is plenty.
        const counts = await store.usage.pruneBefore(before, new Date(now.getTime() - 86_400_000));
        return { deleted: before === null ? 0 : await store.audit.pruneBefore(before), usageCountsDeleted: counts };
      },
    },
  ];
}
