import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { refreshHistoryLength } from '../core/model.js';
import type { TokenRepository } from '../core/store.js';
import { json, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';
import { createTokenListing } from './sql-token-list.js';
import { toToken, toView, type TokenRow } from './sql-token-rows.js';
import { createTokenUsage } from './sql-token-usage.js';

type Db = Kysely<Database> | Transaction<Database>;

/** API tokens: creation, reads, edits, secret rotation and revocation; the list and usage writes are composed in. */
export function createTokenRepository(db: Db): TokenRepository {
  const withOwner = () => db.selectFrom('api_tokens as t').selectAll('t');

  const repo: TokenRepository = {
    async create(token, secretHash) {
      const insert = db
        .insertInto('api_tokens')
        .values({
          id: token.id,
          org_id: token.orgId,
          owner_id: token.ownerId,
          owner_username: sql<string>`(SELECT username FROM principals WHERE id = ${token.ownerId})`,
          created_by: token.createdBy,
          name: token.name,
          mode: token.mode,
          scope_kind: token.scopeKind,
          endpoints: json(token.endpoints),
          roles: json(token.roles),
          ip_allowlist: json(token.ipAllowlist),
          secret_hash: secretHash,
          previous_from_refresh: false,
          expires_at: token.expiresAt,
          created_at: token.createdAt,
          updated_at: token.updatedAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `The owner already has a token named "${token.name}"; choose another name`);
    },
    async get(orgId, id) {
      const row = await withOwner().where('t.org_id', '=', orgId).where('t.id', '=', id).executeTakeFirst();
      return row && toView(row as TokenRow);
    },
    async getForVerify(id) {
      const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return {
        token: toToken(row),
        secrets: {
          secretHash: Buffer.from(row.secret_hash),
          previousSecretHash: row.previous_secret_hash && Buffer.from(row.previous_secret_hash),
          previousValidUntil: row.previous_valid_until,
          previousFromRefresh: row.previous_from_refresh,
          retiredRefreshHashes: row.retired_refresh_hashes.map((hex) => Buffer.from(hex, 'hex')),
        },
      };
    },
    async lockOwner(ownerId) {
      await db.selectFrom('principals').select('id').where('id', '=', ownerId).forUpdate().execute();
    },
    async countActive(ownerId, now, idleTimeoutSeconds) {
      let query = db
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('owner_id', '=', ownerId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
      if (idleTimeoutSeconds !== null) {
        const idleBefore = new Date(now.getTime() - idleTimeoutSeconds * 1000);
        query = query.where(sql<SqlBool>`coalesce(last_used_at, created_at) > ${idleBefore}`);
      }
      return Number((await query.executeTakeFirstOrThrow()).n);
    },
    ...createTokenListing(db),
    async update(orgId, id, patch) {
      const change = db
        .updateTable('api_tokens')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          // A new expiry may bring a lapsed token back; the sweep then audits its next lapse.
          ...(patch.expiresAt !== undefined && { expires_at: patch.expiresAt, lapsed_at: null, lapse_reason: null }),
          ...(patch.scopeKind !== undefined && { scope_kind: patch.scopeKind }),
          ...(patch.endpoints !== undefined && { endpoints: json(patch.endpoints) }),
          ...(patch.roles !== undefined && { roles: json(patch.roles) }),
          ...(patch.ipAllowlist !== undefined && { ip_allowlist: json(patch.ipAllowlist) }),
          updated_at: patch.updatedAt,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const result = await mapUniqueViolation(change, '/name', `The owner already has a token named "${patch.name ?? ''}"; choose another name`);
      return result.numUpdatedRows > 0n ? repo.get(orgId, id) : undefined;
    },
    async replaceSecret(id, next, expectedCurrent) {
      let query = db
        .updateTable('api_tokens')
        .set({
          secret_hash: next.secretHash,
          previous_secret_hash: next.previousSecretHash,
          previous_valid_until: next.previousValidUntil,
          previous_from_refresh: next.previousFromRefresh,
          updated_at: next.updatedAt,
          // Appended one at a time, so dropping the oldest when full keeps the last N.
          ...(next.retire && {
            retired_refresh_hashes: sql<string[]>`(CASE WHEN jsonb_array_length(retired_refresh_hashes) >= ${refreshHistoryLength}
              THEN retired_refresh_hashes - 0 ELSE retired_refresh_hashes END) || jsonb_build_array(${next.retire.toString('hex')}::text)`,
          }),
        })
        .where('id', '=', id)
        .where('revoked_at', 'is', null);
      if (expectedCurrent) query = query.where('secret_hash', '=', expectedCurrent);
      return (await query.executeTakeFirst()).numUpdatedRows > 0n;
    },
    async revoke(orgId, id, by, reason, at) {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: at, revoked_by: by, revoke_reason: reason, updated_at: at })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const token = await repo.get(orgId, id);
      return token && { token, changed: result.numUpdatedRows > 0n };
    },
    async revokeCreatedBefore(orgId, ownerId, before, by, reason, at) {
      let query = db
        .updateTable('api_tokens')
        .set({ revoked_at: at, revoked_by: by, revoke_reason: reason, updated_at: at })
        .where('org_id', '=', orgId)
        .where('created_at', '<', before)
        .where('revoked_at', 'is', null);
      if (ownerId !== null) query = query.where('owner_id', '=', ownerId);
      const rows = await query.returning(['id', 'owner_id']).execute();
      return rows.map((row) => ({ id: row.id, ownerId: row.owner_id }));
    },
    ...createTokenUsage(db),
  };
  return repo;
}
