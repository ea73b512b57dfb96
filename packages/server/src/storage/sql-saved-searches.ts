import type { Kysely, Selectable, Transaction } from 'kysely';
import type { SavedSearch } from '../core/model.js';
import type { SavedSearchRepository } from '../core/store.js';
import { json, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

function toSavedSearch(row: Selectable<Database['saved_searches']>): SavedSearch {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    name: row.name,
    query: row.query as Record<string, string>,
    shared: row.shared,
    createdAt: row.created_at,
  };
}

export function createSavedSearchRepository(db: Db): SavedSearchRepository {
  const repo: SavedSearchRepository = {
    async listVisible(orgId, ownerId) {
      const rows = await db
        .selectFrom('saved_searches')
        .selectAll()
        .where('org_id', '=', orgId)
        .where((eb) => eb.or([eb('owner_id', '=', ownerId), eb('shared', '=', true)]))
        .orderBy('name')
        .execute();
      return rows.map(toSavedSearch);
    },
    async get(orgId, id) {
      const row = await db.selectFrom('saved_searches').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return row && toSavedSearch(row);
    },
    async create(search) {
      const insert = db
        .insertInto('saved_searches')
        .values({
          id: search.id,
          org_id: search.orgId,
          owner_id: search.ownerId,
          name: search.name,
          query: json(search.query),
          shared: search.shared,
          created_at: search.createdAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `You already have a saved search named "${search.name}"; choose another name`);
    },
    async update(orgId, id, patch) {
      if (patch.name === undefined && patch.query === undefined && patch.shared === undefined) return repo.get(orgId, id);
      const change = db
        .updateTable('saved_searches')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.query !== undefined && { query: json(patch.query) }),
          ...(patch.shared !== undefined && { shared: patch.shared }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      const row = await mapUniqueViolation(change, '/name', `You already have a saved search named "${patch.name ?? ''}"; choose another name`);
      return row && toSavedSearch(row);
    },
    async remove(orgId, id) {
      return (await db.deleteFrom('saved_searches').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
    },
  };
  return repo;
}
