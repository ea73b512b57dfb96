import { Option, type Command } from 'commander';
import type { Principal, UpdatePrincipal } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { checkIpAllowlist, collect, positiveInteger } from '../input.js';
import { formatList, formatTime } from '../output.js';
import { confirmOrRefuse } from './confirm.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { resolvePrincipal } from './resolve.js';
import { readNewPassword } from './session.js';

interface PrincipalOptions {
  displayName?: string;
  email?: string;
  role?: string[];
  allowIp?: string[];
  status?: 'active' | 'disabled';
  password?: boolean;
}

/**
 * `user ...` and `service-account ...`: the same commands over /users and /service-accounts,
 * except that only users have a password (service accounts act only through tokens).
 */
export function registerPrincipalCommands(program: Command, contextOf: ContextOf, kind: 'user' | 'service_account'): void {
  const isUser = kind === 'user';
  const name = isUser ? 'user' : 'service-account';
  const noun = isUser ? 'user' : 'service account';
  const Noun = isUser ? 'User' : 'Service account';
  const sample = isUser ? 'alice' : 'ci-bot';
  const collection = (ctx: Context) => ctx.client().then((client) => ({ client, api: isUser ? client.users : client.serviceAccounts }));

  const command = group(
    program,
    name,
    isUser ? 'Manage users (people who log in)' : 'Manage service accounts (act only through tokens)',
    examples(`tessera ${name} list`, `tessera ${name} create ${sample} --role member`, `tessera ${name} edit ${sample} --status disabled`),
  );

  command
    .command('list')
    .description(`List ${noun}s`)
    .option('--search <text>', 'search in usernames and display names')
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText('after', examples(`tessera ${name} list`, `tessera ${name} list --search ${sample.slice(0, 3)} --json`))
    .action(async (options: { search?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { api } = await collection(ctx);
      const page = await fetchPages(options.limit, 200, (limit, cursor) => api.list({ limit, ...(cursor && { cursor }), ...(options.search !== undefined && { q: options.search }) }));
      ctx.out.result(page, () => {
        ctx.out.table(
          page.items,
          [
            { header: 'ID', value: (p) => p.id },
            { header: 'USERNAME', value: (p) => p.username },
            { header: 'DISPLAY NAME', value: (p) => p.display_name },
            { header: 'STATUS', value: (p) => p.status, paint: (text, p) => (p.status === 'active' ? ctx.out.style.green(text) : ctx.out.style.red(text)) },
            { header: 'ROLES', value: (p) => formatList(p.roles) },
          ],
          `No ${noun}s.`,
        );
        if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
      });
    });

  command
    .command('show')
    .description(`Show a ${noun}`)
    .argument(`<${name}>`, 'username or id')
    .addHelpText('after', examples(`tessera ${name} show ${sample}`, `tessera ${name} show ${sample} --json`))
    .action(async (ref: string, _options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { client, api } = await collection(ctx);
      const shown = await api.get(await resolvePrincipal(client, kind, ref));
      ctx.out.result(shown, () => printPrincipal(ctx, shown));
    });

  command
    .command('create')
    .description(`Create a ${noun}`)
    .argument('<username>', 'letters, digits and . _ @ -')
    .option('--display-name <name>', 'name shown in lists (default: the username)')
    .option('--email <address>', 'email address')
    .option('--role <role>', 'a role to hold (default: member); repeatable', collect)
    .option('--allow-ip <entry>', `an address, CIDR or range the ${noun}'s tokens may be used from; repeatable`, collect)
    .addHelpText(
      'after',
      `${isUser ? '\nThe password is asked twice without echo on a terminal; scripts set TESSERA_NEW_PASSWORD\nor pipe it on stdin.\n' : ''}${examples(
        `tessera ${name} create ${sample} --role ${isUser ? 'member' : 'member --allow-ip 10.0.0.0/8'}`,
        isUser ? 'TESSERA_NEW_PASSWORD="$PW" tessera user create bob --role auditor --email bob@example.com' : 'tessera service-account create backup --display-name "Nightly backup" --json',
      )}`,
    )
    .action(async (username: string, options: PrincipalOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const ipAllowlist = options.allowIp === undefined ? undefined : checkIpAllowlist(options.allowIp);
      const { client } = await collection(ctx);
      const fields = {
        username,
        ...(options.displayName !== undefined && { display_name: options.displayName }),
        ...(options.email !== undefined && { email: options.email }),
        ...(options.role !== undefined && { roles: options.role }),
        ...(ipAllowlist !== undefined && { ip_allowlist: ipAllowlist }),
      };
      const created = isUser
        ? await client.users.create({ ...fields, password: await readNewPassword(ctx, 'TESSERA_NEW_PASSWORD', username) })
        : await client.serviceAccounts.create(fields);
      ctx.out.result(created, () => {
        ctx.out.note(`${Noun} ${created.username} has been created.`);
        printPrincipal(ctx, created);
      });
    });

  const edit = command
    .command('edit')
    .description(`Change a ${noun}'s display name, email, status, roles${isUser ? ', password' : ''} or IP allowlist`)
    .argument(`<${name}>`, 'username or id')
    .option('--display-name <name>', 'name shown in lists')
    .option('--email <address>', 'email address; none removes it')
    .addOption(new Option('--status <status>', 'disabled ends its sessions and stops its tokens at once').choices(['active', 'disabled']))
    .option('--role <role>', 'a role to hold; replaces the whole list; repeatable', collect)
    .option('--allow-ip <entry>', 'an allowed address, CIDR or range; replaces the whole list; repeatable', collect);
  if (isUser) edit.option('--password', 'set a new password (asked, or TESSERA_NEW_PASSWORD, or stdin)');
  edit
    .addHelpText('after', examples(`tessera ${name} edit ${sample} --status disabled`, `tessera ${name} edit ${sample} --role member --role auditor`))
    .action(async (ref: string, options: PrincipalOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body: UpdatePrincipal = {};
      if (options.displayName !== undefined) body.display_name = options.displayName;
      if (options.email !== undefined) body.email = options.email === 'none' ? null : options.email;
      if (options.status !== undefined) body.status = options.status;
      if (options.role !== undefined) body.roles = options.role;
      if (options.allowIp !== undefined) body.ip_allowlist = checkIpAllowlist(options.allowIp);
      if (Object.keys(body).length === 0 && !options.password) {
        throw new UsageError(`Nothing to change: give --display-name, --email, --status, --role${isUser ? ', --password' : ''} or --allow-ip`);
      }
      const { client, api } = await collection(ctx);
      const id = await resolvePrincipal(client, kind, ref);
      if (options.password) body.password = await readNewPassword(ctx, 'TESSERA_NEW_PASSWORD', ref);
      const updated = await api.update(id, body);
      ctx.out.result(updated, () => {
        ctx.out.note(`${Noun} ${updated.username} has been updated.`);
        printPrincipal(ctx, updated);
      });
    });

  command
    .command('delete')
    .description(`Delete a ${noun}; its tokens stop working at once`)
    .argument(`<${name}>`, 'username or id')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples(`tessera ${name} delete ${sample}`, `tessera ${name} delete ${sample} --yes`))
    .action(async (ref: string, options: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { client, api } = await collection(ctx);
      const id = await resolvePrincipal(client, kind, ref);
      await confirmOrRefuse(ctx, options.yes, async () => `Delete the ${noun} ${ref}? This cannot be undone.`, 'Nothing was deleted.');
      await api.remove(id);
      ctx.out.result({ deleted: true, id }, () => ctx.out.line(`${Noun} ${ref} has been deleted.`));
    });
}

function printPrincipal(ctx: Context, p: Principal): void {
  ctx.out.fields([
    ['id', p.id],
    ['username', p.username],
    ['kind', p.kind === 'user' ? 'user' : 'service account'],
    ['display name', p.display_name],
    ['email', p.email],
    ['status', p.status],
    ['roles', formatList(p.roles)],
    ['allowed IPs', p.ip_allowlist.length === 0 ? 'any' : formatList(p.ip_allowlist)],
    ...(p.instance_admin ? ([['instance admin', 'yes']] as const) : []),
    ['created', formatTime(p.created_at)],
  ]);
}
