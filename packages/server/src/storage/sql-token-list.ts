import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { TokenStatus } from '../core/model.js';
import type { TokenListQuery, TokenRepository, TokenSortColumn } from '../core/store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { escapeLike } from './sql-helpers.js';
import type { Database } from './schema.js';
import { toView, type TokenRow } from './sql-token-rows.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The computed status in SQL, the same rules as core/tokens/status.ts `tokenStatus` (for the status sort). */
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

/** The shortest search term matched as a substring: pg_trgm indexes three-character runs. */
export const minSubstringSearch = 3;

/** The most owners a search matches by id; beyond, it matches owner_username by trigram. */
export const maxOwnersById = 100;

/** The token list: filters, any sort column, keyset pages (SPEC: token list). */
export function createTokenListing(db: Db): Pick<TokenRepository, 'list'> {
  return {
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
      if (query.q !== undefined && [...query.q].length >= minSubstringSearch) {
        // Substring match served by the trigram indexes. The owner half goes through the
        // principals (migration 0014): a few matching owners' tokens are one btree range each,
        // where owner_username's trigrams have a posting list over every token (bench:admin at
        // 1,000,000 tokens: 6 ms against 10). A term that many owners match keeps the trigrams.
        const like = `%${escapeLike(query.q)}%`;
        const owners = await db
          .selectFrom('principals')
          .select('id')
          .where('org_id', '=', query.orgId)
          .where('username', 'ilike', like)
          .limit(maxOwnersById + 1)
          .execute();
        const ownerIds = owners.map((owner) => owner.id);
        q = q.where((eb) => {
          if (ownerIds.length > maxOwnersById) return eb.or([eb('t.name', 'ilike', like), eb('t.owner_username', 'ilike', like)]);
          return ownerIds.length === 0 ? eb('t.name', 'ilike', like) : eb.or([eb('t.name', 'ilike', like), eb('t.owner_id', 'in', ownerIds)]);
        });
      } else if (query.q) {
        // A term shorter than a trigram has nothing for those indexes to look up: as a substring
        // it would read every token of the organization (seconds at a million tokens when it
        // matches nothing). It matches a whole name or owner username instead, from the btrees.
        const term = query.q;
        q = q.where((eb) => eb.or([eb('t.name', '=', term), eb('t.owner_username', '=', term)]));
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
  };
}
