import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createUser, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { cliFor, type Cli, type RunningCli } from './harness.js';

/**
 * `tessera backup` against a running server on the embedded database, under load, then
 * `tessera restore` into a new directory and a server started there: every token that existed
 * when the backup began still exchanges, and none made meanwhile is half there.
 */
const adminPassword = 'a backup test admin password';
const postgresUrl = process.env['TESSERA_TEST_DATABASE_URL'];

async function startServe(cli: Cli, dataDir: string, env: Record<string, string> = {}): Promise<{ process: RunningCli; url: string }> {
  const serve = cli.start(['serve'], { env: { TESSERA_DATA_DIR: dataDir, TESSERA_PORT: '0', TESSERA_ADMIN_PASSWORD: adminPassword, TESSERA_LOG_LEVEL: 'warn', ...env } });
  await serve.waitFor(/Tessera is listening on http:\/\/\S+/, 120_000);
  const url = /Tessera is listening on (http:\/\/\S+)/.exec(serve.stdout())?.[1] as string;
  return { process: serve, url };
}

async function api(url: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const login = async (url: string) => (await api(url, 'POST', '/api/v1/sessions', undefined, { username: 'admin', password: adminPassword })).body.session_token as string;
const exchange = (url: string, token: string) =>
  fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));

describe('tessera backup and tessera restore (embedded database)', () => {
  let dir: string;
  let cli: Cli;
  const running: RunningCli[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-backup-'));
    cli = cliFor(undefined, 'tessera-backup-cli-');
  });
  after(async () => {
    for (const serve of running) await serve.stop();
    cli?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up under load, restores into a new directory, and every token exchanges there', async () => {
    const original = join(dir, 'original');
    const first = await startServe(cli, original);
    running.push(first.process);
    const session = await login(first.url);
    assert.equal((await api(first.url, 'PUT', '/api/v1/policy', session, { max_tokens_per_user: 1000 })).status, 200);
    const create = async (name: string) => {
      const created = await api(first.url, 'POST', '/api/v1/tokens', session, { name, scope: { kind: 'all' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body as { id: string; token: string };
    };
    const before: { id: string; token: string }[] = [];
    for (let index = 0; index < 15; index++) before.push(await create(`before-${index}`));

    // Load while the copy is taken: tokens created and exchanged, a revocation.
    const during: { id: string; token: string }[] = [];
    let loading = true;
    let loadErrors = 0;
    const load = (async () => {
      for (let index = 0; loading; index++) {
        const [created, exchanged] = await Promise.all([create(`during-${index}`), exchange(first.url, (before[index % before.length] as { token: string }).token)]);
        during.push(created);
        if (exchanged.status !== 200) loadErrors++;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const loggedIn = await cli.run(['login', '--url', first.url, '--user', 'admin'], { env: { TESSERA_PASSWORD: adminPassword } });
    assert.equal(loggedIn.code, 0, loggedIn.stderr);
    const file = join(dir, 'tessera.tar.gz');
    const backedUp = await cli.run(['backup', '--out', file, '--json', '--url', first.url]);
    loading = false;
    await load;
    assert.equal(backedUp.code, 0, backedUp.stderr);
    assert.equal(backedUp.json().file, file);
    assert.equal(backedUp.json().bytes, statSync(file).size);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the backup is readable by its owner only');
    assert.equal(loadErrors, 0, 'the server kept answering while it copied');
    assert.ok(during.length > 0, 'tokens were created while the backup ran');
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.partial')), []);
    const audit = await api(first.url, 'GET', '/api/v1/audit-events?action=instance.backup', session);
    assert.equal(audit.body.items[0]?.action, 'instance.backup');
    await first.process.stop();

    // Into a new directory, with the original key.
    const restoredDir = join(dir, 'restored');
    const restored = await cli.run(['restore', file, '--data-dir', restoredDir, '--secret-key-file', join(original, 'secret.key'), '--json']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(statSync(join(restoredDir, 'secret.key')).mode & 0o777, 0o600);
    const second = await startServe(cli, restoredDir);
    running.push(second.process);
    assert.doesNotMatch(second.process.stdout(), /First start/, 'the restored database has its admin');
    for (const token of before) {
      const exchanged = await exchange(second.url, token.token);
      assert.equal(exchanged.status, 200, `${token.id}: ${JSON.stringify(exchanged.body)}`);
    }
    // A token made while the copy ran is in it wholly, and works, or not at all.
    const restoredSession = await login(second.url);
    let inBackup = 0;
    for (const token of during) {
      const shown = await api(second.url, 'GET', `/api/v1/tokens/${token.id}`, restoredSession);
      const exchanged = await exchange(second.url, token.token);
      if (shown.status === 200) {
        inBackup++;
        assert.equal(exchanged.status, 200, `${token.id} is in the backup and exchanges`);
      } else {
        assert.equal(shown.status, 404);
        assert.equal(exchanged.body['error'], 'invalid_grant');
      }
    }
    console.log(`backup of ${backedUp.json().bytes} bytes; ${before.length} tokens before it, ${during.length} created while it ran, ${inBackup} of those in it`);
    await second.process.stop();
  });

  it('refuses to restore into a directory that holds a database, or without the secret key', async () => {
    const file = join(dir, 'tessera.tar.gz');
    const occupied = join(dir, 'restored');
    const again = await cli.run(['restore', file, '--data-dir', occupied]);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /already holds a database/);

    const keyless = await cli.run(['restore', file, '--data-dir', join(dir, 'keyless')]);
    assert.equal(keyless.code, 2);
    assert.match(keyless.stderr, /--secret-key-file/);
    assert.equal(existsSync(join(dir, 'keyless', 'pglite')), false);

    const garbage = join(dir, 'garbage.tar.gz');
    writeFileSync(garbage, 'not a backup');
    const broken = await cli.run(['restore', garbage, '--data-dir', join(dir, 'broken'), '--secret-key-file', join(dir, 'original', 'secret.key')]);
    assert.equal(broken.code, 2, broken.stderr);
    assert.match(broken.stderr, /not a Tessera backup/);
    assert.deepEqual(existsSync(join(dir, 'broken', 'pglite')) ? readdirSync(join(dir, 'broken', 'pglite')) : [], [], 'nothing half restored');
    assert.equal(existsSync(join(dir, 'broken', 'secret.key')), false);
  });

  it('does not overwrite an existing file', async () => {
    const existing = join(dir, 'existing.tar.gz');
    mkdirSync(dir, { recursive: true });
    writeFileSync(existing, 'keep me');
    const result = await cli.run(['backup', '--out', existing]);
    assert.equal(result.code, 2);
  });
});

describe('GET /api/v1/backup', () => {
  let ts: TestServer;
  let admin: string;
  before(async () => {
    ts = await startTestServer();
    admin = await loginAdmin(ts);
  });
  after(() => ts?.close());

  it('is for instance admins with an interactive login only, and audited when refused', async () => {
    const member = await createUser(ts, admin, 'backup-member', ['org-owner']);
    assertProblem(await ts.request('GET', '/api/v1/backup', { token: member.token }), 403, 'FORBIDDEN');
    assertProblem(await ts.request('GET', '/api/v1/backup'), 401);
    const token = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'backup-through-token', scope: { kind: 'all' } } });
    assertProblem(await ts.request('GET', '/api/v1/backup', { token: token.body.access_token }), 403, 'RESTRICTED_SESSION');
    const audit = await ts.request('GET', '/api/v1/audit-events?action=instance.backup', { token: admin });
    assert.ok(audit.body.items.some((event: { outcome: string }) => event.outcome === 'denied'));
  });

  it('answers an instance admin with the gzipped data directory', async () => {
    const response = await fetch(`${ts.url}/api/v1/backup`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/gzip');
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="tessera-backup-[\dT-]+\.tar\.gz"$/);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 2)], [0x1f, 0x8b], 'gzip magic');
  });

  it('on PostgreSQL answers 409 naming pg_dump', { skip: !postgresUrl && 'TESSERA_TEST_DATABASE_URL is not set' }, async () => {
    const pg = await startTestServer({ driver: 'postgres' });
    try {
      const response = await pg.request('GET', '/api/v1/backup', { token: await loginAdmin(pg) });
      assertProblem(response, 409, 'CONFLICT');
      assert.match(response.body.detail, /pg_dump/);
    } finally {
      await pg.close();
    }
  });
});
