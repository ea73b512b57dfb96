import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: () => string;
}

/** Runs `tessera serve` as a process, as `npm start` does, and waits for its banner. */
async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', main, 'serve'], {
    env: { ...process.env, TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function stop(served: Served): Promise<number | null> {
  return new Promise((resolve) => {
    served.child.once('exit', (code) => resolve(code));
    served.child.kill('SIGTERM');
  });
}

async function json(url: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('tessera serve on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on a bare machine, prints the generated admin password once, and keeps data across restarts', async () => {
    const first = await serve({ TESSERA_DATA_DIR: dataDir });
    assert.equal((await json(`${first.url}/healthz`)).status, 200);
    assert.equal((await json(`${first.url}/readyz`)).status, 200);
    const password = /Admin password \(shown only this once, keep it safe\): (\S+)/.exec(first.output())?.[1];
    assert.ok(password, first.output());
    const keyMode = statSync(join(dataDir, 'secret.key')).mode & 0o777;
    assert.equal(keyMode, 0o600, 'the generated secret key is readable by its owner only');

    const login = await json(`${first.url}/api/v1/sessions`, { method: 'POST', body: { username: 'admin', password } });
    assert.equal(login.status, 201);
    const token = login.body['session_token'] as string;
    const created = await json(`${first.url}/api/v1/users`, { method: 'POST', token, body: { username: 'persisted', password: 'persisted password' } });
    assert.equal(created.status, 201);
    assert.equal(await stop(first), 0, 'SIGTERM shuts down cleanly');

    const second = await serve({ TESSERA_DATA_DIR: dataDir });
    try {
      assert.doesNotMatch(second.output(), /Admin password/, 'the password is printed on the first start only');
      const again = await json(`${second.url}/api/v1/sessions`, { method: 'POST', body: { username: 'persisted', password: 'persisted password' } });
      assert.equal(again.status, 201, 'users survive a restart');
      const me = await json(`${second.url}/api/v1/me`, { token });
      assert.equal(me.status, 200, 'sessions survive a restart (the secret key is kept in the data directory)');
    } finally {
      await stop(second);
    }
  });

  it('refuses a bad configuration at boot, naming the variable', async () => {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', main, 'serve'], {
      env: { ...process.env, TESSERA_PORT: 'eighty' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /TESSERA_PORT: expected a whole number from 0 to 65535, got "eighty"/);
  });

  it('requires a secret key with PostgreSQL', async () => {
    const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', main, 'serve'], {
      env: { ...process.env, TESSERA_DATABASE_URL: 'postgres://127.0.0.1:1/none', TESSERA_SECRET_KEY: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /TESSERA_SECRET_KEY: required with TESSERA_DATABASE_URL/);
  });
});
