import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Org } from '../core/model.js';
import type { Store } from '../core/store.js';
import { decodeCursor } from './cursor.js';
import { escapeLike, mapUniqueViolation, page } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

function toOrg(row: Selectable<Database['orgs']>): Org {
  return { id: row.id, name: row.name, displayName: row.display_name, createdAt: row.created_at };
}

export function createOrgRepository(db: Db): Store['orgs'] {
  return {
    async create(org) {
      await mapUniqueViolation(
        db.insertInto('orgs').values({ id: org.id, name: org.name, display_name: org.displayName, created_at: org.createdAt }).execute(),
        '/name',
        `An organization named "${org.name}" already exists; choose another name`,
      );
      return org;
    },
    async get(id) {
      const row = await db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toOrg(row);
    },
    async getByName(name) {
      const row = await db.selectFrom('orgs').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toOrg(row);
    },
    async list({ limit, cursor, q }) {
      let query = db.selectFrom('orgs').selectAll().orderBy('name').orderBy('id').limit(limit + 1);
      if (q) query = query.where('name', 'ilike', `%${escapeLike(q)}%`);
      if (cursor) {
        const [name, id] = decodeCursor(cursor, 2) as [string, string];
        query = query.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
      }
      return page(await query.execute(), limit, toOrg, (row) => [row.name, row.id]);
    },
    async update(id, patch) {
      const row = await db
        .updateTable('orgs')
        .set({ display_name: patch.displayName })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toOrg(row);
    },
    async count() {
      const row = await db.selectFrom('orgs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
