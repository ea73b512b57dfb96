import { sql, type Kysely, type Transaction } from 'kysely';
import type { Store } from '../core/store.js';
import { createChangePublisher } from './changes.js';
import type { Database } from './schema.js';
import { createAuditRepository } from './sql-audit.js';
import { createGroupRepository } from './sql-groups.js';
import { createJobRepository } from './sql-jobs.js';
import { createAppRepository, createRevocationEventRepository, createRevocationRepository, createSigningKeyRepository } from './sql-oauth.js';
import { createOrgRepository } from './sql-orgs.js';
import { createPolicyRepository } from './sql-policies.js';
import { createPresetRepository } from './sql-presets.js';
import { createPrincipalRepository } from './sql-principals.js';
import { createRoleRepository } from './sql-roles.js';
import { createSavedSearchRepository } from './sql-saved-searches.js';
import { createSecondFactorRepository } from './sql-second-factors.js';
import { createSessionRepository, createThrottleRepository } from './sql-sessions.js';
import { createTokenRepository } from './sql-tokens.js';
import { createUsageCountRepository } from './sql-usage-counts.js';
import { createWebhookRepository } from './sql-webhooks.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The Store in PostgreSQL SQL through Kysely. It neither knows nor cares whether PGlite or a
 * PostgreSQL server is underneath: both drivers hand it a `Kysely<Database>`. Each aggregate's
 * repository lives in its own `sql-*.ts` file; this composes them over one connection or transaction.
 */
export function createSqlStore(db: Db): Store {
  const store: Store = {
    tokens: createTokenRepository(db),
    policies: createPolicyRepository(db),
    presets: createPresetRepository(db),
    savedSearches: createSavedSearchRepository(db),
    apps: createAppRepository(db),
    signingKeys: createSigningKeyRepository(db),
    revocations: createRevocationRepository(db),
    revocationEvents: createRevocationEventRepository(db),
    webhooks: createWebhookRepository(db),
    secondFactors: createSecondFactorRepository(db),
    changes: createChangePublisher(db),
    async transaction(work) {
      if (db.isTransaction) return work(store);
      return (db as Kysely<Database>).transaction().execute((trx) => work(createSqlStore(trx)));
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    orgs: createOrgRepository(db),
    principals: createPrincipalRepository(db),
    roles: createRoleRepository(db),
    groups: createGroupRepository(db),
    sessions: createSessionRepository(db),
    throttle: createThrottleRepository(db),
    audit: createAuditRepository(db),
    usage: createUsageCountRepository(db),
    jobs: createJobRepository(db),
  };
  return store;
}
