import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase } from '../support/databases.js';
import { freePort, freeServerPort, instanceEnv, repoRoot, startInstance, stopAllInstances, waitFor200, type Instance } from './processes.js';

/**
 * docs/deploy.md as written: two instances on one PostgreSQL, started with the guide's
 * environment file, behind Debian's nginx running the guide's config (TLS on a self-signed
 * certificate). Only ports, certificate paths, the database URL, the secret key and the
 * issuer are replaced. The client connects from 127.0.0.3 while nginx reaches Tessera from
 * 127.0.0.1, so an address Tessera reports as the client's can only have come from
 * X-Forwarded-For.
 */
const nginxBinary = '/usr/sbin/nginx';
const postgresUrl = process.env['TESSERA_TEST_DATABASE_URL'];
const missing = !existsSync(nginxBinary) ? `${nginxBinary} is missing` : !postgresUrl ? 'TESSERA_TEST_DATABASE_URL is not set' : undefined;
if (missing && process.env['CI'] === 'true') throw new Error(`${missing} (required in CI; .ci/run installs nginx and PostgreSQL)`);

const guide = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
const clientAddress = '127.0.0.3';
const adminPassword = 'a deploy guide admin password';

function block(language: string, mustContain: string): string {
  const found = [...guide.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1] as string).find((text) => text.includes(mustContain));
  assert.ok(found, `docs/deploy.md has a \`\`\`${language} block with ${mustContain}`);
  return found;
}

/** The guide's environment file, as variables. */
function guideEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of block('ini', 'TESSERA_DATABASE_URL=').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1] as string] = match[2] as string;
  }
  return env;
}

interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
  json: any;
}

describe('docs/deploy.md: two instances behind nginx', { skip: missing }, () => {
  let dir: string;
  let ca: string;
  let base: string;
  let plainPort: number;
  let nginx: ChildProcess;
  let drop: (() => Promise<void>) | undefined;
  const ports: number[] = [];
  const instances: Instance[] = [];
  const byPort = new Map<number, Instance>();
  let env: Record<string, string>;
  let session: string;

  /** One HTTPS request to nginx, from the client address. */
  const call = (method: string, path: string, options: { headers?: Record<string, string>; body?: string | object } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      const headers: Record<string, string> = { ...(typeof options.body === 'object' && { 'content-type': 'application/json' }), ...options.headers };
      const req = request(`${base}${path}`, { method, ca, localAddress: clientAddress, headers, agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  const authed = (token: string) => ({ authorization: `Bearer ${token}` });
  const exchange = (apiToken: string, headers: Record<string, string> = {}) =>
    call('POST', '/oauth/token', { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiToken }).toString() });

  const startTessera = async (port: number) => {
    const instance = await startInstance(process.execPath, [join(repoRoot, 'packages/server/bin/tessera.js'), 'serve'], {
      cwd: dir,
      env: instanceEnv({ ...env, TESSERA_PORT: String(port), TESSERA_ADMIN_PASSWORD: adminPassword }),
      timeoutMs: 120_000,
    });
    instances.push(instance);
    byPort.set(port, instance);
    return instance;
  };

  before(async () => {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--if-stale'], { cwd: repoRoot, stdio: 'inherit' });
    assert.equal(built.status, 0);
    dir = mkdtempSync(join(tmpdir(), 'tessera-deploy-nginx-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=tessera.test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'privkey.pem'), '-out', join(dir, 'fullchain.pem')], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'fullchain.pem'), 'utf8');

    const [http, https, first, second] = [await freePort(), await freePort(), await freeServerPort(), await freeServerPort()] as [number, number, number, number];
    ports.push(first, second);
    plainPort = http;
    base = `https://127.0.0.1:${https}`;
    const database = await createPostgresDatabase();
    drop = database.drop;
    const documented = guideEnvironment();
    for (const name of ['TESSERA_DATABASE_URL', 'TESSERA_SECRET_KEY', 'TESSERA_ISSUER', 'TESSERA_TRUSTED_PROXIES', 'TESSERA_HOST']) assert.ok(name in documented, `the environment file sets ${name}`);
    env = { ...documented, TESSERA_DATABASE_URL: database.url, TESSERA_SECRET_KEY: Buffer.alloc(32, 5).toString('base64'), TESSERA_ISSUER: base, TESSERA_LOG_LEVEL: 'warn' };
    await Promise.all([startTessera(first), startTessera(second)]);

    let config = block('nginx', 'upstream tessera');
    for (const text of ['listen 80;', 'listen 443 ssl;', '127.0.0.1:8081', '127.0.0.1:8082', '/etc/ssl/tessera/fullchain.pem', '/etc/ssl/tessera/privkey.pem']) {
      assert.ok(config.includes(text), `the guide's nginx config has ${text}`);
    }
    config = config
      .replace('listen 80;', `listen 127.0.0.1:${http};`)
      .replace('listen 443 ssl;', `listen 127.0.0.1:${https} ssl;`)
      .replace('127.0.0.1:8081', `127.0.0.1:${first}`)
      .replace('127.0.0.1:8082', `127.0.0.1:${second}`)
      .replace('/etc/ssl/tessera/fullchain.pem', join(dir, 'fullchain.pem'))
      .replace('/etc/ssl/tessera/privkey.pem', join(dir, 'privkey.pem'));
    mkdirSync(join(dir, 'logs'));
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${join(dir, name)};`).join('\n  ');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'logs/error.log')} warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  ${temp}\n${config}\n}\n`,
    );
    nginx = spawn(nginxBinary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const started = Date.now();
    for (;;) {
      try {
        if ((await call('GET', '/healthz')).status === 200) break;
      } catch {
        // not listening yet
      }
      if (nginx.exitCode !== null || Date.now() - started > 10_000) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const login = await call('POST', '/api/v1/sessions', { body: { username: 'admin', password: adminPassword } });
    assert.equal(login.status, 201, login.text);
    session = login.json.session_token;
  });
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await Promise.all(instances.map((instance) => instance.stop()));
    await stopAllInstances();
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('redirects plain HTTP to HTTPS and answers health, readiness and metadata with the configured issuer', async () => {
    const redirect = await fetch(`http://127.0.0.1:${plainPort}/console/`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.match(redirect.headers.get('location') ?? '', /^https:\/\/127\.0\.0\.1\/console\/$/);
    for (const path of ['/healthz', '/readyz']) assert.equal((await call('GET', path)).status, 200, path);
    const metadata = await call('GET', '/.well-known/oauth-authorization-server');
    assert.equal(metadata.status, 200, metadata.text);
    assert.equal(metadata.json.issuer, base);
    assert.equal(metadata.json.token_endpoint, `${base}/oauth/token`);
    const page = await call('GET', '/console/');
    assert.equal(page.status, 200);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    assert.ok(script, page.text);
    const asset = await call('GET', script, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['content-encoding'], 'br', 'nginx passes the precompressed script through');
    assert.match(String(asset.headers['vary']), /accept-encoding/i);
  });

  it('takes the client address from X-Forwarded-For: an IP allowlist allows and refuses through the proxy', async () => {
    const create = async (name: string, allowlist: string[]) => {
      const created = await call('POST', '/api/v1/tokens', { headers: authed(session), body: { name, scope: { kind: 'all' }, ip_allowlist: allowlist } });
      assert.equal(created.status, 201, created.text);
      return created.json as { id: string; token: string };
    };
    const client = await create('from-the-client', [clientAddress]);
    const proxy = await create('from-the-proxy', ['127.0.0.1']);

    const allowed = await exchange(client.token);
    assert.equal(allowed.status, 200, allowed.text);
    assert.match(allowed.json.access_token, /^ey/);
    // nginx's own address is the socket peer Tessera sees: a token allowed only there is refused.
    const refused = await exchange(proxy.token);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error, 'invalid_grant');
    // A client naming an address in its own X-Forwarded-For gains nothing: nginx appends the
    // real one and Tessera takes the right-most untrusted hop.
    assert.equal((await exchange(proxy.token, { 'x-forwarded-for': '127.0.0.1' })).status, 400);
    assert.equal((await exchange(client.token, { 'x-forwarded-for': '198.51.100.7' })).status, 200);

    const deadline = Date.now() + 5_000;
    let shown: string | null = null;
    while (Date.now() < deadline) {
      shown = (await call('GET', `/api/v1/tokens/${client.id}`, { headers: authed(session) })).json.last_used_ip;
      if (shown) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(shown, clientAddress, 'the token records the client address, not the proxy');
  });

  it('delivers revocations made on either instance through the SSE feed behind nginx, unbuffered', async () => {
    const app = await call('POST', '/api/v1/apps', { headers: authed(session), body: { name: 'feed-follower', can_introspect: true } });
    assert.equal(app.status, 201, app.text);
    const credentials = Buffer.from(`${encodeURIComponent(app.json.client_id)}:${encodeURIComponent(app.json.client_secret)}`).toString('base64');

    let buffer = '';
    const feed = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${base}/oauth/revocations`, { ca, localAddress: clientAddress, agent: false, headers: { authorization: `Basic ${credentials}`, accept: 'text/event-stream' } }, resolve)
        .on('error', reject)
        .end();
    });
    try {
      assert.equal(feed.statusCode, 200);
      assert.match(String(feed.headers['content-type']), /text\/event-stream/);
      feed.setEncoding('utf8');
      feed.on('data', (chunk: string) => (buffer += chunk));
      feed.on('error', () => undefined);
      const waitFor = async (pattern: RegExp, what: string) => {
        const deadline = Date.now() + 5_000;
        while (!pattern.test(buffer)) {
          if (Date.now() > deadline) throw new Error(`no ${what} through nginx within 5 s; the feed so far:\n${buffer}`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      };
      await waitFor(/event: synced/, 'synced event');
      const pings = buffer.split(': ping').length;
      await waitFor(new RegExp(`(: ping[\\s\\S]*){${pings}}`), 'heartbeat (a buffering proxy would hold it back)');

      // One revocation through nginx, and one on each instance directly: whichever instance
      // holds the stream, the others' revocations reach it through PostgreSQL.
      const revokeThrough = async (origin: string | undefined, name: string) => {
        const target = origin ?? base;
        const viaProxy = origin === undefined;
        const create = viaProxy
          ? await call('POST', '/api/v1/tokens', { headers: authed(session), body: { name, scope: { kind: 'all' } } })
          : await fetch(`${target}/api/v1/tokens`, { method: 'POST', headers: { ...authed(session), 'content-type': 'application/json' }, body: JSON.stringify({ name, scope: { kind: 'all' } }) }).then(async (r) => ({ status: r.status, json: await r.json(), text: '' }));
        assert.equal(create.status, 201, create.text);
        const { id, token } = create.json as { id: string; token: string };
        const revoked = viaProxy
          ? await call('POST', `/api/v1/tokens/${id}/revoke`, { headers: authed(session) })
          : await fetch(`${target}/api/v1/tokens/${id}/revoke`, { method: 'POST', headers: authed(session) }).then((r) => ({ status: r.status, text: '' }));
        assert.equal(revoked.status, 200, revoked.text);
        await waitFor(new RegExp(`event: revocation\\ndata: \\{"kind":"token","id":"${id}"`), `revocation of ${id}`);
        const after = await exchange(token);
        assert.equal(after.status, 400);
        assert.equal(after.json.error, 'invalid_grant');
      };
      await revokeThrough(undefined, 'revoked-through-nginx');
      for (const instance of byPort.values()) await revokeThrough(instance.url, `revoked-on-${new URL(instance.url).port}`);
    } finally {
      feed.destroy();
    }
  });

  it('keeps answering through a rolling restart done as the guide says', async () => {
    // The guide waits twice nginx's fail_timeout after each instance is ready again.
    const failTimeout = Number(/fail_timeout=(\d+)s/.exec(block('nginx', 'upstream tessera'))?.[1]);
    assert.ok(failTimeout > 0 && guide.includes(`sleep ${2 * failTimeout}   # twice fail_timeout`), 'the restart loop waits twice fail_timeout');
    for (const port of ports) {
      // A token per restart and a round every 200 ms stay inside the per-token rate limit.
      const created = await call('POST', '/api/v1/tokens', { headers: authed(session), body: { name: `rolling-${port}`, scope: { kind: 'all' } } });
      assert.equal(created.status, 201, created.text);
      const instance = byPort.get(port) as Instance;
      let failures = 0;
      const seen: string[] = [];
      let done = false;
      // Requests keep arriving while the instance stops and starts again.
      const traffic = (async () => {
        let count = 0;
        while (!done) {
          const [ready, exchanged] = await Promise.all([call('GET', '/readyz'), exchange(created.json.token)]);
          if (ready.status !== 200 || exchanged.status !== 200) {
            failures++;
            seen.push(`${ready.status} ${exchanged.status} ${exchanged.text.slice(0, 200)}`);
          }
          count++;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return count;
      })();
      let count: number;
      try {
        await instance.stop();
        const restarted = await startTessera(port);
        await waitFor200(`${restarted.url}/readyz`, 30_000);
        await new Promise((resolve) => setTimeout(resolve, 2 * failTimeout * 1000));
      } finally {
        done = true;
        count = await traffic;
      }
      assert.ok(count > 0);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${(byPort.get(ports.find((other) => other !== port) as number) as Instance).child.pid}/status`, 'utf8'))?.[1];
      console.log(`${count} rounds while the instance on ${port} restarted; the other instance's resident memory: ${Math.round(Number(rss) / 1024)} MB`);
      assert.equal(failures, 0, `${failures} of ${count} rounds failed while the instance on ${port} restarted:\n${seen.join('\n')}\n${readFileSync(join(dir, 'logs/error.log'), 'utf8').split('\n').filter((line) => /\[(error|warn)\]/.test(line)).slice(-12).join('\n')}\n${instances.map((i) => `${i.url} exit=${i.child.exitCode ?? i.child.signalCode}:\n${i.output().slice(-1500)}`).join('\n')}`);
    }
  });
});
