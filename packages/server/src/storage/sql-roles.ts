import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Role } from '../core/model.js';
import type { Right } from '../core/rights.js';
import type { Store } from '../core/store.js';
import { json, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export function toRole(row: Selectable<Database['roles']>): Role {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    rights: row.rights as Right[],
    builtin: row.builtin,
    createdAt: row.created_at,
  };
}

/** The roles among `ids` visible in the organization (its own and the built-in ones), by name. */
export function rolesOf(db: Db, org: string, ids: string[]): Promise<Role[]> {
  return ids.length === 0
    ? Promise.resolve([] as Role[])
    : db
        .selectFrom('roles')
        .selectAll()
        .where('id', 'in', ids)
        .where((eb) => eb.or([eb('org_id', '=', org), eb('org_id', 'is', null)]))
        .orderBy('name')
        .execute()
        .then((rows) => rows.map(toRole));
}

export function createRoleRepository(db: Db): Store['roles'] {
  const repo: Store['roles'] = {
    async create(role) {
      const insert = db
        .insertInto('roles')
        .values({
          id: role.id,
          org_id: role.orgId,
          name: role.name,
          description: role.description,
          rights: json(role.rights),
          builtin: role.builtin,
          created_at: role.createdAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `A role named "${role.name}" already exists; choose another name`);
      return role;
    },
    async list(orgId) {
      const rows = await db
        .selectFrom('roles')
        .selectAll()
        .where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]))
        .orderBy('builtin', 'desc')
        .orderBy('name')
        .execute();
      return rows.map(toRole);
    },
    async getByName(orgId, name) {
      const row = await db
        .selectFrom('roles')
        .selectAll()
        .where('name', '=', name)
        .where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]))
        .executeTakeFirst();
      return row && toRole(row);
    },
    async get(orgId, id) {
      const row = await db
        .selectFrom('roles')
        .selectAll()
        .where('id', '=', id)
        .where((eb) => eb.or([eb('org_id', '=', orgId), eb('org_id', 'is', null)]))
        .executeTakeFirst();
      return row && toRole(row);
    },
    async update(orgId, id, patch) {
      if (patch.description === undefined && patch.rights === undefined) return repo.get(orgId, id);
      const row = await db
        .updateTable('roles')
        .set({
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.rights !== undefined && { rights: json(patch.rights) }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('builtin', '=', false)
        .returningAll()
        .executeTakeFirst();
      return row && toRole(row);
    },
    async remove(orgId, id) {
      const result = await db
        .deleteFrom('roles')
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('builtin', '=', false)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async holders(orgId, id) {
      const rows = await db
        .selectFrom('principals')
        .select('principals.id')
        .where('principals.org_id', '=', orgId)
        .where('principals.deleted_at', 'is', null)
        .where((eb) =>
          eb.or([
            eb('principals.id', 'in', eb.selectFrom('principal_roles').select('principal_id').where('role_id', '=', id)),
            eb(
              'principals.id',
              'in',
              eb.selectFrom('group_members').innerJoin('group_roles', 'group_roles.group_id', 'group_members.group_id').select('group_members.principal_id').where('group_roles.role_id', '=', id),
            ),
          ]),
        )
        .orderBy('principals.id')
        .execute();
      return rows.map((row) => row.id);
    },
    async syncBuiltins(roles) {
      for (const role of roles) {
        await db
          .insertInto('roles')
          .values({
            id: role.id,
            org_id: null,
            name: role.name,
            description: role.description,
            rights: json(role.rights),
            builtin: true,
            created_at: role.createdAt,
          })
          .onConflict((oc) => oc.column('id').doUpdateSet({ rights: json(role.rights), description: role.description }))
          .execute();
      }
    },
  };
  return repo;
}
