import type { Command } from 'commander';
import type { Org } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { positiveInteger } from '../input.js';
import { formatTime } from '../output.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { resolveOrg } from './resolve.js';
import { readNewPassword } from './session.js';

/** `org ...`: organizations (tenants), managed by instance admins. */
export function registerOrgCommands(program: Command, contextOf: ContextOf): void {
  const command = group(
    program,
    'org',
    'Manage organizations (instance admins)',
    examples('tessera org list', 'tessera org create acme --owner acme-admin --display-name "Acme Inc."'),
  );

  command
    .command('list')
    .description('List organizations (instance admin)')
    .option('--search <text>', 'search in organization names')
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText('after', examples('tessera org list', 'tessera org list --json'))
    .action(async (options: { search?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const page = await fetchPages(options.limit, 200, (limit, cursor) => client.orgs.list({ limit, ...(cursor && { cursor }), ...(options.search !== undefined && { q: options.search }) }));
      ctx.out.result(page, () => {
        ctx.out.table(
          page.items,
          [
            { header: 'ID', value: (o) => o.id },
            { header: 'NAME', value: (o) => o.name },
            { header: 'DISPLAY NAME', value: (o) => o.display_name },
            { header: 'CREATED', value: (o) => formatTime(o.created_at) },
          ],
          'No organizations.',
        );
        if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
      });
    });

  command
    .command('show')
    .description('Show an organization (yours, or any for an instance admin)')
    .argument('<org>', 'name or id')
    .addHelpText('after', examples('tessera org show acme', 'tessera org show acme --json'))
    .action(async (ref: string, _options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const shown = await client.orgs.get(await resolveOrg(client, ref));
      ctx.out.result(shown, () => printOrg(ctx, shown));
    });

  command
    .command('create')
    .description('Create an organization with its first owner (instance admin)')
    .argument('<name>', 'lowercase letters, digits and -')
    .requiredOption('--owner <username>', 'username of the first owner (holds org-owner)')
    .option('--display-name <name>', 'name shown to people')
    .addHelpText(
      'after',
      `
The owner's password is asked twice without echo on a terminal; scripts set
TESSERA_NEW_PASSWORD or pipe it on stdin.
${examples('tessera org create acme --owner acme-admin --display-name "Acme Inc."', 'TESSERA_NEW_PASSWORD="$PW" tessera org create beta --owner beta-admin --json')}`,
    )
    .action(async (name: string, options: { owner: string; displayName?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const password = await readNewPassword(ctx, 'TESSERA_NEW_PASSWORD', options.owner);
      const created = await client.orgs.create({ name, owner: { username: options.owner, password }, ...(options.displayName !== undefined && { display_name: options.displayName }) });
      ctx.out.result(created, () => {
        ctx.out.note(`Organization ${created.org.name} has been created with owner ${created.owner.username}; they log in with --org ${created.org.name}.`);
        printOrg(ctx, created.org);
      });
    });

  command
    .command('edit')
    .description('Rename an organization (instance admin)')
    .argument('<org>', 'name or id')
    .requiredOption('--display-name <name>', 'name shown to people')
    .addHelpText('after', examples('tessera org edit acme --display-name "Acme Corporation"'))
    .action(async (ref: string, options: { displayName: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const updated = await client.orgs.update(await resolveOrg(client, ref), { display_name: options.displayName });
      ctx.out.result(updated, () => {
        ctx.out.note(`Organization ${updated.name} has been updated.`);
        printOrg(ctx, updated);
      });
    });
}

function printOrg(ctx: Context, o: Org): void {
  ctx.out.fields([
    ['id', o.id],
    ['name', o.name],
    ['display name', o.display_name],
    ['created', formatTime(o.created_at)],
  ]);
}
