import { InvalidArgumentError, Option, type Command } from 'commander';
import { allRights, type Right } from '../../core/rights.js';
import type { Role } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { collect } from '../input.js';
import { formatList, formatTime } from '../output.js';
import { confirmOrRefuse } from './confirm.js';
import { examples, group } from './help.js';
import { resolveRole } from './resolve.js';

/** `role ...`: the built-in roles and the organization's custom ones. */
export function registerRoleCommands(program: Command, contextOf: ContextOf): void {
  const command = group(
    program,
    'role',
    'List roles; create, edit and delete custom roles',
    examples('tessera role list', 'tessera role create token-auditor --right audit.read --right tokens.all'),
  );
  const rightOption = (description: string) =>
    new Option('--right <right>', description).argParser((value: string, previous: string[] | undefined) => {
      if (!(allRights as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed rights are ${allRights.join(', ')}.`);
      return collect(value, previous);
    });

  command
    .command('list')
    .description('List built-in and custom roles')
    .addHelpText('after', examples('tessera role list', 'tessera role list --json'))
    .action(async (_options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const roles = await (await ctx.client()).roles.list();
      ctx.out.result(roles, () =>
        ctx.out.table(
          roles.items,
          [
            { header: 'NAME', value: (r) => r.name },
            { header: 'BUILT-IN', value: (r) => (r.builtin ? 'yes' : 'no') },
            { header: 'RIGHTS', value: (r) => formatList(r.rights) },
          ],
          'No roles.',
        ),
      );
    });

  command
    .command('show')
    .description('Show a role and its rights')
    .argument('<role>', 'name or id')
    .addHelpText('after', examples('tessera role show auditor', 'tessera role show auditor --json'))
    .action(async (ref: string, _options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const shown = await client.roles.get(await resolveRole(client, ref));
      ctx.out.result(shown, () => printRole(ctx, shown));
    });

  command
    .command('create')
    .description('Create a custom role (you must hold every right it carries)')
    .argument('<name>', 'lowercase letters, digits and . _ -')
    .addOption(rightOption('a right the role carries; repeatable').makeOptionMandatory())
    .option('--description <text>', 'what the role is for')
    .addHelpText('after', `\nRights: ${allRights.join(', ')}\n${examples('tessera role create token-auditor --right audit.read --right tokens.all --description "Reads tokens and the audit log"')}`)
    .action(async (name: string, options: { right: Right[]; description?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const created = await (await ctx.client()).roles.create({ name, rights: options.right, ...(options.description !== undefined && { description: options.description }) });
      ctx.out.result(created, () => {
        ctx.out.note(`Role ${created.name} has been created.`);
        printRole(ctx, created);
      });
    });

  command
    .command('edit')
    .description('Change a custom role; --right replaces the whole list')
    .argument('<role>', 'name or id')
    .addOption(rightOption('a right the role carries; repeatable'))
    .option('--description <text>', 'what the role is for')
    .addHelpText('after', examples('tessera role edit token-auditor --right audit.read'))
    .action(async (ref: string, options: { right?: Right[]; description?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (options.right === undefined && options.description === undefined) throw new UsageError('Nothing to change: give --right or --description');
      const client = await ctx.client();
      const updated = await client.roles.update(await resolveRole(client, ref), {
        ...(options.right !== undefined && { rights: options.right }),
        ...(options.description !== undefined && { description: options.description }),
      });
      ctx.out.result(updated, () => {
        ctx.out.note(`Role ${updated.name} has been updated.`);
        printRole(ctx, updated);
      });
    });

  command
    .command('delete')
    .description('Delete a custom role')
    .argument('<role>', 'name or id')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples('tessera role delete token-auditor --yes'))
    .action(async (ref: string, options: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const id = await resolveRole(client, ref);
      await confirmOrRefuse(ctx, options.yes, async () => `Delete the role ${ref}? Its holders lose its rights.`, 'Nothing was deleted.');
      await client.roles.remove(id);
      ctx.out.result({ deleted: true, id }, () => ctx.out.line(`Role ${ref} has been deleted.`));
    });
}

function printRole(ctx: Context, r: Role): void {
  ctx.out.fields([
    ['id', r.id],
    ['name', r.name],
    ['description', r.description],
    ['built-in', r.builtin ? 'yes' : 'no'],
    ['rights', formatList(r.rights)],
    ['created', formatTime(r.created_at)],
  ]);
}
