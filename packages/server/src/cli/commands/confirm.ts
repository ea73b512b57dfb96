import type { Context } from '../context.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { canPrompt, confirm } from '../prompt.js';

/**
 * Guards an irreversible change: `--yes` proceeds; on a terminal the question is asked; with
 * no terminal and no `--yes` the command is refused (exit 2) rather than guessed.
 *
 * @param question - built only when asking (it may need a request, e.g. the token's name)
 * @param declined - said when the answer is no (exit 1)
 */
export async function confirmOrRefuse(ctx: Context, yes: boolean | undefined, question: () => Promise<string>, declined: string): Promise<void> {
  if (yes) return;
  if (!canPrompt(ctx.prompts)) {
    throw new UsageError('This cannot be undone and there is no terminal to confirm on: add --yes');
  }
  if (!(await confirm(ctx.prompts, await question()))) throw new CliError(declined, ExitCode.refused);
}
