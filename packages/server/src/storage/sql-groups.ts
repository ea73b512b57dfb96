import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Group } from '../core/model.js';
import type { Store } from '../core/store.js';
import { decodeCursor } from './cursor.js';
import { escapeLike, mapUniqueViolation, page } from './sql-helpers.js';
import { activePrincipals, toPrincipal } from './sql-principals.js';
import { rolesOf } from './sql-roles.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

function toGroup(row: Selectable<Database['groups']>): Group {
  return { id: row.id, orgId: row.org_id, name: row.name, description: row.description, createdAt: row.created_at };
}

export function createGroupRepository(db: Db): Store['groups'] {
  const repo: Store['groups'] = {
    async create(group) {
      const insert = db
        .insertInto('groups')
        .values({
          id: group.id,
          org_id: group.orgId,
          name: group.name,
          description: group.description,
          created_at: group.createdAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `A group named "${group.name}" already exists; choose another name`);
      return group;
    },
    async get(orgId, id) {
      const row = await db.selectFrom('groups').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return row && toGroup(row);
    },
    async list(orgId, { limit, cursor, q }) {
      let query = db.selectFrom('groups').selectAll().where('org_id', '=', orgId).orderBy('name').orderBy('id').limit(limit + 1);
      if (q) query = query.where('name', 'ilike', `%${escapeLike(q)}%`);
      if (cursor) {
        const [name, id] = decodeCursor(cursor, 2) as [string, string];
        query = query.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
      }
      return page(await query.execute(), limit, toGroup, (row) => [row.name, row.id]);
    },
    async update(orgId, id, patch) {
      if (patch.name === undefined && patch.description === undefined) return repo.get(orgId, id);
      const rename = db
        .updateTable('groups')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.description !== undefined && { description: patch.description }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      const row = await mapUniqueViolation(rename, '/name', `A group named "${patch.name ?? ''}" already exists; choose another name`);
      return row && toGroup(row);
    },
    async remove(orgId, id) {
      const result = await db.deleteFrom('groups').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async members(orgId, id) {
      const rows = await activePrincipals(db, orgId)
        .innerJoin('group_members', 'group_members.principal_id', 'principals.id')
        .selectAll('principals')
        .where('group_members.group_id', '=', id)
        .orderBy('username')
        .execute();
      return rows.map(toPrincipal);
    },
    async setMembers(_orgId, id, principalIds) {
      await db.deleteFrom('group_members').where('group_id', '=', id).execute();
      if (principalIds.length > 0) {
        await db
          .insertInto('group_members')
          .values(principalIds.map((principalId) => ({ group_id: id, principal_id: principalId })))
          .execute();
      }
    },
    async roles(orgId, id) {
      const rows = await db.selectFrom('group_roles').select('role_id').where('group_id', '=', id).execute();
      return rolesOf(db, orgId, rows.map((row) => row.role_id));
    },
    async setRoles(_orgId, id, roleIds) {
      await db.deleteFrom('group_roles').where('group_id', '=', id).execute();
      if (roleIds.length > 0) {
        await db.insertInto('group_roles').values(roleIds.map((roleId) => ({ group_id: id, role_id: roleId }))).execute();
      }
    },
  };
  return repo;
}
