import { sql, type Expression, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import { refreshHistoryLength, type ApiToken, type Preset, type SavedSearch, type TokenStatus } from '../core/model.js';
import type { PolicyRepository, PresetRepository, SavedSearchRepository, TokenListQuery, TokenRepository, TokenSortColumn, TokenView } from '../core/store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { escapeLike, json, mapUniqueViolation } from './sql-helpers.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

type TokenRow = Selectable<Database['api_tokens']>;

function toToken(row: Selectable<Database['api_tokens']>): ApiToken {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    createdBy: row.created_by,
    name: row.name,
    mode: row.mode,
    scopeKind: row.scope_kind,
    endpoints: row.endpoints,
    roles: row.roles,
    ipAllowlist: row.ip_allowlist,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokeReason: row.revoke_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const toView = (row: TokenRow): TokenView => ({
  ...toToken(row),
  ownerUsername: row.owner_username,
  recentIps: (row.recent_ips ?? []).map((entry) => ({ ip: entry.ip, lastSeenAt: new Date(entry.at) })),
});

/** The computed status in SQL, the same rules as core/tokens.ts `tokenStatus` (for the status sort). */
function statusSql(now: Date, idleSeconds: number | null) {
  const idleBefore = idleSeconds === null ? null : new Date(now.getTime() - idleSeconds * 1000);
  return sql<string>`CASE
    WHEN t.revoked_at IS NOT NULL THEN 'revoked'
    WHEN t.expires_at IS NOT NULL AND t.expires_at <= ${now} THEN 'expired'
    WHEN ${idleBefore}::timestamptz IS NOT NULL AND coalesce(t.last_used_at, t.created_at) <= ${idleBefore}::timestamptz THEN 'idle'
    ELSE 'active' END`;
}

/**
 * The status filter as range predicates, the same rules as `statusSql`, written so the partial
 * indexes of migration 0004 serve them (a CASE expression compared to a value serves nothing).
 */
function statusFilter(status: TokenStatus, now: Date, idleSeconds: number | null): Expression<SqlBool> {
  const idleBefore = idleSeconds === null ? null : new Date(now.getTime() - idleSeconds * 1000);
  const live = sql<SqlBool>`t.revoked_at IS NULL`;
  const unexpired = sql<SqlBool>`(t.expires_at IS NULL OR t.expires_at > ${now})`;
  switch (status) {
    case 'revoked':
      return sql<SqlBool>`t.revoked_at IS NOT NULL`;
    case 'expired':
      return sql<SqlBool>`${live} AND t.expires_at <= ${now}`;
    case 'idle':
      return idleBefore === null ? sql<SqlBool>`false` : sql<SqlBool>`${live} AND ${unexpired} AND coalesce(t.last_used_at, t.created_at) <= ${idleBefore}`;
    case 'active':
      return idleBefore === null ? sql<SqlBool>`${live} AND ${unexpired}` : sql<SqlBool>`${live} AND ${unexpired} AND coalesce(t.last_used_at, t.created_at) > ${idleBefore}`;
  }
}

/** Each sort column: its SQL expression (never NULL) and how a cursor value is cast back. */
function sortExpression(column: TokenSortColumn, query: TokenListQuery) {
  switch (column) {
    case 'created_at':
      return { expr: sql`t.created_at`, cast: 'timestamptz' };
    case 'name':
      return { expr: sql`t.name`, cast: 'text' };
    case 'expires_at':
      return { expr: sql`coalesce(t.expires_at, 'infinity'::timestamptz)`, cast: 'timestamptz' };
    case 'last_used_at':
      return { expr: sql`coalesce(t.last_used_at, '-infinity'::timestamptz)`, cast: 'timestamptz' };
    case 'owner':
      return { expr: sql`t.owner_username`, cast: 'text' };
    case 'status':
      return { expr: statusSql(query.now, query.idleTimeoutSeconds), cast: 'text' };
  }
}

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
    async list(query) {
      const { expr, cast } = sortExpression(query.sort, query);
      let q = db
        .selectFrom('api_tokens as t')
        .selectAll('t')
        .select(sql<string>`(${expr})::text`.as('sort_key'))
        .where('t.org_id', '=', query.orgId);
      if (query.ownerId) q = q.where('t.owner_id', '=', query.ownerId);
      if (query.kind) q = q.where('t.scope_kind', '=', query.kind);
      if (query.status) q = q.where(statusFilter(query.status, query.now, query.idleTimeoutSeconds));
      if (query.q) {
        // Substring match served by the trigram indexes on name and owner_username.
        const like = `%${escapeLike(query.q)}%`;
        q = q.where((eb) => eb.or([eb('t.name', 'ilike', like), eb('t.owner_username', 'ilike', like)]));
      }
      if (query.neverUsed) q = q.where('t.last_used_at', 'is', null);
      // Written on the expression of the last-used index; never-used tokens count as used at -infinity.
      const lastUsed = sql`coalesce(t.last_used_at, '-infinity'::timestamptz)`;
      if (query.unusedDays !== undefined) {
        const before = new Date(query.now.getTime() - query.unusedDays * 86_400_000);
        q = q.where(sql<SqlBool>`${lastUsed} < ${before}`);
      }
      if (query.usedSince) q = q.where(sql<SqlBool>`${lastUsed} >= ${query.usedSince}`);
      if (query.cursor) {
        const [value, id] = decodeCursor(query.cursor, 2) as [string, string];
        const cursorValue = sql`${value}::${sql.raw(cast)}`;
        const comparison: Expression<SqlBool> = query.descending
          ? sql<SqlBool>`((${expr}), t.id) < (${cursorValue}, ${id})`
          : sql<SqlBool>`((${expr}), t.id) > (${cursorValue}, ${id})`;
        q = q.where(comparison);
      }
      const direction = query.descending ? sql`DESC` : sql`ASC`;
      const rows = (await q
        .orderBy(sql`(${expr}) ${direction}`)
        .orderBy(sql`t.id ${direction}`)
        .limit(query.limit + 1)
        .execute()) as (TokenRow & { sort_key: string })[];
      const more = rows.length > query.limit;
      const pageRows = more ? rows.slice(0, query.limit) : rows;
      const last = pageRows[pageRows.length - 1];
      return { items: pageRows.map(toView), nextCursor: more && last ? encodeCursor([last.sort_key, last.id]) : null };
    },
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
    async recordUsage(entries) {
      if (entries.length === 0) return;
      // One statement for the whole batch; a later use never moves last_used_at backwards.
      await sql`
        UPDATE api_tokens AS t SET last_used_at = u.at, last_used_ip = u.ip,
          -- a token used again (its organization lengthened the idle timeout) is no longer idle
          lapsed_at = CASE WHEN t.lapse_reason = 'idle' THEN NULL ELSE t.lapsed_at END,
          lapse_reason = CASE WHEN t.lapse_reason = 'idle' THEN NULL ELSE t.lapse_reason END
        FROM (SELECT DISTINCT ON (id) * FROM jsonb_to_recordset(${json(entries.map((e) => ({ id: e.id, at: e.at.toISOString(), ip: e.ip })))}::jsonb)
              AS x(id text, at timestamptz, ip text) ORDER BY id, at DESC) AS u
        WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`.execute(db);
      const batch = json(entries.flatMap((e) => (e.recentIps ?? [{ ip: e.ip, at: e.at }]).map((r) => ({ id: e.id, at: r.at.toISOString(), ip: r.ip }))));
      // SPEC 9: the last 5 distinct addresses, each with its latest time, merged with what is stored.
      await sql`
        UPDATE api_tokens AS t SET recent_ips = (
          SELECT coalesce(jsonb_agg(jsonb_build_object('ip', m.ip, 'at', m.at) ORDER BY m.at DESC), '[]'::jsonb)
          FROM (
            SELECT a.ip, max(a.at) AS at FROM (
              SELECT e->>'ip' AS ip, (e->>'at')::timestamptz AS at FROM jsonb_array_elements(t.recent_ips) AS e
              UNION ALL
              SELECT x.ip, x.at FROM jsonb_to_recordset(${batch}::jsonb) AS x(id text, at timestamptz, ip text) WHERE x.id = t.id
            ) AS a
            GROUP BY a.ip ORDER BY max(a.at) DESC LIMIT 5
          ) AS m)
        WHERE t.id IN (SELECT x.id FROM jsonb_to_recordset(${batch}::jsonb) AS x(id text))`.execute(db);
    },
    async markLapsed(now, limit) {
      // Expiry first: a token both expired and idle is reported as expired. SKIP LOCKED keeps a
      // sweep from waiting on rows a request is updating; they are picked up next time.
      const expired = await sql<{ id: string; org_id: string; owner_id: string }>`
        UPDATE api_tokens SET lapsed_at = ${now}, lapse_reason = 'expired'
        WHERE id IN (
          SELECT id FROM api_tokens
          WHERE revoked_at IS NULL AND lapsed_at IS NULL AND expires_at <= ${now}
          ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id, org_id, owner_id`.execute(db);
      const room = limit - expired.rows.length;
      const idle =
        room <= 0
          ? { rows: [] }
          : await sql<{ id: string; org_id: string; owner_id: string }>`
        UPDATE api_tokens SET lapsed_at = ${now}, lapse_reason = 'idle'
        WHERE id IN (
          SELECT t.id FROM api_tokens AS t JOIN policies AS p ON p.org_id = t.org_id
          WHERE t.revoked_at IS NULL AND t.lapsed_at IS NULL
            AND (t.expires_at IS NULL OR t.expires_at > ${now})
            AND jsonb_typeof(p.settings -> 'idleTimeoutSeconds') = 'number'
            AND coalesce(t.last_used_at, t.created_at) <= ${now}::timestamptz - make_interval(secs => (p.settings ->> 'idleTimeoutSeconds')::double precision)
          LIMIT ${room} FOR UPDATE OF t SKIP LOCKED)
        RETURNING id, org_id, owner_id`.execute(db);
      return [
        ...expired.rows.map((row) => ({ id: row.id, orgId: row.org_id, ownerId: row.owner_id, reason: 'expired' as const })),
        ...idle.rows.map((row) => ({ id: row.id, orgId: row.org_id, ownerId: row.owner_id, reason: 'idle' as const })),
      ];
    },
  };
  return repo;
}

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

function toPreset(row: Selectable<Database['presets']>): Preset {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    endpoints: row.endpoints,
    mode: row.mode,
    scopeLocked: row.scope_locked,
    defaultLifetimeSeconds: row.default_lifetime_seconds,
  };
}

export function createPresetRepository(db: Db): PresetRepository {
  return {
    async list(orgId) {
      return (await db.selectFrom('presets').selectAll().where('org_id', '=', orgId).orderBy('name').execute()).map(toPreset);
    },
    async getByName(orgId, name) {
      const row = await db.selectFrom('presets').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
      return row && toPreset(row);
    },
    async create(preset) {
      const insert = db
        .insertInto('presets')
        .values({
          id: preset.id,
          org_id: preset.orgId,
          name: preset.name,
          description: preset.description,
          endpoints: json(preset.endpoints),
          mode: preset.mode,
          scope_locked: preset.scopeLocked,
          default_lifetime_seconds: preset.defaultLifetimeSeconds,
          created_at: preset.createdAt,
        })
        .execute();
      await mapUniqueViolation(insert, '/name', `A preset named "${preset.name}" already exists; choose another name`);
    },
    async update(orgId, id, patch) {
      const row = await db
        .updateTable('presets')
        .set({
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.endpoints !== undefined && { endpoints: json(patch.endpoints) }),
          ...(patch.scopeLocked !== undefined && { scope_locked: patch.scopeLocked }),
          ...(patch.defaultLifetimeSeconds !== undefined && { default_lifetime_seconds: patch.defaultLifetimeSeconds }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row && toPreset(row);
    },
    async remove(orgId, id) {
      return (await db.deleteFrom('presets').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()).numDeletedRows > 0n;
    },
  };
}

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
