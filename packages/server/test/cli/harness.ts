import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The tessera command as a process: its TypeScript source through tsx (always current, like
 * serve.test.ts), or with TESSERA_TEST_CLI=dist the built bin, `dist/cli/main.js`, as npm
 * installs it (run `npm run build` first).
 */
export const cliCommand: readonly string[] =
  process.env['TESSERA_TEST_CLI'] === 'dist'
    ? [process.execPath, join(serverDir, 'dist/cli/main.js')]
    : [process.execPath, '--conditions=development', '--import', 'tsx', join(serverDir, 'src/cli/main.ts')];

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as the one JSON document --json promises. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are inspected freely
  json(): any;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is a pipe, never a terminal). */
  readonly input?: string;
}

/** A CLI process that keeps running (audit export --follow). */
export interface RunningCli {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stdout matches `pattern`; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Cli {
  /** The TESSERA_CONFIG_DIR of this file's runs. */
  readonly configDir: string;
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  start(args: readonly string[], options?: RunOptions): RunningCli;
  /** Logs in as `username` with the password in TESSERA_PASSWORD; throws unless it worked. */
  login(username: string, password: string, extra?: readonly string[]): Promise<CliResult>;
  /** Every stdout and stderr this CLI wrote, for secret searches. */
  readonly transcripts: { args: readonly string[]; stdout: string; stderr: string }[];
  cleanup(): void;
}

/** An environment without the caller's Tessera settings, so a developer's session never leaks in. */
function cleanEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('TESSERA_') && name !== 'NO_COLOR' && name !== 'XDG_CONFIG_HOME') env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs the tessera CLI as a child process against `ts`, with a config directory of its own. */
export function cliFor(ts: TestServer | undefined, prefix = 'tessera-cli-'): Cli {
  const configDir = mkdtempSync(join(tmpdir(), prefix));
  const transcripts: { args: readonly string[]; stdout: string; stderr: string }[] = [];

  /** Spawns the CLI; `closed` resolves with its exit code once its output is recorded. */
  function launch(args: readonly string[], options: RunOptions) {
    const child = spawn(cliCommand[0] as string, [...cliCommand.slice(1), ...args], {
      env: cleanEnv({ TESSERA_CONFIG_DIR: configDir, ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const closed = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        transcripts.push({ args, ...output });
        resolve(code);
      });
    });
    return { child, output, closed };
  }

  async function run(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
    const { output, closed } = launch(args, options);
    const code = await closed;
    const { stdout, stderr } = output;
    return {
      code,
      stdout,
      stderr,
      json() {
        try {
          return JSON.parse(stdout);
        } catch {
          throw new Error(`stdout of tessera ${args.join(' ')} is not one JSON document:\n${stdout}\nstderr:\n${stderr}`);
        }
      },
    };
  }

  function start(args: readonly string[], options: RunOptions = {}): RunningCli {
    const { child, output, closed: exited } = launch(args, options);
    return {
      stdout: () => output.stdout,
      stderr: () => output.stderr,
      waitFor(pattern, ms = 20_000) {
        return new Promise((resolve, reject) => {
          const started = Date.now();
          const check = () => {
            if (pattern.test(output.stdout)) resolve();
            else if (child.exitCode !== null || Date.now() - started > ms) reject(new Error(`no ${pattern} in stdout:\n${output.stdout}\nstderr:\n${output.stderr}`));
            else setTimeout(check, 50);
          };
          check();
        });
      },
      stop(signal = 'SIGTERM') {
        child.kill(signal);
        return exited;
      },
    };
  }

  return {
    configDir,
    run,
    start,
    transcripts,
    async login(username, password, extra = []) {
      if (!ts) throw new Error('no server');
      const result = await run(['login', '--url', ts.url, '--user', username, ...extra], { env: { TESSERA_PASSWORD: password } });
      if (result.code !== 0) throw new Error(`login as ${username} failed (${result.code}): ${result.stderr}`);
      return result;
    },
    cleanup() {
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/** How many HTTP requests have reached `ts` so far (Fastify logs one line per request). */
export function requestCount(ts: TestServer): number {
  return ts.logs.lines.filter((line) => line.includes('"msg":"incoming request"')).length;
}

/** How often `needle` occurs in `haystack`. */
export function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** A loopback URL where nothing listens: a port the OS handed out, then closed again. */
export async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** What each CLI test file starts from: a server, its admin, a member alice, and a logged-in CLI for each. */
export interface CliWorld {
  readonly ts: TestServer;
  /** The admin's session token, for setting things up through the API. */
  readonly admin: string;
  readonly aliceId: string;
  /** Logged in as admin. */
  readonly cli: Cli;
  /** Logged in as alice (member). */
  readonly member: Cli;
  close(): Promise<void>;
}

export async function startCliWorld(): Promise<CliWorld> {
  const ts = await startTestServer();
  const admin = await loginAdmin(ts);
  const aliceId = (await createUser(ts, admin, 'alice', ['member'])).id;
  const cli = cliFor(ts);
  const member = cliFor(ts);
  await cli.login('admin', adminPassword);
  await member.login('alice', userPassword);
  return {
    ts,
    admin,
    aliceId,
    cli,
    member,
    async close() {
      cli.cleanup();
      member.cleanup();
      await ts.close();
    },
  };
}

/** util-linux `script` gives the CLI a pseudo-terminal, as a person at a keyboard would. */
export const haveScript = spawnSync('script', ['--version']).status === 0;

/** A reply typed once the terminal's output so far matches `when` (computed from it, when a function). */
export interface TerminalAnswer {
  readonly when: RegExp;
  readonly send: string | ((output: string) => string);
}

/** Runs the CLI on a pseudo-terminal with `configDir` as its config directory, typing each answer once its prompt appears. */
export function onTerminal(
  configDir: string,
  args: readonly string[],
  answers: readonly TerminalAnswer[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const quoted = [...cliCommand, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', TERM: 'xterm', TESSERA_CONFIG_DIR: configDir, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const pending = [...answers];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const next = pending[0];
    if (next && next.when.test(output)) {
      pending.shift();
      child.stdin.write(typeof next.send === 'string' ? next.send : next.send(output));
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, output });
    }),
  );
}
