import { Option, type Command } from 'commander';
import { tokenSortColumns } from '../../core/store.js';
import type { Page, Token, TokenInput, TokenListQuery, TokenStatus, TokenWithSecret } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { checkEndpoints, checkExpiry, checkIpAllowlist, collect, durationSeconds, positiveInteger } from '../input.js';
import { formatList, formatTime, type Column } from '../output.js';
import { confirmOrRefuse } from './confirm.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { registerTokenLeakCommands, revokeByValue } from './token-leaks.js';

interface CreateOptions {
  name?: string;
  expiryDate?: string;
  owner?: string;
  scope?: string;
  endpoint?: string[];
  allowIp?: string[];
  role?: string[];
}

interface ListOptions {
  all?: boolean;
  owner?: string;
  status?: TokenStatus;
  kind?: string;
  search?: string;
  sort?: string;
  limit: number;
}

type EditOptions = Omit<CreateOptions, 'owner'>;

const statuses: readonly TokenStatus[] = ['active', 'expired', 'idle', 'revoked'];
const sorts = tokenSortColumns.flatMap((column) => [column, `-${column}`]);

/**
 * The one line that carries a new token for people: the seeds' `apitoken create` output word
 * for word (SPEC 7), so scripts written against it read ours. Nothing else on stdout looks like it.
 */
export function tokenLine(id: string, action: 'created' | 'rotated', token: string): string {
  return `ApiToken with id: ${id} has been ${action}, your token is: ${token} please keep it safe`;
}

/** `token create|list|show|edit|rotate|revoke`. */
export function registerTokenCommands(program: Command, contextOf: ContextOf): void {
  const token = group(
    program,
    'token',
    'Create, list, show, edit, rotate and revoke API tokens',
    examples('tessera token create --name ci --expiry-date 180D', 'tessera token list --all --status active', 'tessera token revoke 3kT9sQ2mXw1B --yes'),
  );

  addTokenInputOptions(token.command('create').description('Create an API token; it is printed once, here, and never again'))
    .option('--owner <owner>', 'username or id of the owner (needs tokens.create_for_others; default: you)')
    .addHelpText(
      'after',
      `
The token is printed on stdout as
  ApiToken with id: <id> has been created, your token is: <token> please keep it safe
and cannot be shown again. With --json, one JSON object (the token in its "token" field).
${examples(
  'tessera token create',
  'tessera token create --name AWS_TOKEN --expiry-date 1D --owner adminjb',
  'tessera token create --name reports --scope custom --endpoint "GET /reports/*" --allow-ip 10.0.0.0/8',
  'tessera token create --scope recovery --expiry-date 2027-01-31 --json',
)}`,
    )
    .action(async (options: CreateOptions, command: Command) => {
      const ctx = contextOf(command);
      const body = tokenInput(options, true);
      const client = await ctx.client();
      const created = await client.tokens.create({
        ...body,
        scope: body.scope ?? { kind: 'all' },
        ...(options.owner !== undefined && { owner: options.owner }),
      });
      printSecret(ctx, created, 'created');
    });

  token
    .command('list')
    .description('List your API tokens, or with --all the organization\'s')
    .option('--all', 'every API token of the organization (needs tokens.all)')
    .option('--owner <owner>', 'only this owner\'s API tokens (username or id)')
    .addOption(new Option('--status <status>', 'only tokens in this status').choices(statuses))
    .option('--kind <kind>', 'only this scope kind: all, custom or a preset name')
    .option('--search <text>', 'search in API token names and owner usernames')
    .addOption(new Option('--sort <column>', 'sort column; a leading - sorts descending').choices(sorts).default('-created_at'))
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText(
      'after',
      examples('tessera token list', 'tessera token list --all --status active --sort -last_used_at', 'tessera token list --all --owner ci-bot --json'),
    )
    .action(async (options: ListOptions, command: Command) => {
      const ctx = contextOf(command);
      const client = await ctx.client();
      const query: TokenListQuery = {
        ...(options.all && { all: true }),
        ...(options.owner !== undefined && { owner: options.owner }),
        ...(options.status !== undefined && { status: options.status }),
        ...(options.kind !== undefined && { kind: options.kind }),
        ...(options.search !== undefined && { q: options.search }),
        ...(options.sort !== undefined && { sort: options.sort }),
      };
      const page = await fetchPages(options.limit, 200, (limit, cursor) => client.tokens.list({ ...query, limit, ...(cursor && { cursor }) }));
      printTokens(ctx, page);
    });

  token
    .command('show')
    .description('Show an API token\'s details (never its secret)')
    .argument('<id>', 'API token id')
    .addHelpText('after', examples('tessera token show 3kT9sQ2mXw1B', 'tessera token show 3kT9sQ2mXw1B --json'))
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command);
      const shown = await (await ctx.client()).tokens.get(id);
      ctx.out.result(shown, () => printToken(ctx, shown));
    });

  addTokenInputOptions(token.command('edit').description('Change an API token\'s name, expiry, scope, IP allowlist or roles').argument('<id>', 'API token id'))
    .addHelpText(
      'after',
      `
--endpoint, --allow-ip and --role replace the token's whole list. The expiry is the
renewable-until time of refreshable tokens and the expiry of direct ones.
${examples('tessera token edit 3kT9sQ2mXw1B --name deploy --expiry-date 90D', 'tessera token edit 3kT9sQ2mXw1B --allow-ip 10.0.0.0/8 --allow-ip 2001:db8::/32')}`,
    )
    .action(async (id: string, options: EditOptions, command: Command) => {
      const ctx = contextOf(command);
      const body = tokenInput(options, false);
      if (Object.keys(body).length === 0) {
        throw new UsageError('Nothing to change: give --name, --expiry-date, --scope, --endpoint, --allow-ip or --role');
      }
      const updated = await (await ctx.client()).tokens.update(id, body);
      ctx.out.result(updated, () => {
        ctx.out.note(`API token ${updated.id} has been updated.`);
        printToken(ctx, updated);
      });
    });

  token
    .command('rotate')
    .description('Give an API token a new secret, printed once; the old one stops working (after --grace)')
    .argument('<id>', 'API token id')
    .option('--grace <duration>', 'keep the old secret working this long (e.g. 1h; at most 7D)')
    .addHelpText(
      'after',
      `
The new token is printed on stdout as
  ApiToken with id: <id> has been rotated, your token is: <token> please keep it safe
${examples('tessera token rotate 3kT9sQ2mXw1B', 'tessera token rotate 3kT9sQ2mXw1B --grace 1h --json')}`,
    )
    .action(async (id: string, options: { grace?: string }, command: Command) => {
      const ctx = contextOf(command);
      if (options.grace !== undefined) durationSeconds('/grace', options.grace);
      const rotated = await (await ctx.client()).tokens.rotate(id, options.grace === undefined ? {} : { grace: options.grace });
      printSecret(ctx, rotated, 'rotated');
      if (!ctx.out.json) ctx.out.note(options.grace === undefined ? 'The old token no longer works.' : `The old token keeps working for ${options.grace}.`);
    });

  token
    .command('revoke')
    .description('Revoke an API token (irreversible); access tokens minted from it stop working too')
    .argument('[id]', 'token id (or --value-stdin)')
    .option('--value-stdin', 'revoke the API token whose whole value is read from standard input (needs tokens.all)')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .option('--reason <text>', 'why, for the audit log')
    .addHelpText('after', examples('tessera token revoke 3kT9sQ2mXw1B', 'tessera token revoke 3kT9sQ2mXw1B --yes --reason "leaked in a CI log"', 'tessera token revoke --value-stdin --yes < leaked.txt'))
    .action(async (id: string | undefined, options: { yes?: boolean; reason?: string; valueStdin?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      if (options.valueStdin) return revokeByValue(ctx, id, options);
      if (id === undefined) throw new UsageError('Give the token id, or --value-stdin to read the token itself from standard input');
      const client = await ctx.client();
      await confirmOrRefuse(ctx, options.yes, async () => {
        const current = await client.tokens.get(id);
        return `Revoke token ${current.id} "${current.name}" of ${current.owner}? This cannot be undone.`;
      }, 'Nothing was revoked.');
      const revoked = await client.tokens.revoke(id, options.reason === undefined ? {} : { reason: options.reason });
      ctx.out.result(revoked, () => ctx.out.line(`API token ${revoked.id} has been revoked.`));
    });

  registerTokenLeakCommands(token, contextOf, printToken);
}

/** The options create and edit share, checked with @tessera/rules before anything is sent. */
function addTokenInputOptions(command: Command): Command {
  return command
    .option('--name <name>', 'API token name (default on create: <owner>_api_token)')
    .option('--expiry-date <when>', 'relative (180D, 12h, 2M = 60 days, 30m) or ISO 8601 (2027-01-31); never = no expiry where the policy allows')
    .option('--scope <scope>', 'all, custom, or a preset name (default: all, or custom with --endpoint)')
    .option('--endpoint <pattern>', 'an endpoint of a custom scope, e.g. /plans, "GET /clients", /reports/*; repeatable', collect)
    .option('--allow-ip <entry>', 'an allowed client address, CIDR or range (10.0.0.0/8, 1.1.1.0-1.1.1.25); repeatable', collect)
    .option('--role <role>', 'a role the token carries (a subset of the owner\'s; default: all of them); repeatable', collect);
}

/** The request body of create/edit; refuses bad input the way the server would, before sending. */
function tokenInput(options: EditOptions, creating: boolean): TokenInput {
  const body: TokenInput = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.expiryDate !== undefined) body.expires = checkExpiry(options.expiryDate);
  if (options.endpoint !== undefined || options.scope !== undefined) {
    const kind = options.scope ?? 'custom';
    body.scope = { kind, ...(options.endpoint !== undefined && { endpoints: checkEndpoints(options.endpoint) }) };
  } else if (creating) {
    body.scope = { kind: 'all' };
  }
  if (options.allowIp !== undefined) body.ip_allowlist = checkIpAllowlist(options.allowIp);
  if (options.role !== undefined) body.roles = options.role;
  return body;
}

/** Prints a new secret: for people the one token line on stdout, the warning on stderr. */
function printSecret(ctx: Context, created: TokenWithSecret, action: 'created' | 'rotated'): void {
  if (ctx.out.json) {
    ctx.out.printJson(created);
    return;
  }
  ctx.out.line(tokenLine(created.id, action, created.token));
  const lifetime = created.expires_at
    ? `It is ${created.mode === 'refreshable' ? 'renewable until' : 'valid until'} ${formatTime(created.expires_at)}.`
    : 'It never expires.';
  ctx.out.note(`The token is shown only this once: store it now. ${lifetime}`);
}

const statusPaint = (ctx: Context) => (text: string, row: Token) =>
  row.status === 'active' ? ctx.out.style.green(text) : row.status === 'revoked' ? ctx.out.style.red(text) : ctx.out.style.yellow(text);

function printTokens(ctx: Context, page: Page<Token>): void {
  ctx.out.result(page, () => {
    const columns: Column<Token>[] = [
      { header: 'ID', value: (t) => t.id },
      { header: 'NAME', value: (t) => t.name },
      { header: 'OWNER', value: (t) => t.owner },
      { header: 'SCOPE', value: (t) => t.scope.kind },
      { header: 'STATUS', value: (t) => t.status, paint: statusPaint(ctx) },
      { header: 'EXPIRES', value: (t) => (t.expires_at ? formatTime(t.expires_at) : 'never') },
      { header: 'LAST USED', value: (t) => (t.last_used_at ? formatTime(t.last_used_at) : 'never') },
    ];
    ctx.out.table(page.items, columns, 'No tokens.');
    if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
  });
}

function printToken(ctx: Context, t: Token): void {
  ctx.out.fields([
    ['id', t.id],
    ['name', t.name],
    ['owner', t.owner],
    ['status', t.status],
    ['mode', t.mode],
    ['scope', t.scope.kind],
    ['endpoints', formatList(t.scope.endpoints)],
    ['roles', formatList(t.roles)],
    ['allowed IPs', t.ip_allowlist.length === 0 ? 'any' : formatList(t.ip_allowlist)],
    [t.mode === 'refreshable' ? 'renewable until' : 'expires', t.expires_at ? formatTime(t.expires_at) : 'never'],
    ['last used', t.last_used_at ? `${formatTime(t.last_used_at)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ''}` : 'never'],
    ...((t.recent_ips ?? []).length > 0 ? ([['recent addresses', t.recent_ips.map((r) => `${r.ip} (${formatTime(r.last_seen_at)})`).join(', ')]] as const) : []),
    ['created', `${formatTime(t.created_at)} by ${t.created_by}`],
    ...(t.revoked_at ? ([['revoked', `${formatTime(t.revoked_at)}${t.revoke_reason ? `: ${t.revoke_reason}` : ''}`]] as const) : []),
  ]);
}
