import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { adminPassword, startTestServer, type TestServer } from '../../../packages/server/test/support/server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const exampleReadme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rootReadme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The sh block that follows the walk-through marker comment in a README. */
function walkthroughBlock(readme: string, name: string): string {
  const after = readme.split('<!-- walk-through:')[1];
  assert.ok(after, `${name} has the walk-through marker`);
  const block = /```sh\n([\s\S]*?)```/.exec(after)?.[1];
  assert.ok(block, `${name}'s walk-through is a sh block`);
  return block;
}

interface Step {
  readonly command: string;
  /** `# → ` lines after the command: each must match a line of its output. */
  readonly expected: string[];
}

/** Commands (continuation lines joined) with the outputs the README shows for them. */
function parseSteps(block: string): Step[] {
  const steps: { command: string; expected: string[] }[] = [];
  let pending = '';
  for (const line of block.split('\n')) {
    if (pending) {
      pending += `\n${line}`;
      if (!line.endsWith('\\')) steps.push({ command: pending, expected: [] }), (pending = '');
    } else if (line.startsWith('# → ')) {
      const last = steps.at(-1);
      assert.ok(last, line);
      last.expected.push(line.slice(4));
    } else if (line.trim() === '' || /^\s*#/.test(line)) {
      continue;
    } else if (line.endsWith('\\')) {
      pending = line;
    } else {
      steps.push({ command: line, expected: [] });
    }
  }
  return steps;
}

/** `…` stands for any value in the README's shown output. */
const linePattern = (expected: string) => new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/…/g, '.*?')}$`);

/**
 * One bash process for the whole walk-through, as one terminal session: variables, functions
 * and background jobs carry from line to line. Each command is followed by a marker carrying
 * its exit status.
 */
class Shell {
  readonly #child: ChildProcessWithoutNullStreams;
  #stdout = '';
  #stderr = '';
  #waiter: (() => void) | undefined;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    // Its own process group, so the example API it starts in the background ends with it.
    this.#child = spawn('bash', ['--noprofile', '--norc'], { cwd, env, detached: true });
    this.#child.stdout.on('data', (chunk: Buffer) => {
      this.#stdout += chunk.toString('utf8');
      this.#waiter?.();
    });
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
    this.#child.stdin.write('set -o pipefail\n');
  }

  async run(command: string, timeoutMs = 30_000): Promise<{ status: number; output: string; stderr: string }> {
    const marker = `__walkthrough_${Math.random().toString(36).slice(2)}__`;
    this.#stdout = '';
    this.#stderr = '';
    this.#child.stdin.write(`${command}\nprintf '\\n${marker} %s\\n' "$?"\n`);
    const done = new RegExp(`\\n${marker} (\\d+)\\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = done.exec(this.#stdout);
      if (match) {
        const output = this.#stdout.slice(0, match.index).replace(/\r/g, '');
        return { status: Number(match[1]), output, stderr: this.#stderr };
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${command}\nstdout: ${this.#stdout}\nstderr: ${this.#stderr}`);
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.pid === undefined) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    try {
      process.kill(-this.#child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await exited;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the protected-api walk-through (examples/protected-api/README.md and the root README)", { timeout: 120_000 }, () => {
  let ts: TestServer;
  let shell: Shell;
  let port: number;

  before(async () => {
    ts = await startTestServer();
    port = await freePort();
    shell = new Shell(root, { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_OPTIONS: '' });
  });
  after(async () => {
    await shell?.close();
    await ts?.close();
  });

  it('is the same block in both READMEs', () => {
    assert.equal(walkthroughBlock(rootReadme, 'README.md'), walkthroughBlock(exampleReadme, 'examples/protected-api/README.md'));
  });

  it('runs as written: login, app, example API, token, exchange, 200, 403, revoke, 401 within 2 seconds', async () => {
    // The README's addresses and password, pointed at this test's servers.
    const localise = (command: string) =>
      command
        .replaceAll('http://127.0.0.1:8080', ts.url)
        .replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)
        .replaceAll('PORT=3000', `PORT=${port}`)
        .replaceAll('<admin password>', adminPassword);
    const steps = parseSteps(walkthroughBlock(exampleReadme, 'examples/protected-api/README.md'));
    assert.ok(steps.some((step) => step.command.includes('/oauth/token')), 'the walk-through exchanges the API token');
    let revokedAt: number | undefined;

    for (const step of steps) {
      if (/^sleep \d/.test(step.command)) {
        // The README waits; the test measures: the refusal must arrive within 2 seconds of the revocation.
        assert.ok(revokedAt !== undefined, 'the sleep follows the revocation');
        const accessToken = (await shell.run('printf %s "$AT"')).output;
        assert.match(accessToken, /^eyJ/);
        let status = 0;
        while (Date.now() - revokedAt <= 2000) {
          status = (await fetch(`http://127.0.0.1:${port}/plans`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
          if (status === 401) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.equal(status, 401, 'the revoked token is refused within 2 seconds');
        console.log(`# refused ${Date.now() - revokedAt} ms after the revocation`);
        continue;
      }
      const result = await shell.run(localise(step.command));
      assert.equal(result.status, 0, `${step.command}\nexit ${result.status}\n${result.output}\n${result.stderr}`);
      const lines = result.output.split('\n');
      for (const expected of step.expected) {
        assert.ok(
          lines.some((line) => linePattern(expected).test(line)),
          `${step.command}\nshould print: ${expected}\nprinted:\n${result.output}\n${result.stderr}`,
        );
      }
      if (step.command.includes('/revoke')) revokedAt = Date.now();
    }
    assert.ok(revokedAt !== undefined, 'the walk-through revokes the token');

    // What the walk-through did, seen from Tessera: the token is revoked and the app may introspect.
    const session = await ts.login('admin', adminPassword);
    const tokens = await ts.request('GET', '/api/v1/tokens?status=revoked', { token: session });
    assert.equal(tokens.status, 200, tokens.text);
    assert.deepEqual(
      tokens.body.items.map((token: { name: string; scope: unknown }) => [token.name, token.scope]),
      [['plans-reader', { kind: 'custom', endpoints: ['GET /plans'] }]],
    );
    const apps = await ts.request('GET', '/api/v1/apps', { token: session });
    assert.deepEqual(
      apps.body.items.map((app: { name: string; can_introspect: boolean }) => [app.name, app.can_introspect]),
      [['plans-api', true]],
    );
  });
});
