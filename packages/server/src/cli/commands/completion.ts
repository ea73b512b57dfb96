import { Argument, type Command } from 'commander';
import type { ContextOf } from '../context.js';
import { examples } from './help.js';

/** One command path (`token create`) with what may follow it. */
interface Node {
  readonly path: string;
  /** Subcommand names and long options. */
  readonly words: readonly string[];
  /** Options with a fixed set of values, and those values. */
  readonly values: ReadonlyMap<string, readonly string[]>;
}

/** `completion bash|zsh`: a completion script generated from the program's own commands. */
export function registerCompletionCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('completion')
    .description('Print a shell completion script for bash or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText(
      'after',
      examples('source <(tessera completion bash)            # in ~/.bashrc', 'source <(tessera completion zsh)             # in ~/.zshrc, after compinit', 'tessera completion bash > /etc/bash_completion.d/tessera'),
    )
    .action((shell: 'bash' | 'zsh', _options: object, command: Command) => {
      const ctx = contextOf(command);
      const script = completionScript(program, shell);
      ctx.out.result({ shell, script }, () => ctx.out.write(script));
    });
}

/** The completion script for `shell`, covering every command and option of `program`. */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const nodes = walk(program);
  const quote = (words: readonly string[]) => `'${words.join(' ')}'`;
  const wordCases = nodes.map((node) => `    ${quote([node.path])}) echo ${quote(node.words)} ;;`).join('\n');
  const valueCases = nodes
    .flatMap((node) => [...node.values].map(([option, values]) => `    ${quote([`${node.path}|${option}`])}) echo ${quote(values)} ;;`))
    .join('\n');
  const helpers = `_tessera_words() {
  case "$1" in
${wordCases}
  esac
}

_tessera_values() {
  case "$1|$2" in
${valueCases}
  esac
}
`;
  if (shell === 'bash') {
    return `# tessera completion for bash. Load it with: source <(tessera completion bash)
${helpers}
_tessera_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmdpath="" word i values
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ $word != -* && " $(_tessera_words "$cmdpath") " == *" $word "* ]]; then
      cmdpath="\${cmdpath:+$cmdpath }$word"
    fi
  done
  values="$(_tessera_values "$cmdpath" "$prev")"
  COMPREPLY=($(compgen -W "\${values:-$(_tessera_words "$cmdpath")}" -- "$cur"))
}
complete -F _tessera_complete tessera
`;
  }
  return `#compdef tessera
# tessera completion for zsh. Load it with: source <(tessera completion zsh) (after compinit)
${helpers}
_tessera() {
  local cmdpath="" word i
  for (( i = 2; i < CURRENT; i++ )); do
    word="\${words[i]}"
    if [[ $word != -* && " $(_tessera_words "$cmdpath") " == *" $word "* ]]; then
      cmdpath="\${cmdpath:+$cmdpath }$word"
    fi
  done
  local -a candidates
  candidates=(\${=$(_tessera_values "$cmdpath" "\${words[CURRENT-1]}")})
  (( \${#candidates} )) || candidates=(\${=$(_tessera_words "$cmdpath")})
  compadd -- $candidates
}
if (( $+functions[compdef] )); then compdef _tessera tessera; fi
`;
}

function walk(program: Command): Node[] {
  const globals = program.options.flatMap((option) => (option.long ? [option.long] : []));
  const nodes: Node[] = [];
  const visit = (command: Command, path: string) => {
    const values = new Map<string, readonly string[]>();
    const options = command.options.flatMap((option) => {
      if (option.long && option.argChoices) values.set(option.long, option.argChoices);
      return option.long ? [option.long] : [];
    });
    const subcommands = command.commands.map((sub) => sub.name());
    nodes.push({ path, words: [...new Set([...subcommands, ...options, ...globals, '--help'])], values });
    for (const sub of command.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(program, '');
  return nodes;
}
