import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AuditEvent, Group, NewAuditEvent, Org, Principal, Role, Session } from '../core/model.js';
import type { Right } from '../core/rights.js';
import type { Store } from '../core/store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { escapeLike, json, mapUniqueViolation } from './sql-helpers.js';
import { createPolicyRepository, createPresetRepository, createSavedSearchRepository, createTokenRepository } from './sql-tokens.js';
import { createChangePublisher } from './changes.js';
import { createAppRepository, createRevocationEventRepository, createRevocationRepository, createSigningKeyRepository } from './sql-oauth.js';
import type { Database } from './schema.js';
import { createWebhookRepository, insertAuditWithOutbox } from './sql-webhooks.js';
import { createSecondFactorRepository } from './sql-second-factors.js';
import { isWebhookEventType } from '../core/webhook-model.js';
import { createAuditPartitions, dropAuditBefore } from './audit-partitions.js';
import { createUsageRepository } from './sql-usage.js';

type Db = Kysely<Database> | Transaction<Database>;

/** First key of the two-key advisory locks periodic jobs take (the second is the job's name hash). */
const jobLockSpace = 7_262_002;


function auditRow(event: NewAuditEvent) {
  return {
    org_id: event.orgId,
    occurred_at: event.occurredAt,
    action: event.action,
    outcome: event.outcome,
    actor_principal_id: event.actorPrincipalId,
    actor_token_id: event.actorTokenId,
    target_type: event.targetType,
    target_id: event.targetId,
    client_ip: event.clientIp,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: json(event.details),
  };
}

function toOrg(row: Selectable<Database['orgs']>): Org {
  return { id: row.id, name: row.name, displayName: row.display_name, createdAt: row.created_at };
}

function toPrincipal(row: Selectable<Database['principals']>): Principal {
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

function toRole(row: Selectable<Database['roles']>): Role {
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

function toGroup(row: Selectable<Database['groups']>): Group {
  return { id: row.id, orgId: row.org_id, name: row.name, description: row.description, createdAt: row.created_at };
}

function toSession(row: Selectable<Database['sessions']>): Session {
  return {
    id: row.id,
    orgId: row.org_id,
    principalId: row.principal_id,
    secretHash: Buffer.from(row.secret_hash),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
  };
}

function toAuditEvent(row: Selectable<Database['audit_events']>): AuditEvent {
  return {
    id: String(row.seq),
    orgId: row.org_id,
    occurredAt: row.occurred_at,
    action: row.action,
    outcome: row.outcome as AuditEvent['outcome'],
    actorPrincipalId: row.actor_principal_id,
    actorTokenId: row.actor_token_id,
    targetType: row.target_type,
    targetId: row.target_id,
    clientIp: row.client_ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
  };
}

/** Splits one extra row off a `limit + 1` query into the next cursor. */
function page<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => (string | number)[]) {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  const last = rows[limit - 1];
  return { items, nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}

/**
 * The Store in PostgreSQL SQL through Kysely. It neither knows nor cares whether PGlite or a
 * PostgreSQL server is underneath: both drivers hand it a `Kysely<Database>`.
 */
export function createSqlStore(db: Db): Store {
  const activePrincipals = (org: string) =>
    db.selectFrom('principals').where('org_id', '=', org).where('deleted_at', 'is', null);

  const rolesOf = (org: string, ids: string[]) =>
    ids.length === 0
      ? Promise.resolve([] as Role[])
      : db
          .selectFrom('roles')
          .selectAll()
          .where('id', 'in', ids)
          .where((eb) => eb.or([eb('org_id', '=', org), eb('org_id', 'is', null)]))
          .orderBy('name')
          .execute()
          .then((rows) => rows.map(toRole));

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

    orgs: {
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
    },

    principals: {
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
        const row = await activePrincipals(orgId).selectAll().where('id', '=', id).executeTakeFirst();
        return row && toPrincipal(row);
      },
      async getByUsername(orgId, username) {
        const row = await activePrincipals(orgId).selectAll().where('username', '=', username).executeTakeFirst();
        return row && toPrincipal(row);
      },
      async getPasswordHash(orgId, id) {
        const row = await activePrincipals(orgId).select('password_hash').where('id', '=', id).executeTakeFirst();
        return row?.password_hash ?? null;
      },
      async list(orgId, kind, { limit, cursor, q }) {
        let query = activePrincipals(orgId)
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
        return rolesOf(orgId, rows.map((row) => row.role_id));
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
        return rolesOf(orgId, rows.map((row) => row.role_id));
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
    },

    roles: {
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
        if (patch.description === undefined && patch.rights === undefined) return store.roles.get(orgId, id);
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
    },

    groups: {
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
        if (patch.name === undefined && patch.description === undefined) return store.groups.get(orgId, id);
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
        const rows = await activePrincipals(orgId)
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
        return rolesOf(orgId, rows.map((row) => row.role_id));
      },
      async setRoles(_orgId, id, roleIds) {
        await db.deleteFrom('group_roles').where('group_id', '=', id).execute();
        if (roleIds.length > 0) {
          await db.insertInto('group_roles').values(roleIds.map((roleId) => ({ group_id: id, role_id: roleId }))).execute();
        }
      },
    },

    sessions: {
      async create(s) {
        await db
          .insertInto('sessions')
          .values({
            id: s.id,
            org_id: s.orgId,
            principal_id: s.principalId,
            secret_hash: s.secretHash,
            created_at: s.createdAt,
            last_seen_at: s.lastSeenAt,
            expires_at: s.expiresAt,
            ended_at: s.endedAt,
            client_ip: s.clientIp,
            user_agent: s.userAgent,
          })
          .execute();
      },
      async get(id) {
        const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
        return row && toSession(row);
      },
      async touch(id, at) {
        await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
      },
      async end(id, at) {
        await db.updateTable('sessions').set({ ended_at: at }).where('id', '=', id).where('ended_at', 'is', null).execute();
      },
      async endAllFor(principalId, at, exceptId) {
        let query = db
          .updateTable('sessions')
          .set({ ended_at: at })
          .where('principal_id', '=', principalId)
          .where('ended_at', 'is', null);
        if (exceptId) query = query.where('id', '!=', exceptId);
        await query.execute();
      },
    },

    throttle: {
      async get(key) {
        const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
        return row && { failures: row.failures, windowStart: row.window_start };
      },
      async recordFailure(key, now, windowSeconds) {
        // One statement, so concurrent failures on several instances all count.
        const windowFloor = new Date(now.getTime() - windowSeconds * 1000);
        const row = await db
          .insertInto('login_throttle')
          .values({ key, failures: 1, window_start: now })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet({
              failures: sql`CASE WHEN login_throttle.window_start <= ${windowFloor} THEN 1 ELSE login_throttle.failures + 1 END`,
              window_start: sql`CASE WHEN login_throttle.window_start <= ${windowFloor} THEN ${now} ELSE login_throttle.window_start END`,
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return { failures: row.failures, windowStart: row.window_start };
      },
      async clear(key) {
        await db.deleteFrom('login_throttle').where('key', '=', key).execute();
      },
    },

    audit: {
      async append(event) {
        if (event.orgId !== null && isWebhookEventType(event.action)) {
          const { rows } = await insertAuditWithOutbox(db, auditRow(event));
          return toAuditEvent(rows[0] as Selectable<Database['audit_events']>);
        }
        const row = await db.insertInto('audit_events').values(auditRow(event)).returningAll().executeTakeFirstOrThrow();
        return toAuditEvent(row);
      },
      async appendMany(events) {
        if (events.length === 0) return;
        // One JSON parameter for the whole batch: thousands of bind parameters cost more to
        // build and to parse than the rows cost to insert. The function scan yields the rows in
        // array order, so sequence numbers follow the order the events happened in.
        const rows = events.map((event) => ({ ...auditRow(event), occurred_at: event.occurredAt.toISOString(), details: event.details, write_key: event.writeKey ?? null }));
        // A retry of a batch whose commit went through unanswered meets its own keys: skipped.
        await sql`
          INSERT INTO audit_events (org_id, occurred_at, action, outcome, actor_principal_id, actor_token_id, target_type, target_id, client_ip, user_agent, request_id, details, write_key)
          SELECT org_id, occurred_at, action, outcome, actor_principal_id, actor_token_id, target_type, target_id, client_ip, user_agent, request_id, details, write_key
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(org_id text, occurred_at timestamptz, action text, outcome text, actor_principal_id text,
            actor_token_id text, target_type text, target_id text, client_ip text, user_agent text, request_id text, details jsonb, write_key text)
          ON CONFLICT (write_key, occurred_at) WHERE write_key IS NOT NULL DO NOTHING`.execute(db);
      },
      async list(q) {
        let query = db
          .selectFrom('audit_events')
          .selectAll()
          .where('org_id', '=', q.orgId)
          // Newest first by time, then sequence: the partitions' key leads, so every filter
          // below reads one index range per partition (migration 0013).
          .orderBy('occurred_at', 'desc')
          .orderBy('seq', 'desc')
          .limit(q.limit + 1);
        if (q.action) {
          // `token.*` style prefixes select a family of events; a family (the action up to its
          // first dot) has an index of its own, other prefixes are filtered.
          const prefix = q.action.endsWith('*') ? q.action.slice(0, -1) : undefined;
          const family = prefix === undefined ? undefined : /^([a-z_]+)\.$/.exec(prefix)?.[1];
          if (prefix === undefined) query = query.where('action', '=', q.action);
          else {
            query = query.where('action', 'like', `${escapeLike(prefix)}%`);
            if (family !== undefined) query = query.where(sql<string>`split_part(action, '.', 1)`, '=', family);
          }
        }
        if (q.actorPrincipalId) query = query.where('actor_principal_id', '=', q.actorPrincipalId);
        if (q.targetId) query = query.where('target_id', '=', q.targetId);
        if (q.since) query = query.where('occurred_at', '>=', q.since);
        if (q.until) query = query.where('occurred_at', '<', q.until);
        if (q.cursor) {
          const [at, seq] = decodeCursor(q.cursor, 2) as [string, string];
          const time = new Date(at);
          if (!/^[0-9]{1,19}$/.test(seq) || Number.isNaN(time.getTime())) decodeCursor('', 2);
          // The plain bound prunes newer partitions; the row comparison is the keyset.
          query = query.where('occurred_at', '<=', time).where(sql<boolean>`(occurred_at, seq) < (${time}, ${seq}::bigint)`);
        }
        return page(await query.execute(), q.limit, toAuditEvent, (row) => [new Date(row.occurred_at).toISOString(), String(row.seq)]);
      },
      pruneBefore: (before) => dropAuditBefore(db, before),
      preparePartitions: (from, until) => createAuditPartitions(db, from, until),
    },

    usage: createUsageRepository(db),

    jobs: {
      async claim(name, now, everySeconds, runBy) {
        const work = async (trx: Transaction<Database>): Promise<boolean> => {
          // The lock makes the read-then-write below one step across instances; it is
          // released at commit, and an instance that does not get it simply skips this tick.
          const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${jobLockSpace}, hashtext(${name})) as locked`.execute(trx);
          if (rows[0]?.locked !== true) return false;
          const last = await trx.selectFrom('job_runs').select('last_run_at').where('name', '=', name).executeTakeFirst();
          if (last && now.getTime() - last.last_run_at.getTime() < everySeconds * 1000) return false;
          await trx
            .insertInto('job_runs')
            .values({ name, last_run_at: now, run_by: runBy })
            .onConflict((oc) => oc.column('name').doUpdateSet({ last_run_at: now, run_by: runBy }))
            .execute();
          return true;
        };
        return db.isTransaction ? work(db as Transaction<Database>) : (db as Kysely<Database>).transaction().execute(work);
      },
    },
  };
  return store;
}
