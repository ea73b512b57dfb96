import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

/** A `tessera serve` process, as an operator (or `npm start`) runs it. */
export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  readonly output: () => string;
  readonly alive: () => boolean;
}

/** Starts `tessera serve` on a free port with `env` over the test's own, and waits for its banner. */
export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', main, 'serve'], {
    env: { ...process.env, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  let alive = true;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tessera serve did not start:\n${output}`)), 90_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, url, exited, output: () => output, alive: () => alive };
}

/** Signals the process (SIGTERM: a clean shutdown) and resolves with how it ended. */
export async function stopServe(served: ServeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (served.alive()) served.child.kill(signal);
  return served.exited;
}
