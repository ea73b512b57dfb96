import type { Command } from 'commander';
import type { AuditEvent, AuditQuery, TesseraClient } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { durationSeconds, pointInTime, positiveInteger } from '../input.js';
import { formatTime } from '../output.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { resolveAnyPrincipal } from './resolve.js';

interface FilterOptions {
  action?: string;
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
}

/**
 * How far back each --follow poll looks again: an event is stamped when its transaction starts
 * and may commit after a later one, so a poll from exactly the newest time seen could miss it.
 */
const followOverlapMs = 10_000;

/** `audit list|export`: read the append-only audit log (needs audit.read). */
export function registerAuditCommands(program: Command, contextOf: ContextOf): void {
  const command = group(program, 'audit', 'Read and export the audit log (needs audit.read)', examples('tessera audit list --action "token.*" --since 1D', 'tessera audit export --since 2026-01-01 > audit.jsonl'));

  withFilters(command.command('list').description('List audit events, newest first'))
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText('after', examples('tessera audit list', 'tessera audit list --action "token.*" --actor alice --since 7D', 'tessera audit list --since 2026-01-01 --until 2026-02-01 --json'))
    .action(async (options: FilterOptions & { limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const filters = checkFilters(options);
      const client = await ctx.client();
      const query = await resolveFilters(client, filters, options.actor);
      const page = await fetchPages(options.limit, 1000, (limit, cursor) => client.audit.list({ ...query, limit, ...(cursor && { cursor }) }));
      ctx.out.result(page, () => {
        ctx.out.table(
          page.items,
          [
            { header: 'TIME', value: (e) => formatTime(e.occurred_at) },
            { header: 'ACTION', value: (e) => e.action },
            { header: 'OUTCOME', value: (e) => e.outcome, paint: (text, e) => (e.outcome === 'success' ? text : ctx.out.style.yellow(text)) },
            { header: 'ACTOR', value: (e) => e.actor_principal_id },
            { header: 'VIA TOKEN', value: (e) => e.actor_token_id },
            { header: 'TARGET', value: (e) => (e.target_type ? `${e.target_type} ${e.target_id ?? ''}`.trim() : null) },
            { header: 'CLIENT IP', value: (e) => e.client_ip },
          ],
          'No audit events.',
        );
        if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
      });
    });

  withFilters(command.command('export').description('Write audit events as JSON Lines on stdout, newest first'))
    .option('--follow', 'after the export, keep writing new events as they happen (oldest first) until interrupted')
    .option('--interval <duration>', 'how often --follow asks for new events', '2s')
    .addHelpText(
      'after',
      `
One JSON object per line, whatever --json says. A progress count is shown on stderr when it
is a terminal. --follow polls for new events until Ctrl-C or SIGTERM (exit 0).
${examples('tessera audit export --since 2026-01-01 > audit.jsonl', 'tessera audit export --action "token.*" --since 1D --follow | jq .action')}`,
    )
    .action(async (options: FilterOptions & { follow?: boolean; interval: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const filters = checkFilters(options);
      if (options.follow && filters.until !== undefined) throw new UsageError('--follow writes events as they happen; it cannot be combined with --until');
      const intervalMs = durationSeconds('--interval', options.interval) * 1000;
      const client = await ctx.client();
      const query = await resolveFilters(client, filters, options.actor);
      const stop = options.follow ? stopOnSignal() : undefined;
      try {
        const progress = ctx.out.progress();
        let count = 0;
        const recent = new Map<string, number>();
        let newest: number | undefined;
        for await (const line of await client.audit.export(query)) {
          await writeLine(ctx, line);
          count += 1;
          if (count % 250 === 0) progress.update(`Exported ${count} events…`);
          if (options.follow) {
            // Newest first: the first line sets the mark; only events near it need remembering.
            const event = JSON.parse(line) as AuditEvent;
            const at = Date.parse(event.occurred_at);
            newest = Math.max(newest ?? at, at);
            if (at >= newest - followOverlapMs) recent.set(event.id, at);
          }
        }
        progress.done(`Exported ${count} event${count === 1 ? '' : 's'}.`);
        if (stop) await follow(ctx, client, query, { intervalMs, stop, recent, newest });
      } finally {
        stop?.dispose();
      }
    });
}

function withFilters(command: Command): Command {
  return command
    .option('--action <action>', 'an action (token.created) or a prefix ending in * (token.*)')
    .option('--actor <principal>', 'who acted: username or id')
    .option('--target <id>', 'the id of what was acted on')
    .option('--since <when>', 'from this date, date-time or duration ago (2026-01-31, 2026-01-31T10:00:00Z, 12h, 7D)')
    .option('--until <when>', 'before this date, date-time or duration ago');
}

function checkFilters(options: FilterOptions): Omit<AuditQuery, 'actor'> {
  return {
    ...(options.action !== undefined && { action: options.action }),
    ...(options.target !== undefined && { target: options.target }),
    ...(options.since !== undefined && { since: pointInTime('--since', options.since) }),
    ...(options.until !== undefined && { until: pointInTime('--until', options.until) }),
  };
}

async function resolveFilters(client: TesseraClient, filters: Omit<AuditQuery, 'actor'>, actor: string | undefined): Promise<AuditQuery> {
  return actor === undefined ? filters : { ...filters, actor: await resolveAnyPrincipal(client, actor) };
}

/** Writes one line, waiting when stdout is slower than the server. */
async function writeLine(ctx: Context, line: string): Promise<void> {
  if (!ctx.out.write(`${line}\n`)) {
    await new Promise<void>((resolve) => ctx.io.stdout.once('drain', () => resolve()));
  }
}

interface Stop {
  readonly stopped: () => boolean;
  readonly sleep: (ms: number) => Promise<void>;
  dispose(): void;
}

/** Ctrl-C and SIGTERM end --follow cleanly (exit 0) instead of killing it mid-line. */
function stopOnSignal(): Stop {
  let stopped = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped: () => stopped,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Polls for events newer than those written, writing each once, oldest first. Each poll looks
 * back {@link followOverlapMs} and skips ids already written.
 */
async function follow(
  ctx: Context,
  client: TesseraClient,
  query: AuditQuery,
  state: { intervalMs: number; stop: Stop; recent: Map<string, number>; newest: number | undefined },
): Promise<void> {
  let { newest } = state;
  const { recent, stop } = state;
  while (!stop.stopped()) {
    await stop.sleep(state.intervalMs);
    if (stop.stopped()) break;
    const since = newest === undefined ? query.since : new Date(newest - followOverlapMs).toISOString();
    const fresh: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.audit.list({ ...query, ...(since !== undefined && { since }), limit: 1000, ...(cursor && { cursor }) });
      fresh.push(...page.items.filter((event) => !recent.has(event.id)));
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    for (const event of fresh.reverse()) {
      await writeLine(ctx, JSON.stringify(event));
      const at = Date.parse(event.occurred_at);
      recent.set(event.id, at);
      newest = Math.max(newest ?? at, at);
    }
    if (newest !== undefined) {
      for (const [id, at] of recent) if (at < newest - followOverlapMs) recent.delete(id);
    }
  }
}
