import type { Kysely, Transaction } from 'kysely';
import type { PolicyRepository } from '../core/store.js';
import { json } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export function createPolicyRepository(db: Db): PolicyRepository {
  return {
    async get(orgId) {
      const row = await db.selectFrom('policies').select('settings').where('org_id', '=', orgId).executeTakeFirst();
      return row?.settings;
    },
    async put(orgId, policy, at) {
      await db
        .insertInto('policies')
        .values({ org_id: orgId, settings: json(policy), updated_at: at })
        .onConflict((oc) => oc.column('org_id').doUpdateSet({ settings: json(policy), updated_at: at }))
        .execute();
    },
  };
}
