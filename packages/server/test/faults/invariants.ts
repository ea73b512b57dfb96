import type { Acknowledged } from './support.js';

/** Runs SQL against the database under test (PostgreSQL through pg, PGlite through its own query). */
export type Query = (text: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Rows typed as the statement selects them. */
const typed = <R>(query: Query) => (text: string, values?: unknown[]) => query(text, values) as Promise<R[]>;

export interface InvariantReport {
  /** Violations by invariant; every list should be empty. */
  readonly violations: Record<string, string[]>;
  readonly counts: Record<string, number>;
}

const ids = (rows: Record<string, unknown>[], key: string) => rows.map((row) => String(row[key]));

/**
 * The invariants every fault must leave intact, checked in SQL after the fault:
 * - every token row has its `token.created` audit row, and every changed secret an audit row;
 * - no principal holds more active tokens than the limit;
 * - no refresh family has two live successors;
 * - every write the client saw acknowledged is there (creates, revokes, and each acknowledged
 *   refresh grant's `token.exchanged` row, matched by request id);
 * - no exchange is audited twice (one request id, one `token.exchanged` row).
 *
 * `hardKills` forgives exchanges acknowledged by the killed instance within `flushMs` (plus
 * the flush's own commit time) before it was killed: reads' audit events are batched, and a
 * kill may lose one flush interval of them by design.
 */
export async function checkInvariants(
  query: Query,
  options: { limit: number; acknowledged?: Acknowledged; hardKills?: { via: string; at: number }[]; flushMs?: number },
): Promise<InvariantReport> {
  const violations: Record<string, string[]> = {};
  const counts: Record<string, number> = {};

  violations['token without token.created audit'] = ids(
    await query(`SELECT t.id FROM api_tokens t WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.target_id = t.id AND a.action = 'token.created')`),
    'id',
  );
  // A rotated secret (manual rotation or refresh-grant rotation) leaves previous_secret_hash set.
  const rotatedWithoutAudit = ids(
    await query(
      `SELECT t.id FROM api_tokens t WHERE t.previous_secret_hash IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.target_id = t.id AND a.action IN ('token.rotated', 'token.exchanged'))`,
    ),
    'id',
  );
  violations['secret change without audit'] = rotatedWithoutAudit;

  violations['principal over the token limit'] = (
    await typed<{ owner_id: string; n: string }>(query)(
      `SELECT owner_id, count(*) AS n FROM api_tokens
        WHERE revoked_at IS NULL AND lapsed_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        GROUP BY owner_id HAVING count(*) > $1`,
      [options.limit],
    )
  ).map((row) => `${row.owner_id}: ${row.n}`);

  violations['family with two live successors'] = await twoLiveSuccessors(query);

  violations['exchange audited twice'] = (
    await typed<{ request_id: string; n: string }>(query)(
      `SELECT request_id, count(*) AS n FROM audit_events WHERE action = 'token.exchanged' AND request_id IS NOT NULL GROUP BY request_id HAVING count(*) > 1`,
    )
  ).map((row) => `${row.request_id}: ${row.n}`);

  const ack = options.acknowledged;
  if (ack) {
    const present = new Set(ids(await query(`SELECT id FROM api_tokens WHERE id = ANY($1::text[])`, [ack.creates.map((c) => c.id)]), 'id'));
    violations['acknowledged create missing'] = ack.creates.filter((c) => !present.has(c.id)).map((c) => c.id);
    const revoked = new Set(ids(await query(`SELECT id FROM api_tokens WHERE id = ANY($1::text[]) AND revoked_at IS NOT NULL`, [ack.revokes]), 'id'));
    violations['acknowledged revoke missing'] = ack.revokes.filter((id) => !revoked.has(id));
    const audited = new Set(
      ids(
        await query(`SELECT request_id FROM audit_events WHERE action = 'token.exchanged' AND request_id = ANY($1::text[])`, [ack.exchanges.map((e) => e.requestId)]),
        'request_id',
      ),
    );
    // One flush interval, plus the time the flush itself takes to commit (half a second is generous on a busy machine).
    const flushMs = (options.flushMs ?? 1000) + 500;
    const forgiven = (e: { at: number; via: string }) => (options.hardKills ?? []).some((kill) => e.via === kill.via && e.at <= kill.at && kill.at - e.at <= flushMs);
    const missing = ack.exchanges.filter((e) => !audited.has(e.requestId));
    counts['acknowledged exchanges'] = ack.exchanges.length;
    counts['exchanges without audit within a flush interval of a hard kill'] = missing.filter((e) => forgiven(e)).length;
    violations['acknowledged exchange without token.exchanged audit'] = missing
      .filter((e) => !forgiven(e))
      .map((e) => `${e.tokenId} (${e.requestId})`);
    counts['acknowledged creates'] = ack.creates.length;
    counts['acknowledged revokes'] = ack.revokes.length;
  }
  for (const [name, list] of Object.entries(violations)) if (list.length === 0) delete violations[name];
  return { violations, counts };
}

/**
 * A refresh family is the chain of secrets of one API token. With one row per token (one
 * current secret, one previous) two live successors cannot be stored; if a table of
 * generations exists (issue 13 item 4 may add one), no parent may have two live children.
 */
async function twoLiveSuccessors(query: Query): Promise<string[]> {
  const tables = ids(
    await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name ~ '(refresh|famil|generation)'`),
    'table_name',
  );
  for (const table of tables) {
    const columns = new Set(ids(await query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1`, [table]), 'column_name'));
    const parent = ['parent_id', 'predecessor_id', 'previous_id'].find((c) => columns.has(c));
    const live = ['revoked_at', 'consumed_at', 'used_at'].find((c) => columns.has(c));
    if (!parent || !live) continue;
    return ids(await query(`SELECT ${parent} AS parent FROM ${table} WHERE ${live} IS NULL AND ${parent} IS NOT NULL GROUP BY ${parent} HAVING count(*) > 1`), 'parent');
  }
  // The single-row model: each token id is one row, so one live secret per family.
  return ids(await query(`SELECT id FROM api_tokens GROUP BY id HAVING count(*) > 1`), 'id');
}

/** Prints a report in the test output (`# ` lines reach the spec reporter). */
export function printReport(name: string, report: InvariantReport, extra: Record<string, unknown> = {}): void {
  console.log(`# ${name}: ${JSON.stringify({ ...extra, ...report.counts })}`);
  for (const [what, list] of Object.entries(report.violations)) console.log(`# ${name} VIOLATION ${what}: ${list.length} (${list.slice(0, 5).join(', ')})`);
}
