import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createVerifier, type RequestLike, type Verifier } from '@tessera/verify';
import pg from 'pg';
import { createPostgresDatabase, databaseTargets } from '../support/databases.js';
import { assertProblem, basic, createApp, createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Instances behind one name, as in production: they share TESSERA_ISSUER. */
const issuer = 'http://tessera.test';
const onPostgres = databaseTargets.some((target) => target.name === 'postgres');

const call = (token: string): RequestLike => ({
  method: 'GET',
  url: '/plans',
  header: (name) => (name === 'authorization' ? `Bearer ${token}` : undefined),
  remoteAddress: '127.0.0.1',
});

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await condition()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

/**
 * SPEC 5.4 and 8: several server instances on one PostgreSQL. A revocation made through one
 * instance reaches an SDK that follows another instance's feed within seconds; the SDK fails
 * closed when its feed source dies and recovers when it returns.
 */
describe('three instances on one PostgreSQL', { skip: onPostgres ? false : 'needs TESSERA_TEST_DATABASE_URL', timeout: 60_000 }, () => {
  let database: { url: string; drop(): Promise<void> };
  const instances: TestServer[] = [];
  let feedApp: { clientId: string; clientSecret: string };
  let worker: { id: string; clientId: string; clientSecret: string };
  let verifier: Verifier;
  let admin: string;

  before(async () => {
    database = await createPostgresDatabase();
    // Started together: migrations and the first-start bootstrap must tolerate each other.
    instances.push(...(await Promise.all([0, 1, 2].map(() => startTestServer({ config: { databaseUrl: database.url, issuer } })))));
    const [a, , c] = instances as [TestServer, TestServer, TestServer];
    admin = await loginAdmin(a);
    feedApp = await createApp(a, admin, { name: 'api-server', can_introspect: true });
    worker = await createApp(a, admin, { name: 'worker', roles: ['member'] });
    verifier = createVerifier({
      issuer,
      audience: 'api',
      jwksUri: `${c.url}/.well-known/jwks.json`,
      revocations: { url: `${c.url}/oauth/revocations`, clientId: feedApp.clientId, clientSecret: feedApp.clientSecret, maxStalenessSeconds: 2, reconnectDelayMs: 100 },
    });
    await verifier.ready();
  });
  after(async () => {
    verifier.close();
    for (const instance of instances) await instance.close().catch(() => {});
    await database.drop();
  });

  const mintOn = async (instance: TestServer, client = worker) => {
    const response = await instance.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(client.clientId, client.clientSecret) });
    assert.equal(response.status, 200, response.text);
    return response.body.access_token as string;
  };

  it('shares one signing key set: a token minted on A verifies against C', async () => {
    const [a, b, c] = instances as [TestServer, TestServer, TestServer];
    const kids = await Promise.all([a, b, c].map(async (i) => JSON.stringify((await i.request('GET', '/.well-known/jwks.json')).body)));
    assert.equal(new Set(kids).size, 1, 'every instance publishes the same keys');
    const token = await mintOn(a);
    assert.ok((await verifier.verify(call(token))).ok);
  });

  it('a revocation through A reaches an SDK following C within 2 seconds', async () => {
    const [a, , c] = instances as [TestServer, TestServer, TestServer];
    const token = await mintOn(c);
    assert.ok((await verifier.verify(call(token))).ok);
    const started = Date.now();
    assert.equal((await a.form('/oauth/revoke', { token })).status, 200);
    const elapsed = await until(async () => {
      const verdict = await verifier.verify(call(token));
      return !verdict.ok && verdict.status === 401;
    }, 2000);
    console.log(`# access-token revocation through A refused via C's feed after ${Date.now() - started} ms (poll ${elapsed} ms)`);
    const verdict = await verifier.verify(call(token));
    assert.ok(!verdict.ok && verdict.status === 401 && verdict.error === 'invalid_token');
  });

  it('deleting an app through B drops its tokens at the SDK within 2 seconds', async () => {
    const [, b, c] = instances as [TestServer, TestServer, TestServer];
    const doomed = await createApp(b, await loginAdmin(b), { name: 'doomed' });
    const token = await mintOn(c, doomed);
    assert.ok((await verifier.verify(call(token))).ok);
    const started = Date.now();
    assert.equal((await b.request('DELETE', `/api/v1/apps/${doomed.id}`, { token: await loginAdmin(b) })).status, 204);
    await until(async () => {
      const verdict = await verifier.verify(call(token));
      return !verdict.ok && verdict.status === 401;
    }, 2000);
    console.log(`# app deletion through B refused via C's feed after ${Date.now() - started} ms`);
  });

  it('holds a limit of 5 when 50 creates for one user race across the three instances', async () => {
    const [a, b, c] = instances as [TestServer, TestServer, TestServer];
    const policy = await a.request('PUT', '/api/v1/policy', { token: admin, body: { max_tokens_per_user: 5 } });
    assert.equal(policy.status, 200, policy.text);
    const racer = await createUser(a, admin, 'limit-racer');
    // One session per instance: each instance checks its own caller, the database holds the one limit.
    const sessions = [racer.token, await b.login('limit-racer', userPassword), await c.login('limit-racer', userPassword)];
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ([a, b, c][i % 3] as TestServer).request('POST', '/api/v1/tokens', { token: sessions[i % 3] as string, body: { name: `race-${i}`, scope: { kind: 'all' } } }),
      ),
    );
    const created = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status !== 201);
    console.log(`# 50 creates across 3 instances: ${created.length} created, ${refused.length} refused in ${Date.now() - started} ms`);
    assert.equal(created.length, 5, 'exactly the limit is created');
    assert.equal(refused.length, 45);
    for (const response of refused) {
      assertProblem(response, 409, 'TOKEN_LIMIT_REACHED');
      assert.match(response.body.detail, /limit-racer already has 5 active tokens, the limit of 5 for users/);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM api_tokens WHERE owner_id = $1 AND revoked_at IS NULL', [racer.id]);
      assert.equal(Number(rows[0]?.n), 5, 'the store holds exactly 5 live tokens');
    } finally {
      await client.end();
    }
  });

  it('answers a same-name race 201 once and 409 naming the field otherwise, for every named resource', async () => {
    const [a, b, c] = instances as [TestServer, TestServer, TestServer];
    const sessions = [admin, await loginAdmin(b), await loginAdmin(c)];
    const racer = await createUser(a, admin, 'name-racer');
    const racerSessions = [racer.token, await b.login('name-racer', userPassword), await c.login('name-racer', userPassword)];
    const races: { what: string; path: string; body: unknown; field: string; as?: string[] }[] = [
      { what: 'users', path: '/api/v1/users', body: { username: 'twin', password: userPassword, roles: ['member'] }, field: '/username' },
      { what: 'service accounts', path: '/api/v1/service-accounts', body: { username: 'twin-bot' }, field: '/username' },
      { what: 'groups', path: '/api/v1/groups', body: { name: 'twins' }, field: '/name' },
      { what: 'roles', path: '/api/v1/roles', body: { name: 'twin-role', rights: ['tokens.own'] }, field: '/name' },
      { what: 'apps', path: '/api/v1/apps', body: { name: 'twin-app' }, field: '/name' },
      { what: 'orgs', path: '/api/v1/orgs', body: { name: 'twin-org', owner: { username: 'twin-owner', password: userPassword } }, field: '/name' },
      { what: 'presets', path: '/api/v1/presets', body: { name: 'twin-preset', endpoints: ['/plans'], mode: 'refreshable' }, field: '/name' },
      { what: 'tokens', path: '/api/v1/tokens', body: { name: 'twin-token', scope: { kind: 'all' } }, field: '/name', as: racerSessions },
    ];
    for (const race of races) {
      // Two requests per instance, all at once: each passes the name check before any inserts.
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => ([a, b, c][i % 3] as TestServer).request('POST', race.path, { token: (race.as ?? sessions)[i % 3] as string, body: race.body })),
      );
      const statuses = responses.map((response) => response.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], `${race.what}: ${responses.map((r) => r.text).join('\n')}`);
      for (const response of responses.filter((r) => r.status === 409)) assertProblem(response, 409, 'CONFLICT', race.field);
    }
  });

  const kidsOf = async (instance: TestServer) => ((await instance.request('GET', '/.well-known/jwks.json')).body.keys as { kid: string }[]).map((key) => key.kid);
  const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString('utf8')) as { kid: string }).kid;

  it('an organization allowlist set through A is enforced by B at once', async () => {
    const [a, b] = instances as [TestServer, TestServer, TestServer];
    const holder = await createUser(a, admin, 'allowlisted');
    const api = await a.request('POST', '/api/v1/tokens', { token: holder.token, body: { name: 'from-b', scope: { kind: 'all' } } });
    assert.equal(api.status, 201, api.text);
    const refreshOnB = () => b.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: api.body.token as string });
    assert.equal((await refreshOnB()).status, 200, 'usable from 127.0.0.1 before');
    try {
      const started = Date.now();
      assert.equal((await a.request('PUT', '/api/v1/policy', { token: admin, body: { ip_allowlist: ['10.0.0.0/8'] } })).status, 200);
      const refused = await refreshOnB();
      const elapsed = Date.now() - started;
      console.log(`# organization allowlist set through A refused on B after ${elapsed} ms (first request)`);
      assert.equal(refused.status, 400, refused.text);
      assert.equal(refused.body.error, 'invalid_grant');
    } finally {
      assert.equal((await a.request('PUT', '/api/v1/policy', { token: admin, body: { ip_allowlist: [] } })).status, 200);
    }
  });

  it('a revoke that has answered through A is refused by B at once: introspection and the token endpoint, 60 trials each', async () => {
    const [a, b] = instances as [TestServer, TestServer, TestServer];
    const introspectOnB = async (token: string) =>
      (await b.form('/oauth/introspect', { token }, { authorization: basic(feedApp.clientId, feedApp.clientSecret) })).body.active as boolean;
    const holder = await createUser(a, admin, 'revoke-everywhere');
    const stillActive = { oauthRevoke: 0, restRevoke: 0, exchange: 0 };
    /** After a revoke answered: B's first answer (ms), and when B still said active, how long until it did not. */
    const firstAnswerMs: number[] = [];
    const lateMs: number[] = [];
    const refusedOnB = async (check: () => Promise<boolean>, answered: number): Promise<boolean> => {
      const refused = await check();
      firstAnswerMs.push(Date.now() - answered);
      if (!refused) {
        await until(check, 2000);
        lateMs.push(Date.now() - answered);
      }
      return refused;
    };
    const trials = 60;
    for (let trial = 0; trial < trials; trial++) {
      // RFC 7009 through A, of an access token B has just answered active (and so holds in its cache).
      const token = await mintOn(a);
      assert.equal(await introspectOnB(token), true);
      assert.equal((await a.form('/oauth/revoke', { token })).status, 200);
      if (!(await refusedOnB(async () => !(await introspectOnB(token)), Date.now()))) stillActive.oauthRevoke++;

      // The REST revoke through A of the API token an access token came from, both known to B.
      const api = await a.request('POST', '/api/v1/tokens', { token: holder.token, body: { name: `everywhere-${trial}`, scope: { kind: 'all' } } });
      assert.equal(api.status, 201, api.text);
      const exchanged = await b.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: api.body.token as string });
      assert.equal(exchanged.status, 200, exchanged.text);
      assert.equal(await introspectOnB(exchanged.body.access_token as string), true);
      assert.equal((await a.request('POST', `/api/v1/tokens/${api.body.id as string}/revoke`, { token: holder.token, body: {} })).status, 200);
      const answered = Date.now();
      if (!(await refusedOnB(async () => !(await introspectOnB(exchanged.body.access_token as string)), answered))) stillActive.restRevoke++;

      // The REST revoke through A of an API token B has just exchanged: B's token endpoint refuses it.
      const second = await a.request('POST', '/api/v1/tokens', { token: holder.token, body: { name: `exchanged-${trial}`, scope: { kind: 'all' } } });
      assert.equal(second.status, 201, second.text);
      const exchange = async () => (await b.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: second.body.token as string })).status;
      assert.equal(await exchange(), 200);
      assert.equal((await a.request('POST', `/api/v1/tokens/${second.body.id as string}/revoke`, { token: holder.token, body: {} })).status, 200);
      if (!(await refusedOnB(async () => (await exchange()) === 400, Date.now()))) stillActive.exchange++;
    }
    const sorted = [...firstAnswerMs].sort((x, y) => x - y);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `# revoke answered on A, then B: ${JSON.stringify(stillActive)} still active of ${trials} each; B's first answer p50 ${p(0.5)} ms, p99 ${p(0.99)} ms` +
        (lateMs.length ? `; late refusals after ${lateMs.join(', ')} ms` : ''),
    );
    assert.deepEqual(stillActive, { oauthRevoke: 0, restRevoke: 0, exchange: 0 });
  });

  it('fails closed when the feed source dies and recovers when it returns, without restart', async () => {
    const c = instances[2] as TestServer;
    const token = await mintOn(c);
    assert.ok((await verifier.verify(call(token))).ok);
    const port = Number(new URL(c.url).port);
    await c.server.close();
    await until(async () => {
      const verdict = await verifier.verify(call(token));
      return !verdict.ok && verdict.status === 503;
    }, 5000);
    // A revocation made while the follower was cut off is delivered after it reconnects.
    const revokedWhileDown = await mintOn(instances[0] as TestServer);
    const down = await verifier.verify(call(revokedWhileDown));
    assert.ok(!down.ok && down.status === 503, 'still failing closed');
    assert.equal((await (instances[0] as TestServer).form('/oauth/revoke', { token: revokedWhileDown })).status, 200);
    instances[2] = await startTestServer({ config: { databaseUrl: database.url, port, issuer } });
    await until(async () => (await verifier.verify(call(token))).ok, 5000);
    const verdict = await verifier.verify(call(revokedWhileDown));
    assert.ok(!verdict.ok && verdict.status === 401, 'the revocation made while cut off arrived after the reconnect');
  });

  // Last: the SDK above caches the key set (30 s cooldown on unknown kids), so rotations come after its tests.
  it('a signing key rotated through A is published and used by B and C at once, not at their next refresh (60 s)', async () => {
    const [a, b, c] = instances as [TestServer, TestServer, TestServer];
    const started = Date.now();
    await a.server.container.keyring.rotate();
    const kid = a.server.container.keyring.active().kid;
    const elapsed = await until(async () => (await kidsOf(b)).includes(kid) && (await kidsOf(c)).includes(kid), 1000);
    console.log(`# key rotated through A published by B and C after ${Date.now() - started} ms (poll ${elapsed} ms)`);
    assert.equal(b.server.container.keyring.active().kid, kid, 'B signs with the new key');
    const minted = await mintOn(b);
    assert.equal(kidOf(minted), kid);
    const introspected = await c.form('/oauth/introspect', { token: minted }, { authorization: basic(feedApp.clientId, feedApp.clientSecret) });
    assert.equal(introspected.body.active, true, 'C verifies it');
  });

  it('after its listening connection drops, an instance reconnects and reloads what it may have missed', async () => {
    const [a, b] = instances as [TestServer, TestServer, TestServer];
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let started: number;
    let kid: string;
    try {
      const { rows } = await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tessera-changes'",
      );
      assert.equal(rows.length, 3, 'one listening connection per instance');
      // Rotated while nobody listens: the notification is lost; the reload after reconnecting is what brings B the key.
      started = Date.now();
      await a.server.container.keyring.rotate();
      kid = a.server.container.keyring.active().kid;
    } finally {
      await client.end();
    }
    await until(async () => (await kidsOf(b)).includes(kid), 5000);
    console.log(`# key rotated while the listeners were cut off reached B after ${Date.now() - started} ms (reconnect and reload)`);
    assert.equal(b.server.container.keyring.active().kid, kid);
  });
});
