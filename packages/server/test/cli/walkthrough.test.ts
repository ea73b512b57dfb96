import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { cliCommand, occurrences } from './harness.js';

const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

/** The shell lines of the README's CLI walk-through, in order. */
function walkthrough(): string[] {
  const section = readme.split('\n### Walk-through\n')[1];
  assert.ok(section, 'the README has a CLI walk-through');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the walk-through is a sh block');
  return block.split('\n').filter((line) => line.trim() !== '');
}

describe('the README\'s CLI walk-through', () => {
  let ts: TestServer;
  let dir: string;

  before(async () => {
    ts = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'tessera-walkthrough-'));
    // `tessera` on the PATH, as the README's alias puts it there.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tessera'), `#!/bin/sh\nexec ${cliCommand.map((part) => `'${part}'`).join(' ')} "$@"\n`);
    chmodSync(join(bin, 'tessera'), 0o755);
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ts.close();
  });

  /** Runs one line in bash, without blocking this process: the server lives here. */
  function bash(line: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', line], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
  }

  it('runs as written: login, create with --expiry-date 180D, list, exchange with curl, revoke', async () => {
    const lines = walkthrough();
    const shell: Record<string, string> = {};
    const outputs: { line: string; stdout: string; stderr: string }[] = [];
    let expected: string | undefined;
    let created: { id: string; token: string } | undefined;

    for (const line of lines) {
      if (line.startsWith('# ')) {
        // A comment line shows what the command above it prints.
        expected = line.slice(2);
        const last = outputs.at(-1);
        assert.ok(last, line);
        const pattern = new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/Jx4kT9sQ2mWb/g, '[0-9A-Za-z]{12}').replace(/…/g, '[^"\\s]+')}$`);
        assert.match(last.stdout.trim(), pattern, `${last.line} prints what the README shows`);
        continue;
      }
      if (/^ID=\S+ TOKEN=\S+\s+# copy/.test(line)) {
        // The one step a person does by hand: copying the id and the token from the output.
        assert.ok(created, 'token create ran before');
        shell['ID'] = created.id;
        shell['TOKEN'] = created.token;
        continue;
      }
      const command = line.replace(/^export TESSERA_URL=http:\/\/127\.0\.0\.1:8080/, `export TESSERA_URL=${ts.url}`);
      // The shell's TESSERA_URL is carried to the next line, as one terminal session would.
      const urlFile = join(dir, 'url');
      const result = await bash(`${command}\nprintf '%s' "\${TESSERA_URL-}" > '${urlFile}'`, {
        PATH: `${join(dir, 'bin')}:${process.env['PATH']}`,
        HOME: dir,
        TESSERA_CONFIG_DIR: join(dir, 'config'),
        // What a person would type at the password prompt.
        TESSERA_PASSWORD: adminPassword,
        ...shell,
      });
      assert.equal(result.status, 0, `${line}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      const exported = readFileSync(urlFile, 'utf8');
      if (exported) shell['TESSERA_URL'] = exported;
      const stdout = result.stdout;
      outputs.push({ line, stdout, stderr: result.stderr });
      const made = /^ApiToken with id: (\S+) has been created, your token is: (\S+) please keep it safe$/m.exec(stdout);
      if (made) created = { id: made[1] as string, token: made[2] as string };
    }

    assert.ok(created, 'a token was created');
    const commands = outputs.map((o) => o.line.split(/\s+#/)[0]?.trim());
    assert.deepEqual(
      commands.map((c) => c?.split(' ').slice(0, 3).join(' ')),
      ['export TESSERA_URL=http://127.0.0.1:8080', 'tessera login --user', 'tessera token create', 'tessera token list', 'curl -s $TESSERA_URL/oauth/token', 'tessera token revoke', 'tessera logout'],
    );

    const list = outputs[3] as { stdout: string };
    assert.match(list.stdout, new RegExp(`^${created.id}\\s+ci\\s+admin\\s+all\\s+active\\s`, 'm'), 'the list shows the new token');
    const exchanged = JSON.parse((outputs[4] as { stdout: string }).stdout) as Record<string, unknown>;
    assert.equal(exchanged['token_type'], 'Bearer');
    assert.equal(typeof exchanged['access_token'], 'string');
    assert.match((outputs[5] as { stdout: string }).stdout, new RegExp(`^API token ${created.id} has been revoked\\.$`, 'm'));

    // The token was printed once, by token create, and went nowhere else.
    const secret = created.token.split('.')[1] as string;
    assert.equal(outputs.reduce((n, o) => n + occurrences(o.stdout, created.token), 0), 1);
    assert.ok(outputs.every((o) => !o.stderr.includes(secret)));
    assert.ok(!ts.logs.text.includes(secret));
    const config = join(dir, 'config');
    assert.deepEqual(readdirSync(config), [], 'logout removed the session file');
  });

  it('the 180-day token was really made, and revoking it stopped it', async () => {
    const admin = await ts.login('admin', adminPassword);
    const tokens = await ts.request('GET', '/api/v1/tokens?all=true', { token: admin });
    const ci = tokens.body.items.find((t: { name: string }) => t.name === 'ci');
    assert.equal(ci.status, 'revoked');
    assert.ok(Math.abs(Date.parse(ci.expires_at) - Date.parse(ci.created_at) - 180 * 86_400_000) < 1000, 'renewable until 180 days after creation');
  });
});
