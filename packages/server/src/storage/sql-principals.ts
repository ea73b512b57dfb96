import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Principal } from '../core/model.js';
import type { Store } from '../core/store.js';
import { decodeCursor } from './cursor.js';
import { escapeLike, json, mapUniqueViolation, page } from './sql-helpers.js';
import { rolesOf } from './sql-roles.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export function toPrincipal(row: Selectable<Database['principals']>): Principal {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    status: row.status,
    instanceAdmin: row.instance_admin,
    ipAllowlist: row.ip_allowlist,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    passwordChangedAt: row.password_changed_at,
  };
}

/** The organization's principals that are not deleted. */
export const activePrincipals = (db: Db, org: string) =>
  db.selectFrom('principals').where('org_id', '=', org).where('deleted_at', 'is', null);

export function createPrincipalRepository(db: Db): Store['principals'] {
  return {
    async create(p) {
      const insert = db
        .insertInto('principals')
        .values({
          id: p.id,
          org_id: p.orgId,
          kind: p.kind,
          username: p.username,
          display_name: p.displayName,
          email: p.email,
          password_hash: p.passwordHash,
          status: 'active',
          instance_admin: p.instanceAdmin,
          ip_allowlist: json(p.ipAllowlist),
          created_at: p.createdAt,
          updated_at: p.createdAt,
          password_changed_at: p.passwordHash === null ? null : p.createdAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const row = await mapUniqueViolation(insert, '/username', `The username "${p.username}" is taken in this organization; choose another`);
      return toPrincipal(row);
    },
    async get(orgId, id) {
      const row = await activePrincipals(db, orgId).selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPrincipal(row);
    },
    async getByUsername(orgId, username) {
      const row = await activePrincipals(db, orgId).selectAll().where('username', '=', username).executeTakeFirst();
      return row && toPrincipal(row);
    },
    async getPasswordHash(orgId, id) {
      const row = await activePrincipals(db, orgId).select('password_hash').where('id', '=', id).executeTakeFirst();
      return row?.password_hash ?? null;
    },
    async list(orgId, kind, { limit, cursor, q }) {
      let query = activePrincipals(db, orgId)
        .selectAll()
        .where('kind', '=', kind)
        .orderBy('username')
        .orderBy('id')
        .limit(limit + 1);
      if (q) {
        const like = `%${escapeLike(q)}%`;
        query = query.where((eb) => eb.or([eb('username', 'ilike', like), eb('display_name', 'ilike', like), eb('email', 'ilike', like)]));
      }
      if (cursor) {
        const [username, id] = decodeCursor(cursor, 2) as [string, string];
        query = query.where((eb) =>
          eb.or([eb('username', '>', username), eb.and([eb('username', '=', username), eb('id', '>', id)])]),
        );
      }
      return page(await query.execute(), limit, toPrincipal, (row) => [row.username, row.id]);
    },
    async update(orgId, id, patch) {
      const row = await db
        .updateTable('principals')
        .set({
          ...(patch.displayName !== undefined && { display_name: patch.displayName }),
          ...(patch.email !== undefined && { email: patch.email }),
          ...(patch.status !== undefined && { status: patch.status }),
          ...(patch.ipAllowlist !== undefined && { ip_allowlist: json(patch.ipAllowlist) }),
          ...(patch.passwordHash !== undefined && { password_hash: patch.passwordHash }),
          ...(patch.passwordChangedAt !== undefined && { password_changed_at: patch.passwordChangedAt }),
          updated_at: patch.updatedAt,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row && toPrincipal(row);
    },
    async remove(orgId, id, at) {
      const result = await db
        .updateTable('principals')
        .set({ deleted_at: at, updated_at: at, status: 'disabled', password_hash: null })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await db.deleteFrom('principal_roles').where('principal_id', '=', id).execute();
      await db.deleteFrom('group_members').where('principal_id', '=', id).execute();
      return true;
    },
    async directRoles(orgId, id) {
      const rows = await db.selectFrom('principal_roles').select('role_id').where('principal_id', '=', id).execute();
      return rolesOf(db, orgId, rows.map((row) => row.role_id));
    },
    async setRoles(_orgId, id, roleIds) {
      await db.deleteFrom('principal_roles').where('principal_id', '=', id).execute();
      if (roleIds.length > 0) {
        await db
          .insertInto('principal_roles')
          .values(roleIds.map((roleId) => ({ principal_id: id, role_id: roleId })))
          .execute();
      }
    },
    async effectiveRoles(orgId, id) {
      const rows = await db
        .selectFrom('principal_roles')
        .select('role_id')
        .where('principal_id', '=', id)
        .union(
          db
            .selectFrom('group_roles')
            .innerJoin('group_members', 'group_members.group_id', 'group_roles.group_id')
            .select('group_roles.role_id')
            .where('group_members.principal_id', '=', id),
        )
        .execute();
      return rolesOf(db, orgId, rows.map((row) => row.role_id));
    },
    async lockActiveInstanceAdmins() {
      const rows = await db
        .selectFrom('principals')
        .select(['id', 'org_id'])
        .where('instance_admin', '=', true)
        .where('status', '=', 'active')
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .forUpdate()
        .execute();
      return rows.map((row) => ({ id: row.id, orgId: row.org_id }));
    },
  };
}
