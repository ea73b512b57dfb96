import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Debian's nginx in front of a small upstream, with the server block of docs/forward-auth.md
 * as written (only its three ports replaced), so the documented config is the tested one.
 */
const nginxBinary = '/usr/sbin/nginx';
const docPath = new URL('../../../../docs/forward-auth.md', import.meta.url);
const missing = !existsSync(nginxBinary);
if (missing && process.env['CI'] === 'true') throw new Error(`${nginxBinary} is missing; .ci/deps.d installs nginx in CI`);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

/** The ```nginx block of the doc, with its ports replaced. */
function documentedNginxServer(ports: { listen: number; upstream: number; tessera: number }): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(readFileSync(docPath, 'utf8'))?.[1];
  if (!block) throw new Error('docs/forward-auth.md has no ```nginx block');
  for (const address of ['127.0.0.1:8080', '127.0.0.1:3000', '127.0.0.1:4000']) assert.ok(block.includes(address), `the doc's nginx block names ${address}`);
  return block
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.listen}`)
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${ports.upstream}`)
    .replaceAll('127.0.0.1:4000', `127.0.0.1:${ports.tessera}`);
}

describe('nginx auth_request with docs/forward-auth.md', { skip: missing && 'nginx is not installed (required in CI)' }, () => {
  let ts: TestServer;
  let upstream: Server;
  let nginx: ChildProcess;
  let prefix: string;
  let base: string;
  let admin: string;
  const seen: Record<string, string | string[] | undefined>[] = [];

  before(async () => {
    ts = await startTestServer({ env: { TESSERA_TRUSTED_PROXIES: '127.0.0.1' } });
    admin = await loginAdmin(ts);
    upstream = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: request.url, subject: request.headers['x-tessera-subject'] ?? null }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const listen = await freePort();
    prefix = mkdtempSync(join(tmpdir(), 'tessera-nginx-'));
    mkdirSync(join(prefix, 'logs'));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${join(prefix, name)};`).join('\n  ');
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'logs/error.log')} warn;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n  ${temp}\n${documentedNginxServer({
        listen,
        upstream: (upstream.address() as AddressInfo).port,
        tessera: Number(new URL(ts.url).port),
      })}\n}\n`,
    );
    nginx = spawn(nginxBinary, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'logs/error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    base = `http://127.0.0.1:${listen}`;
    const started = Date.now();
    for (;;) {
      try {
        await fetch(`${base}/`);
        break;
      } catch {
        if (nginx.exitCode !== null || Date.now() - started > 10_000) throw new Error(`nginx did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    await ts?.close();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  const createToken = async (body: Record<string, unknown>) => {
    const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: `nginx-${seen.length}-${Math.random()}`, ...body } });
    assert.equal(created.status, 201, created.text);
    return created.body as { id: string; access_token: string };
  };

  it('passes an allowed request with the identity, and never a client-supplied X-Tessera-* header', async () => {
    const token = await createToken({ scope: { kind: 'custom', endpoints: ['/plans'] } });
    const response = await fetch(`${base}/plans/7?x=1`, { headers: { authorization: `Bearer ${token.access_token}`, 'x-tessera-roles': 'owner-by-my-own-word' } });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { path: string }).path, '/plans/7?x=1');
    const headers = seen.at(-1) ?? {};
    assert.equal(headers['x-tessera-token-id'], token.id);
    assert.equal(headers['x-tessera-roles'], 'org-owner');
    assert.match(String(headers['x-tessera-subject']), /./);

    const anonymous = await fetch(`${base}/plans`, { headers: { 'x-tessera-subject': 'usr_forged' } });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="api"');
  });

  it('refuses outside the scope with 403 and the insufficient_scope challenge, without reaching the upstream', async () => {
    const token = await createToken({ scope: { kind: 'custom', endpoints: ['GET /plans'] } });
    const before = seen.length;
    for (const [method, path] of [['DELETE', '/plans/7'], ['GET', '/admin'], ['GET', '/plans/../admin'], ['GET', '/plans/%2e%2e/admin']] as const) {
      const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token.access_token}` } });
      assert.equal(response.status, 403, `${method} ${path}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="api", error="insufficient_scope"/);
      assert.equal(((await response.json()) as { error: string }).error, 'insufficient_scope');
    }
    assert.equal(seen.length, before, 'no refused request reached the upstream');
  });

  it('refuses a client outside the token IP allowlist with 401 invalid_token', async () => {
    const outside = await createToken({ scope: { kind: 'all' }, ip_allowlist: ['203.0.113.0/24'] });
    const refused = await fetch(`${base}/plans`, { headers: { authorization: `Bearer ${outside.access_token}` } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const inside = await createToken({ scope: { kind: 'all' }, ip_allowlist: ['127.0.0.1'] });
    assert.equal((await fetch(`${base}/plans`, { headers: { authorization: `Bearer ${inside.access_token}` } })).status, 200);
  });

  it('stops a revoked API token within 2 seconds', async () => {
    const token = await createToken({ scope: { kind: 'all' } });
    const authorization = `Bearer ${token.access_token}`;
    assert.equal((await fetch(`${base}/plans`, { headers: { authorization } })).status, 200);
    const revoked = await ts.request('POST', `/api/v1/tokens/${token.id}/revoke`, { token: admin });
    assert.equal(revoked.status, 200, revoked.text);
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 2000) {
      status = (await fetch(`${base}/plans`, { headers: { authorization } })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 401, 'refused through nginx within 2 s');
  });
});
