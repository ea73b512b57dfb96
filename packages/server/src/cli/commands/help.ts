import type { Command } from 'commander';

/** The "Examples:" block every command's --help ends with. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/**
 * A command group (`tessera token`). Run alone, commander shows its help as an error (exit 2),
 * so a script that forgot the subcommand fails rather than doing nothing.
 */
export function group(program: Command, name: string, description: string, helpText: string): Command {
  return program.command(name).description(description).addHelpText('after', helpText);
}
