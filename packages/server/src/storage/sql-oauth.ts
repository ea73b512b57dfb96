import { sql, type CompiledQuery, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { App } from '../core/model.js';
import type { AppRepository } from '../core/store.js';
import { isSigningAlgorithm, type StoredSigningKey } from '../core/access-token-format.js';
import type { SigningKeyRepository } from '../core/keyring.js';
import type { RevocationEvent, RevocationEventRepository, RevocationRepository } from '../core/revocations.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { createChangePublisher } from './changes.js';
import { escapeLike, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;
/** Advisory lock serialising appends to the revocation feed. */
const feedLockKey = 7_262_001;

function toStoredKey(row: Selectable<Database['signing_keys']>): StoredSigningKey {
  if (!isSigningAlgorithm(row.algorithm)) throw new Error(`signing key ${row.kid} has an unknown algorithm`);
  return {
    kid: row.kid,
    algorithm: row.algorithm,
    publicKey: row.public_key,
    encryptedPrivateKey: Buffer.from(row.encrypted_private_key),
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
  };
}

/** Rolls a rotation's transaction back when another instance promoted the waiting key first. */
class LostRace extends Error {}

function keyRow(key: StoredSigningKey) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    public_key: JSON.stringify(key.publicKey),
    encrypted_private_key: key.encryptedPrivateKey,
    created_at: key.createdAt,
    retired_at: null,
  };
}

export function createSigningKeyRepository(db: Db): SigningKeyRepository {
  return {
    async listPublished(since) {
      const rows = await db
        .selectFrom('signing_keys')
        .selectAll()
        .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', since)]))
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toStoredKey);
    },
    async replaceActive(current, next, at) {
      const work = async (trx: Transaction<Database>) => {
        if (current === null) {
          const active = await trx.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).where('activated_at', 'is not', null).executeTakeFirst();
          if (active) return false;
        } else {
          const retired = await trx
            .updateTable('signing_keys')
            .set({ retired_at: at })
            .where('kid', '=', current)
            .where('retired_at', 'is', null)
            .where('activated_at', 'is not', null)
            .executeTakeFirst();
          if (retired.numUpdatedRows === 0n) return false;
        }
        if ('kid' in next) await trx.insertInto('signing_keys').values({ ...keyRow(next), activated_at: at }).execute();
        else {
          // The waiting key takes over, only if it is still waiting (another instance may have promoted it).
          const promoted = await trx
            .updateTable('signing_keys')
            .set({ activated_at: at })
            .where('kid', '=', next.publishedKid)
            .where('activated_at', 'is', null)
            .executeTakeFirst();
          if (promoted.numUpdatedRows === 0n) throw new LostRace();
        }
        return true;
      };
      try {
        return db.isTransaction ? await work(db as Transaction<Database>) : await (db as Kysely<Database>).transaction().execute(work);
      } catch (error) {
        // Another instance created the first key at the same moment: the unique index refused ours.
        if (error instanceof LostRace || (error as { code?: string }).code === '23505') return false;
        throw error;
      }
    },
    async withdrawNext(kid) {
      // Only a key that never signed may go: a waiting key has no tokens to verify.
      await db.deleteFrom('signing_keys').where('kid', '=', kid).where('activated_at', 'is', null).execute();
    },
    async publishNext(key) {
      try {
        await db.insertInto('signing_keys').values({ ...keyRow(key), activated_at: null }).execute();
        return true;
      } catch (error) {
        // Another instance published its next key first; one waiting key is enough.
        if ((error as { code?: string }).code === '23505') return false;
        throw error;
      }
    },
  };
}

async function appRoles(db: Db, appIds: string[]): Promise<Map<string, string[]>> {
  const byApp = new Map<string, string[]>();
  if (appIds.length === 0) return byApp;
  const rows = await db
    .selectFrom('app_roles')
    .innerJoin('roles', 'roles.id', 'app_roles.role_id')
    .select(['app_roles.app_id', 'roles.name'])
    .where('app_roles.app_id', 'in', appIds)
    .orderBy('roles.name')
    .execute();
  for (const row of rows) byApp.set(row.app_id, [...(byApp.get(row.app_id) ?? []), row.name]);
  return byApp;
}

function toApp(row: Selectable<Database['apps']>, roles: string[]): App {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    clientId: row.client_id,
    roles,
    accessTokenTtlSeconds: row.access_token_ttl_seconds,
    canIntrospect: row.can_introspect,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    secretRotatedAt: row.secret_rotated_at,
  };
}

export function createAppRepository(db: Db): AppRepository {
  const live = (orgId: string) => db.selectFrom('apps').where('org_id', '=', orgId).where('deleted_at', 'is', null);
  const withRoles = async (rows: Selectable<Database['apps']>[]) => {
    const roles = await appRoles(db, rows.map((row) => row.id));
    return rows.map((row) => toApp(row, roles.get(row.id) ?? []));
  };
  const setRoles = async (appId: string, roleIds: readonly string[]) => {
    await db.deleteFrom('app_roles').where('app_id', '=', appId).execute();
    if (roleIds.length > 0) await db.insertInto('app_roles').values(roleIds.map((roleId) => ({ app_id: appId, role_id: roleId }))).execute();
  };
  const repo: AppRepository = {
    async create(app, roleIds) {
      const insert = db
        .insertInto('apps')
        .values({
          id: app.id,
          org_id: app.orgId,
          name: app.name,
          description: app.description,
          client_id: app.clientId,
          secret_hash: app.secretHash,
          access_token_ttl_seconds: app.accessTokenTtlSeconds,
          can_introspect: app.canIntrospect,
          created_by: app.createdBy,
          created_at: app.createdAt,
          updated_at: app.updatedAt,
          secret_rotated_at: app.secretRotatedAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `An app named "${app.name}" already exists; choose another name`);
      await setRoles(app.id, roleIds);
    },
    async get(orgId, id) {
      const row = await live(orgId).selectAll().where('id', '=', id).executeTakeFirst();
      return row && (await withRoles([row]))[0];
    },
    async getByClientId(clientId) {
      const row = await db.selectFrom('apps').selectAll().where('client_id', '=', clientId).where('deleted_at', 'is', null).executeTakeFirst();
      if (!row) return undefined;
      const [app] = await withRoles([row]);
      return app && { app, secretHash: Buffer.from(row.secret_hash) };
    },
    async list(orgId, { limit, cursor, q }) {
      let query = live(orgId).selectAll().orderBy('name').orderBy('id').limit(limit + 1);
      if (q) query = query.where('name', 'ilike', `%${escapeLike(q)}%`);
      if (cursor) {
        const [name, id] = decodeCursor(cursor, 2) as [string, string];
        query = query.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
      }
      const rows = await query.execute();
      const more = rows.length > limit;
      const pageRows = more ? rows.slice(0, limit) : rows;
      const last = pageRows[pageRows.length - 1];
      return { items: await withRoles(pageRows), nextCursor: more && last ? encodeCursor([last.name, last.id]) : null };
    },
    async update(orgId, id, patch) {
      const rename = db
        .updateTable('apps')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.accessTokenTtlSeconds !== undefined && { access_token_ttl_seconds: patch.accessTokenTtlSeconds }),
          ...(patch.canIntrospect !== undefined && { can_introspect: patch.canIntrospect }),
          updated_at: patch.updatedAt,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      const result = await mapUniqueViolation(rename, '/name', `An app named "${patch.name ?? ''}" already exists; choose another name`);
      if (result.numUpdatedRows === 0n) return undefined;
      if (patch.roleIds !== undefined) await setRoles(id, patch.roleIds);
      return repo.get(orgId, id);
    },
    async setSecret(orgId, id, secretHash, at) {
      const result = await db
        .updateTable('apps')
        .set({ secret_hash: secretHash, secret_rotated_at: at, updated_at: at })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async remove(orgId, id, at) {
      const result = await db
        .updateTable('apps')
        .set({ deleted_at: at, updated_at: at })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await db.deleteFrom('app_roles').where('app_id', '=', id).execute();
      return true;
    },
  };
  return repo;
}

export function createRevocationRepository(db: Db): RevocationRepository {
  return {
    async revokeAccessToken(entry) {
      await db
        .insertInto('revoked_access_tokens')
        .values({ jti: entry.jti, org_id: entry.orgId, token_id: entry.tokenId, revoked_at: entry.revokedAt, expires_at: entry.expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
    },
    async isAccessTokenRevoked(jti) {
      const row = await db.selectFrom('revoked_access_tokens').select('jti').where('jti', '=', jti).executeTakeFirst();
      return row !== undefined;
    },
    async pruneExpired(before) {
      await db.deleteFrom('revoked_access_tokens').where('expires_at', '<', before).execute();
    },
    // Every read here goes to the database: there is nothing to bring up to date.
    async catchUp() {},
  };
}

type RevocationEventRow = Selectable<Database['revocation_events']>;

/**
 * The feed read, compiled: events after a sequence (parameter 1), oldest first, at most
 * parameter 2. The catch-up read (storage/cached-store.ts) runs it about once per database
 * round trip under load, so it is built and compiled once: Kysely's builder and compiler cost
 * more CPU than the driver's own work for the query (issue 17).
 * Its columns are named: on PostgreSQL it is also a prepared statement, and one selecting `*`
 * fails for good ("cached plan must not change result type") once a later migration adds a
 * column while this version still runs (a rolling upgrade).
 */
export const compileRevocationFeedRead = (db: Db): CompiledQuery<RevocationEventRow> =>
  db
    .selectFrom('revocation_events')
    .select(['seq', 'org_id', 'kind', 'subject_id', 'occurred_at', 'cutoff_before'])
    .where('seq', '>', '0')
    .orderBy('seq')
    .limit(1)
    .compile();

export function toRevocationEvent(row: RevocationEventRow): RevocationEvent {
  return {
    seq: String(row.seq),
    orgId: row.org_id,
    kind: row.kind,
    subjectId: row.subject_id,
    occurredAt: row.occurred_at,
    ...(row.cutoff_before !== null && { before: row.cutoff_before }),
  };
}

export function createRevocationEventRepository(db: Db): RevocationEventRepository {
  let afterQuery: CompiledQuery<RevocationEventRow> | undefined;
  return {
    async append(event) {
      // Sequence numbers are taken at insert but become visible at commit; holding one lock
      // until commit makes both orders agree, so a follower never skips a late-committing event.
      await sql`select pg_advisory_xact_lock(${feedLockKey})`.execute(db);
      await db
        .insertInto('revocation_events')
        .values({ org_id: event.orgId, kind: event.kind, subject_id: event.subjectId, occurred_at: event.occurredAt, cutoff_before: event.before ?? null })
        .execute();
      // Every instance's feed polls at once instead of at its next interval (heard at commit).
      await createChangePublisher(db).publish('revocations', event.orgId);
    },
    async after(seq, limit) {
      afterQuery ??= compileRevocationFeedRead(db);
      const { rows } = await db.executeQuery<RevocationEventRow>({ ...afterQuery, parameters: [seq, limit] });
      return rows.map(toRevocationEvent);
    },
    async lastBefore(before) {
      const row = await db
        .selectFrom('revocation_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('occurred_at', '<', before)
        .executeTakeFirst();
      return row?.seq == null ? '0' : String(row.seq);
    },
    async pruneBefore(before) {
      await db.deleteFrom('revocation_events').where('occurred_at', '<', before).execute();
    },
  };
}
