import type { Command } from 'commander';
import type { Group, GroupInput, TesseraClient } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { collect, positiveInteger } from '../input.js';
import { formatList, formatTime } from '../output.js';
import { confirmOrRefuse } from './confirm.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { resolveAnyPrincipal, resolveGroup } from './resolve.js';

interface GroupOptions {
  name?: string;
  description?: string;
  member?: string[];
  role?: string[];
}

/** `group ...`: roles held by a group are held by its members. */
export function registerGroupCommands(program: Command, contextOf: ContextOf): void {
  const command = group(
    program,
    'group',
    'Manage groups: roles held by a group are held by its members',
    examples('tessera group create operators --member alice --member ci-bot --role admin', 'tessera group list'),
  );

  command
    .command('list')
    .description('List groups')
    .option('--search <text>', 'search in group names')
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText('after', examples('tessera group list', 'tessera group list --search ops --json'))
    .action(async (options: { search?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const page = await fetchPages(options.limit, 200, (limit, cursor) => client.groups.list({ limit, ...(cursor && { cursor }), ...(options.search !== undefined && { q: options.search }) }));
      ctx.out.result(page, () => {
        ctx.out.table(
          page.items,
          [
            { header: 'ID', value: (g) => g.id },
            { header: 'NAME', value: (g) => g.name },
            { header: 'MEMBERS', value: (g) => g.members.length },
            { header: 'ROLES', value: (g) => formatList(g.roles) },
          ],
          'No groups.',
        );
        if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
      });
    });

  command
    .command('show')
    .description('Show a group')
    .argument('<group>', 'name or id')
    .addHelpText('after', examples('tessera group show operators', 'tessera group show operators --json'))
    .action(async (ref: string, _options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const shown = await client.groups.get(await resolveGroup(client, ref));
      ctx.out.result(shown, () => printGroup(ctx, shown));
    });

  withGroupOptions(command.command('create').description('Create a group').argument('<name>', 'group name'))
    .addHelpText('after', examples('tessera group create operators --role admin', 'tessera group create auditors --member bob --role auditor --json'))
    .action(async (name: string, options: GroupOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const created = await client.groups.create({ ...(await groupInput(client, options)), name });
      ctx.out.result(created, () => {
        ctx.out.note(`Group ${created.name} has been created.`);
        printGroup(ctx, created);
      });
    });

  withGroupOptions(command.command('edit').description('Change a group; --member and --role replace the whole list').argument('<group>', 'name or id').option('--name <name>', 'new name'))
    .addHelpText('after', examples('tessera group edit operators --member alice --member bob', 'tessera group edit operators --name ops --json'))
    .action(async (ref: string, options: GroupOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (Object.values(options).every((value) => value === undefined)) {
        throw new UsageError('Nothing to change: give --name, --description, --member or --role');
      }
      const client = await ctx.client();
      const updated = await client.groups.update(await resolveGroup(client, ref), await groupInput(client, options));
      ctx.out.result(updated, () => {
        ctx.out.note(`Group ${updated.name} has been updated.`);
        printGroup(ctx, updated);
      });
    });

  command
    .command('delete')
    .description('Delete a group (its members keep their own roles)')
    .argument('<group>', 'name or id')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples('tessera group delete operators --yes'))
    .action(async (ref: string, options: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const id = await resolveGroup(client, ref);
      await confirmOrRefuse(ctx, options.yes, async () => `Delete the group ${ref}?`, 'Nothing was deleted.');
      await client.groups.remove(id);
      ctx.out.result({ deleted: true, id }, () => ctx.out.line(`Group ${ref} has been deleted.`));
    });
}

function withGroupOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what the group is for')
    .option('--member <principal>', 'a member: username or id of a user or service account; repeatable', collect)
    .option('--role <role>', 'a role the members hold through the group; repeatable', collect);
}

async function groupInput(client: TesseraClient, options: GroupOptions): Promise<GroupInput> {
  const body: GroupInput = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.description !== undefined) body.description = options.description;
  if (options.member !== undefined) body.members = await Promise.all(options.member.map((member) => resolveAnyPrincipal(client, member)));
  if (options.role !== undefined) body.roles = options.role;
  return body;
}

function printGroup(ctx: Context, g: Group): void {
  ctx.out.fields([
    ['id', g.id],
    ['name', g.name],
    ['description', g.description],
    ['members', formatList(g.members)],
    ['roles', formatList(g.roles)],
    ['created', formatTime(g.created_at)],
  ]);
}
