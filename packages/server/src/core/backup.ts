import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { TesseraError } from './errors.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';

export interface BackupService {
  /**
   * A consistent copy of the embedded database (a gzipped tar of its data directory), for an
   * interactive instance admin; audited. On PostgreSQL there is none to give: 409 naming pg_dump.
   */
  backup(ctx: ActorContext): Promise<Blob>;
}

/**
 * `dump` is the storage's copy of itself, present only for the embedded database: a PostgreSQL
 * server is backed up with its own tools, which need no help from a running instance.
 */
export function createBackupService(deps: { store: Store; clock: Clock; dump: (() => Promise<Blob>) | undefined }): BackupService {
  return {
    async backup(ctx) {
      await authorize(deps, ctx, { kind: 'back_up' }, { action: 'instance.backup' });
      if (!deps.dump) {
        throw new TesseraError('CONFLICT', 'This instance runs on PostgreSQL: back the database up with pg_dump (docs/deploy.md, "Backup and restore")');
      }
      const copy = await deps.dump();
      await deps.store.audit.append(auditOf(ctx, deps.clock.now(), { action: 'instance.backup', outcome: 'success', details: { bytes: copy.size } }));
      return copy;
    },
  };
}
