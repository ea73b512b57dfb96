import type { Migration, MigrationProvider } from 'kysely/migration';
import * as foundation from './0001-foundation.js';
import * as tokens from './0002-tokens.js';
import * as oauth from './0003-oauth.js';
import * as tokenListIndexes from './0004-token-list-indexes.js';
import * as jobs from './0005-jobs.js';
import * as nextSigningKey from './0006-next-signing-key.js';
import * as revocationCutoffs from './0008-revocation-cutoffs.js';
import * as recentIps from './0009-recent-ips.js';
import * as refreshFamiliesAuditKeys from './0010-refresh-families-audit-keys.js';
import * as webhooks from './0011-webhooks.js';
import * as secondFactors from './0012-second-factors.js';
import * as auditPartitionsUsageRollups from './0013-audit-partitions-usage-rollups.js';
import * as principalUsernameSearch from './0014-principal-username-search.js';

/**
 * Forward-only, versioned migrations, listed in code rather than read from a folder so the
 * built package and the TypeScript sources run the same list. Never edit a released entry:
 * add the next one.
 */
const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-tokens': tokens,
  '0003-oauth': oauth,
  '0004-token-list-indexes': tokenListIndexes,
  '0005-jobs': jobs,
  '0006-next-signing-key': nextSigningKey,
  '0008-revocation-cutoffs': revocationCutoffs,
  '0009-recent-ips': recentIps,
  '0010-refresh-families-audit-keys': refreshFamiliesAuditKeys,
  '0011-webhooks': webhooks,
  '0012-second-factors': secondFactors,
  '0013-audit-partitions-usage-rollups': auditPartitionsUsageRollups,
  '0014-principal-username-search': principalUsernameSearch,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
