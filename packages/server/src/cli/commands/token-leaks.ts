import type { Command } from 'commander';
import type { Token } from '../client.js';
import type { Context, ContextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { pointInTime } from '../input.js';
import { formatTime } from '../output.js';
import { canPrompt, promptHidden } from '../prompt.js';
import { confirmOrRefuse } from './confirm.js';
import { examples } from './help.js';

/** Longest input read as a token value: far beyond any token, short of reading a whole file by mistake. */
const maxValueBytes = 4096;

/**
 * The token value, from standard input and never from the command line, so it stays out of
 * shell history and process lists. On a terminal it is asked for without echo; from a pipe
 * the first non-empty line is taken.
 */
async function readValue(ctx: Context): Promise<string> {
  const stdin = ctx.io.stdin;
  if (canPrompt(ctx.prompts)) return (await promptHidden(ctx.prompts, 'API token value: ')).trim();
  let text = '';
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    text += String(chunk);
    if (text.length > maxValueBytes) throw new UsageError('Standard input is longer than any token: give the token alone, on one line');
  }
  const value = text.split(/\r?\n/).map((line) => line.trim()).find((line) => line !== '');
  if (value === undefined) throw new UsageError('No token on standard input: pipe the token in, e.g. tessera token identify < leaked.txt');
  return value;
}

/** `token revoke --value-stdin`. */
export async function revokeByValue(ctx: Context, id: string | undefined, options: { yes?: boolean; reason?: string }): Promise<void> {
  if (id !== undefined) throw new UsageError('Give either a token id or --value-stdin, not both');
  const value = await readValue(ctx);
  const client = await ctx.client();
  await confirmOrRefuse(ctx, options.yes, async () => {
    const current = await client.tokens.identify(value);
    return `Revoke token ${current.id} "${current.name}" of ${current.owner}? This cannot be undone.`;
  }, 'Nothing was revoked.');
  const revoked = await client.tokens.revokeByValue({ token: value, ...(options.reason !== undefined && { reason: options.reason }) });
  ctx.out.result(revoked, () => ctx.out.line(`API token ${revoked.id} "${revoked.name}" of ${revoked.owner} has been revoked.`));
}

/** `token identify` and `token revoke-all` (SPEC 9). */
export function registerTokenLeakCommands(token: Command, contextOf: ContextOf, printToken: (ctx: Context, token: Token) => void): void {
  token
    .command('identify')
    .description('Which API token is this? Reads the whole token from standard input and shows its details (needs tokens.all)')
    .addHelpText('after', `
The token is read from standard input (asked for without echo on a terminal), never taken as
an argument, so it stays out of shell history and process lists.
${examples('tessera token identify < leaked.txt', 'pbpaste | tessera token identify --json')}`)
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command);
      const value = await readValue(ctx);
      const found = await (await ctx.client()).tokens.identify(value);
      ctx.out.result(found, () => printToken(ctx, found));
    });

  token
    .command('revoke-all')
    .description('Revoke every API token issued before a cutoff, of one user or service account or of the whole organization')
    .option('--owner <owner>', 'username or id (default: every principal of the organization; needs tokens.all)')
    .option('--issued-before <when>', 'cutoff: a date, a date-time with a zone, or a duration meaning that long ago (default: now)')
    .option('--reason <text>', 'why, for the audit log (default: cutoff)')
    .option('--yes', 'do not ask for confirmation (required when there is no terminal)')
    .addHelpText('after', examples('tessera token revoke-all --owner alice', 'tessera token revoke-all --issued-before 2026-11-30T12:00:00Z --reason "signing key exposure" --yes'))
    .action(async (options: { owner?: string; issuedBefore?: string; reason?: string; yes?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const issuedBefore = options.issuedBefore === undefined ? undefined : pointInTime('--issued-before', options.issuedBefore);
      const client = await ctx.client();
      await confirmOrRefuse(ctx, options.yes, async () => {
        const whose = options.owner === undefined ? 'every token of the organization' : `every token of ${options.owner}`;
        return `Revoke ${whose} issued before ${issuedBefore === undefined ? 'now' : formatTime(issuedBefore)}? Their access tokens stop working too. This cannot be undone.`;
      }, 'Nothing was revoked.');
      const result = await client.tokens.revokeAll({
        ...(options.owner !== undefined && { owner: options.owner }),
        ...(issuedBefore !== undefined && { issued_before: issuedBefore }),
        ...(options.reason !== undefined && { reason: options.reason }),
      });
      ctx.out.result(result, () => ctx.out.line(`${result.revoked} API token${result.revoked === 1 ? ' has' : 's have'} been revoked (issued before ${formatTime(result.issued_before)}).`));
    });
}
