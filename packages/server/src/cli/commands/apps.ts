import type { Command } from 'commander';
import type { App, AppInput, AppWithSecret } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { booleanValue, collect, optionalDurationSeconds, positiveInteger } from '../input.js';
import { formatList, formatTime } from '../output.js';
import { confirmOrRefuse } from './confirm.js';
import { examples, group } from './help.js';
import { fetchPages } from './pages.js';
import { resolveApp } from './resolve.js';

interface AppOptions {
  name?: string;
  description?: string;
  role?: string[];
  accessTokenTtl?: string;
  canIntrospect?: boolean;
}

/** The one line that carries an app's client secret for people, like a new token's. */
export function appSecretLine(app: AppWithSecret, action: 'created' | 'given a new secret'): string {
  return `App with client id: ${app.client_id} has been ${action}, its client secret is: ${app.client_secret} please keep it safe`;
}

/** `app ...`: server-to-server OAuth clients (client_credentials grant). */
export function registerAppCommands(program: Command, contextOf: ContextOf): void {
  const command = group(
    program,
    'app',
    'Manage apps: OAuth clients that get access tokens with client_credentials',
    examples('tessera app create billing --role member --access-token-ttl 15m', 'tessera app list'),
  );

  command
    .command('list')
    .description('List apps')
    .option('--search <text>', 'search in app names')
    .option('--limit <n>', 'show at most this many', positiveInteger, 50)
    .addHelpText('after', examples('tessera app list', 'tessera app list --json'))
    .action(async (options: { search?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const page = await fetchPages(options.limit, 200, (limit, cursor) => client.apps.list({ limit, ...(cursor && { cursor }), ...(options.search !== undefined && { q: options.search }) }));
      ctx.out.result(page, () => {
        ctx.out.table(
          page.items,
          [
            { header: 'ID', value: (a) => a.id },
            { header: 'NAME', value: (a) => a.name },
            { header: 'CLIENT ID', value: (a) => a.client_id },
            { header: 'ROLES', value: (a) => formatList(a.roles) },
            { header: 'INTROSPECT', value: (a) => (a.can_introspect ? 'yes' : 'no') },
          ],
          'No apps.',
        );
        if (page.next_cursor) ctx.out.note(`Showing the first ${page.items.length}; use --limit to see more.`);
      });
    });

  command
    .command('show')
    .description('Show an app (never its secret)')
    .argument('<app>', 'name or id')
    .addHelpText('after', examples('tessera app show billing', 'tessera app show billing --json'))
    .action(async (ref: string, _options: object, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const shown = await client.apps.get(await resolveApp(client, ref));
      ctx.out.result(shown, () => printApp(ctx, shown));
    });

  withAppOptions(command.command('create').description('Create an app; its client secret is printed once').argument('<name>', 'app name'))
    .addHelpText(
      'after',
      `
The secret is printed on stdout as
  App with client id: <client id> has been created, its client secret is: <secret> please keep it safe
${examples('tessera app create billing --role member', 'tessera app create gateway --can-introspect true --json')}`,
    )
    .action(async (name: string, options: AppOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = appInput(options);
      const created = await (await ctx.client()).apps.create({ ...body, name });
      printAppSecret(ctx, created, 'created');
    });

  withAppOptions(command.command('edit').description('Change an app; --role replaces the whole list').argument('<app>', 'name or id').option('--name <name>', 'new name'))
    .addHelpText('after', examples('tessera app edit billing --access-token-ttl 5m', 'tessera app edit billing --role member --role auditor --json'))
    .action(async (ref: string, options: AppOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = appInput(options);
      if (Object.keys(body).length === 0) throw new UsageError('Nothing to change: give --name, --description, --role, --access-token-ttl or --can-introspect');
      const client = await ctx.client();
      const updated = await client.apps.update(await resolveApp(client, ref), body);
      ctx.out.result(updated, () => {
        ctx.out.note(`App ${updated.name} has been updated.`);
        printApp(ctx, updated);
      });
    });

  command
    .command('regenerate-secret')
    .description('Give an app a new client secret, printed once; the old one stops working at once')
    .argument('<app>', 'name or id')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples('tessera app regenerate-secret billing', 'tessera app regenerate-secret billing --yes --json'))
    .action(async (ref: string, options: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const id = await resolveApp(client, ref);
      await confirmOrRefuse(ctx, options.yes, async () => `Regenerate the secret of app ${ref}? The current secret stops working at once.`, 'The secret was not changed.');
      printAppSecret(ctx, await client.apps.regenerateSecret(id), 'given a new secret');
    });

  command
    .command('delete')
    .description('Delete an app')
    .argument('<app>', 'name or id')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples('tessera app delete billing --yes'))
    .action(async (ref: string, options: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = await ctx.client();
      const id = await resolveApp(client, ref);
      await confirmOrRefuse(ctx, options.yes, async () => `Delete the app ${ref}?`, 'Nothing was deleted.');
      await client.apps.remove(id);
      ctx.out.result({ deleted: true, id }, () => ctx.out.line(`App ${ref} has been deleted.`));
    });
}

function withAppOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what the app is for')
    .option('--role <role>', 'a role its access tokens carry; repeatable', collect)
    .option('--access-token-ttl <duration>', 'access-token lifetime, 1m to 30D (e.g. 15m); policy = the organization\'s')
    .option('--can-introspect <true|false>', 'may call /oauth/introspect', booleanValue);
}

function appInput(options: AppOptions): AppInput {
  const body: AppInput = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.description !== undefined) body.description = options.description;
  if (options.role !== undefined) body.roles = options.role;
  if (options.accessTokenTtl !== undefined) {
    body.access_token_ttl_seconds = options.accessTokenTtl === 'policy' ? null : optionalDurationSeconds('/access_token_ttl_seconds', options.accessTokenTtl);
  }
  if (options.canIntrospect !== undefined) body.can_introspect = options.canIntrospect;
  return body;
}

function printAppSecret(ctx: Context, app: AppWithSecret, action: 'created' | 'given a new secret'): void {
  if (ctx.out.json) {
    ctx.out.printJson(app);
    return;
  }
  ctx.out.line(appSecretLine(app, action));
  ctx.out.note('The client secret is shown only this once: store it now.');
}

function printApp(ctx: Context, a: App): void {
  ctx.out.fields([
    ['id', a.id],
    ['name', a.name],
    ['description', a.description],
    ['client id', a.client_id],
    ['roles', formatList(a.roles)],
    ['access-token TTL', a.access_token_ttl_seconds === null ? 'the organization policy' : `${a.access_token_ttl_seconds} s`],
    ['can introspect', a.can_introspect ? 'yes' : 'no'],
    ['secret rotated', formatTime(a.secret_rotated_at)],
    ['created', formatTime(a.created_at)],
  ]);
}
