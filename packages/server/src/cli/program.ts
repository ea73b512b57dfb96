import { Command, CommanderError, Option } from 'commander';
import { ApiError, ConnectionError } from './client.js';
import { registerAppCommands } from './commands/apps.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBackupCommand } from './commands/backup.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerOrgCommands } from './commands/orgs.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerPrincipalCommands } from './commands/principals.js';
import { registerRoleCommands } from './commands/roles.js';
import { registerServerCommands } from './commands/server.js';
import { registerSessionCommands } from './commands/session.js';
import { registerTokenCommands } from './commands/tokens.js';
import { Context, type CliIo, type ContextOf, type GlobalOptions } from './context.js';
import { CliError, ExitCode, exitCodeOf } from './errors.js';
import { Output, sanitize } from './output.js';

/**
 * The `tessera` program. Every command but serve and migrate reaches the service through the
 * REST API (client.ts); output goes through output.ts.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command()
    .name('tessera')
    .description('Tessera: API tokens, an OAuth 2.0 token endpoint and their management.')
    .version('0.1.0', '-V, --version')
    .addOption(new Option('--json', 'print one JSON document on stdout instead of text for people'))
    .addOption(new Option('--url <url>', 'the Tessera server (default: the logged-in one; env TESSERA_URL)'))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 refused by the server, 2 usage error, 3 cannot reach the server,
4 not logged in.

Examples:
  tessera login --url http://127.0.0.1:8080 --user admin
  tessera token create --name ci --expiry-date 180D
  tessera token list --all --status active --json
  source <(tessera completion bash)`,
    );

  const contextOf: ContextOf = (command) => new Context(io, command.optsWithGlobals<GlobalOptions>());
  registerServerCommands(program, contextOf);
  registerSessionCommands(program, contextOf);
  registerTokenCommands(program, contextOf);
  registerPrincipalCommands(program, contextOf, 'user');
  registerPrincipalCommands(program, contextOf, 'service_account');
  registerGroupCommands(program, contextOf);
  registerRoleCommands(program, contextOf);
  registerAppCommands(program, contextOf);
  registerOrgCommands(program, contextOf);
  registerPolicyCommands(program, contextOf);
  registerAuditCommands(program, contextOf);
  registerBackupCommand(program, contextOf);
  registerCompletionCommand(program, contextOf);
  return program;
}

/**
 * Runs the CLI on `argv` (as process.argv: node, script, arguments...) and returns the exit
 * code. Every failure is reported here, once, on stderr.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed its message already; help and --version are successes.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const json = program.opts<GlobalOptions>().json === true || argv.includes('--json');
    report(error, new Output({ json, stdout: io.stdout, stderr: io.stderr, env: io.env }), io);
    return exitCodeOf(error);
  }
}

/** Writes a failure on stderr: a sentence for people, or with --json one JSON object. */
function report(error: unknown, out: Output, io: CliIo): void {
  if (error instanceof CliError && error.reported) return;
  const exitCode = exitCodeOf(error);
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError && error.status === 401 && error.code !== 'INVALID_CREDENTIALS' && error.code !== 'SECOND_FACTOR_REQUIRED') {
    message = 'The stored session is no longer valid (expired, ended or revoked): run `tessera login`';
  }
  if (out.json) {
    const body: Record<string, unknown> = { exit_code: exitCode, message };
    if (error instanceof ApiError) Object.assign(body, { status: error.status, code: error.code, field: error.field ?? null, request_id: error.requestId ?? null });
    if (error instanceof CliError && error.field !== undefined) body['field'] = error.field;
    io.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  const known = error instanceof CliError || error instanceof ApiError || error instanceof ConnectionError || isRaw(error);
  io.stderr.write(`${out.errorStyle.red('tessera:')} ${sanitize(known ? message : `unexpected error: ${message}`)}\n`);
}

/** Errors whose message is already written for people (configuration errors, rule errors). */
function isRaw(error: unknown): boolean {
  return error instanceof Error && (error.name === 'RuleError' || error.name === 'ConfigError');
}
