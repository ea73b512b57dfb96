import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, it } from 'node:test';
import { adminPassword, startTestServer, type TestServer } from '../../server/test/support/server.js';

const run = promisify(execFile);
let ts: TestServer;
before(async () => {
  ts = await startTestServer();
});
after(async () => ts.close());

it("the README's rotation example runs as written against a real server", async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'README has a ts example');
  assert.ok(example.split('\n').filter(Boolean).length <= 10, 'the example fits in ten lines');
  const session = await ts.login('admin', adminPassword);
  const created = await ts.request('POST', '/api/v1/tokens', { token: session, body: { name: 'readme-rotated', scope: { kind: 'all' } } });
  assert.equal(created.status, 201);
  // The example's one undefined name, the caller's secret store: it prints the new secret's id
  // part and whether it differs from the old secret, never the secret itself.
  const script = `${example}\nasync function storeSecret(secret: string) { console.log(secret.split('.')[0], secret !== process.env.OLD_SECRET); }\n`;
  const file = new URL('../.readme-example.ts', import.meta.url);
  await writeFile(file, script);
  try {
    const { stdout } = await run(process.execPath, ['--conditions=development', '--import', 'tsx', file.pathname], {
      env: { ...process.env, TESSERA_URL: ts.url, TESSERA_SESSION: session, TOKEN_ID: created.body.id, OLD_SECRET: created.body.token },
    });
    assert.equal(stdout.trim(), `tsr_${created.body.id} true`);
  } finally {
    await rm(file, { force: true });
  }
  // The grace hour the example asked for: the old secret still exchanges.
  assert.equal((await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: created.body.token })).status, 200);
});
