import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc, { type Arbitrary } from 'fast-check';
import { defaultPolicy } from '../../src/core/policy.js';
import { databaseTargets } from '../support/databases.js';
import type { Operation } from '../support/openapi-conformance.js';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';
import { invalid, valid, type Pool, type Schema } from './arbitraries.js';

/**
 * Property-based fuzzing from /openapi.json (issue 12 item 5). For every documented operation,
 * requests are generated from its schemas — valid and invalid bodies, query strings, path ids
 * and headers — and sent as an organization owner, as a member and with no credentials, on
 * PGlite and (with TESSERA_TEST_DATABASE_URL) on PostgreSQL. Every answer is checked:
 *
 * - no 5xx;
 * - the status, media type and body are those the document gives (test/support/openapi-conformance.ts);
 * - a refused mutation (4xx to anything but GET) leaves the organization as it was: a snapshot
 *   of it through the API before and after must be equal;
 * - no stack trace, internal path or secret in any body or in any log line the server writes.
 *
 * A fixed seed runs always, plus one random seed (TESSERA_FUZZ_SEED to replay one); both are
 * printed with the counts, and every failure names its seed and input.
 *
 * Bounded: examples go round by round, one per operation, identity and seed in each round, so
 * every operation is covered in the first round; later rounds (up to TESSERA_FUZZ_RUNS, default
 * 6) start only while the database's time budget lasts (TESSERA_FUZZ_SECONDS, default 60).
 */

const fixedSeed = 20_261_203;
const randomSeed = Number(process.env['TESSERA_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const rounds = Number(process.env['TESSERA_FUZZ_RUNS'] ?? 6);
const budgetMs = Number(process.env['TESSERA_FUZZ_SECONDS'] ?? 60) * 1000;
const memberPassword = 'member password 1234';
const ownerPassword = 'owner password 12345';

type Identity = 'owner' | 'member' | 'anonymous';
const identities: readonly Identity[] = ['owner', 'member', 'anonymous'];

interface Request {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

interface Counts {
  operations: number;
  examples: number;
  checks: number;
  snapshots: number;
  statuses: Record<string, number>;
}

/** Internal detail that must never reach a client or a log line. */
const leakPatterns: readonly [string, RegExp][] = [
  ['a stack frame', /\bat [^\s"]+ \(|\\n\s+at |\n\s+at /],
  ['an internal path', /\/work\/|node_modules|file:\/\/|\/src\/(?:core|http|storage)\//],
];

/**
 * encodeURIComponent, except that an unpaired surrogate (which it refuses) is sent as the bytes
 * a careless encoder would write (WTF-8), so the server meets it too.
 */
function encode(value: string): string {
  let out = '';
  for (const char of value) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

function encodeQuery(values: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    for (const item of [value].flat()) parts.push(`${encode(name)}=${encode(typeof item === 'string' ? item : JSON.stringify(item))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function encodeForm(values: unknown): string {
  // A body the form schema refuses outright (null, an array, a number) goes as its text.
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return String(values);
  return Object.entries(values)
    .map(([name, value]) => `${encode(name)}=${encode(typeof value === 'string' ? value : JSON.stringify(value))}`)
    .join('&');
}

/** Path-id candidates: real ids, and ids an attacker tries. */
function pathIds(pool: Pool): Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...pool('id')), weight: 4 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), weight: 1 },
    { arbitrary: fc.constantFrom('..', '%2e%2e', '%00', '%ZZ', '%C0%AF', 'x'.repeat(101), 'a%20b', '%F0%9F%A6%84', '%ED%A0%80', encodeURIComponent('\u0000')), weight: 1 },
  );
}

/** Extra headers, valid or hostile (only what fetch can send: visible ASCII in values). */
const extraHeaders: Arbitrary<Record<string, string>> = fc.oneof(
  { arbitrary: fc.constant({}), weight: 3 },
  {
    arbitrary: fc.record(
      {
        'x-request-id': fc.constantFrom('req-1', 'x'.repeat(200), '../../etc'),
        accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'),
        'x-forwarded-for': fc.constantFrom('1.2.3.4', 'not an address', '::1, 10.0.0.1'),
        'last-event-id': fc.constantFrom('0', '-1', '99999999999999999999', 'abc'),
        'x-forwarded-uri': fc.constantFrom('/', '/a?b', '%ZZ'),
        'x-forwarded-method': fc.constantFrom('GET', 'BREW'),
      },
      { requiredKeys: [] },
    ),
    weight: 1,
  },
);

/** Raw bodies no schema describes: broken JSON, invalid UTF-8, other media types. */
const rawBodies: Arbitrary<{ body: string | Uint8Array; contentType: string | undefined }> = fc.constantFrom(
  { body: '{"a":', contentType: 'application/json' },
  { body: '[]', contentType: 'application/json' },
  { body: 'null', contentType: 'application/json' },
  { body: '"text"', contentType: 'application/json' },
  { body: new Uint8Array([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), contentType: 'application/json' },
  { body: '{"name":"x"}', contentType: 'application/json; charset=latin1' },
  { body: 'name=x', contentType: 'text/plain' },
  { body: 'a=%ZZ&b', contentType: 'application/x-www-form-urlencoded' },
  { body: 'token=%00', contentType: 'application/x-www-form-urlencoded' },
  { body: '{"__proto__":{"admin":true}}', contentType: 'application/json' },
  { body: '<xml/>', contentType: 'application/xml' },
  { body: '{}', contentType: undefined },
);

function requestArbitrary(method: string, template: string, operation: Operation, pool: Pool): Arbitrary<{ request: Omit<Request, 'headers'> & { headers: Record<string, string> }; valid: boolean }> {
  const queryParameters = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query');
  const querySchema: Schema = {
    type: 'object',
    properties: Object.fromEntries(queryParameters.map((parameter) => [parameter.name, (parameter.schema ?? {}) as Schema])),
    required: queryParameters.filter((parameter) => parameter.required).map((parameter) => parameter.name),
    additionalProperties: false,
  };
  const content = operation.requestBody?.content ?? {};
  const mediaType = Object.keys(content)[0];
  const bodySchema = (mediaType ? content[mediaType]?.schema : undefined) as Schema | undefined;
  const hasPath = template.includes('{');

  const build = (isValid: boolean) =>
    fc.record({
      id: hasPath ? pathIds(pool) : fc.constant(''),
      query: queryParameters.length === 0 ? fc.constant({}) : isValid ? valid(querySchema, pool) : fc.oneof(valid(querySchema, pool), invalid(querySchema, pool)),
      body: bodySchema === undefined ? fc.constant(undefined) : isValid ? valid(bodySchema, pool) : invalid(bodySchema, pool),
      raw: isValid || bodySchema === undefined ? fc.constant(undefined) : fc.option(rawBodies, { freq: 4 }),
      headers: isValid ? fc.constant({}) : extraHeaders,
    }).map(({ id, query, body, raw, headers }) => {
      const path = template.replace(/\{[^}]+\}/g, id) + encodeQuery((query ?? {}) as Record<string, unknown>);
      const out: Record<string, string> = { ...headers };
      let payload: string | Uint8Array | undefined;
      if (raw) {
        payload = raw.body;
        if (raw.contentType) out['content-type'] = raw.contentType;
      } else if (body !== undefined) {
        const form = mediaType === 'application/x-www-form-urlencoded';
        payload = form ? encodeForm(body) : JSON.stringify(body);
        out['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
      }
      return { request: { method, path, headers: out, ...(payload !== undefined && { body: payload }) }, valid: isValid };
    });
  return fc.oneof(build(true), build(false));
}

for (const target of databaseTargets) {
  describe(`fuzzing every operation of /openapi.json (${target.name})`, () => {
    let ts: TestServer;
    const sessions: Record<Identity, string | undefined> = { owner: undefined, member: undefined, anonymous: undefined };
    const secrets = new Set<string>([adminPassword, ownerPassword, memberPassword]);
    const poolValues: Record<string, string[]> = {};
    let orgName = 'fuzz';

    const pool: Pool = (name) => {
      if (name === undefined) return [];
      if (name === 'id' || name === 'actor' || name === 'target') return poolValues['id'] ?? [];
      return poolValues[name] ?? [];
    };
    const remember = (name: string, ...values: string[]) => {
      poolValues[name] = [...(poolValues[name] ?? []), ...values];
    };

    async function api(method: string, path: string, token: string | undefined, body?: unknown) {
      const response = await ts.request(method, path, { ...(token && { token }), ...(body !== undefined && { body }) });
      for (const secret of ts.knownSecrets) secrets.add(secret);
      return response;
    }

    async function login(identity: 'owner' | 'member'): Promise<void> {
      const credentials = { username: identity, password: identity === 'owner' ? ownerPassword : memberPassword, org: orgName };
      let response = await api('POST', '/api/v1/sessions', undefined, credentials);
      if (response.body?.code === 'SECOND_FACTOR_ENROLMENT_REQUIRED') {
        // A generated PUT /policy may have turned require_second_factor on (allowed for the
        // owner, and enforced as it should be); the harness turns it off behind the API to log in again.
        const store = ts.server.container.store;
        const orgId = (await store.orgs.getByName(orgName))?.id as string;
        const policy = await store.policies.get(orgId);
        await store.policies.put(orgId, { ...defaultPolicy, ...policy, requireSecondFactor: false }, new Date());
        response = await api('POST', '/api/v1/sessions', undefined, credentials);
      }
      assert.equal(response.status, 201, `re-login as ${identity}: ${response.text}`);
      sessions[identity] = response.body.session_token;
    }

    /** The organization as the owner sees it through the API, without usage counters. */
    async function snapshot(): Promise<string> {
      const reads = ['/api/v1/users?limit=200', '/api/v1/service-accounts?limit=200', '/api/v1/groups?limit=200', '/api/v1/roles', '/api/v1/apps?limit=200', '/api/v1/tokens?all=true&limit=200', '/api/v1/policy', '/api/v1/presets', '/api/v1/saved-searches'];
      const parts = await Promise.all(
        reads.map(async (path) => {
          let response = await api('GET', path, sessions.owner);
          if (response.status === 401) {
            await login('owner');
            response = await api('GET', path, sessions.owner);
          }
          assert.equal(response.status, 200, `snapshot ${path}: ${response.text}`);
          return JSON.stringify(response.body, (key, value) => (['last_used_at', 'last_used_ip', 'recent_ips', 'last_seen_at'].includes(key) ? undefined : value));
        }),
      );
      return parts.join('\n');
    }

    before(async () => {
      // Generated logins fail by the hundred from one address; the throttle (tested on its own) must not lock the harness out.
      ts = await startTestServer({ driver: target.name, env: { TESSERA_LOGIN_MAX_FAILURES: '1000' } });
      const admin = await ts.login('admin', adminPassword);
      orgName = 'fuzz';
      const org = await api('POST', '/api/v1/orgs', admin, { name: orgName, display_name: 'Fuzz', owner: { username: 'owner', password: ownerPassword } });
      assert.equal(org.status, 201, org.text);
      await login('owner');
      const owner = sessions.owner;
      const member = await api('POST', '/api/v1/users', owner, { username: 'member', password: memberPassword, roles: ['member'] });
      assert.equal(member.status, 201, member.text);
      await login('member');

      // Records for the generated requests to reach.
      const user = await api('POST', '/api/v1/users', owner, { username: 'target-user', password: 'target password 123', roles: ['member'] });
      const account = await api('POST', '/api/v1/service-accounts', owner, { username: 'robot', roles: ['member'] });
      const role = await api('POST', '/api/v1/roles', owner, { name: 'readers', rights: ['tokens.own'] });
      const group = await api('POST', '/api/v1/groups', owner, { name: 'team', members: [user.body.id], roles: ['member'] });
      const app = await api('POST', '/api/v1/apps', owner, { name: 'fuzz-app', can_introspect: true });
      const preset = await api('POST', '/api/v1/presets', owner, { name: 'reports', endpoints: ['/reports/*'], mode: 'direct' });
      const ownerToken = await api('POST', '/api/v1/tokens', owner, { name: 'owner-token', scope: { kind: 'all' } });
      const memberToken = await api('POST', '/api/v1/tokens', sessions.member, { name: 'member-token', scope: { kind: 'custom', endpoints: ['GET /x'] } });
      const search = await api('POST', '/api/v1/saved-searches', sessions.member, { name: 'mine', query: { status: 'active' } });
      for (const response of [user, account, role, group, app, preset, ownerToken, memberToken, search]) assert.ok(response.status === 201, response.text);

      // Identities are left out of the path ids, so the fuzzer does not lock itself out.
      remember('id', user.body.id, account.body.id, role.body.id, group.body.id, app.body.id, preset.body.id, ownerToken.body.id, memberToken.body.id, search.body.id, org.body.org.id, 'default');
      remember('owner', 'target-user', 'robot', user.body.id);
      remember('members', user.body.id, account.body.id);
      remember('roles', 'member', 'readers', 'auditor', 'admin');
      remember('kind', 'all', 'custom', 'reports');
      remember('token', ownerToken.body.token, memberToken.body.token, 'tsr_000000000000.invalid');
      remember('refresh_token', ownerToken.body.token, memberToken.body.token);
      remember('client_id', app.body.client_id);
      remember('client_secret', app.body.client_secret, 'wrong');
      remember('grant_type', 'refresh_token', 'client_credentials');
      remember('username', 'target-user', 'nobody');
      remember('org', orgName, 'default');
      for (const secret of ts.knownSecrets) secrets.add(secret);
    });

    after(async () => {
      await ts?.close();
    });

    it('answers every generated request as documented, with no 5xx, no leak and no change on refusal', async () => {
      const started = Date.now();
      const counts: Counts = { operations: 0, examples: 0, checks: 0, snapshots: 0, statuses: {} };
      const failures: string[] = [];
      const document = ts.conformance.document;

      async function send(request: Request): Promise<{ status: number; contentType: string | null; text: string }> {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 5000);
        try {
          const response = await fetch(ts.url + request.path, { method: request.method, headers: request.headers, ...(request.body !== undefined && { body: typeof request.body === "string" ? request.body : Buffer.from(request.body) }), signal: controller.signal, redirect: 'manual' });
          const contentType = response.headers.get('content-type');
          // The revocation feed never ends: its first bytes are enough.
          if (contentType?.startsWith('text/event-stream')) {
            const reader = response.body?.getReader();
            const first = await reader?.read();
            controller.abort();
            return { status: response.status, contentType, text: new TextDecoder().decode(first?.value ?? new Uint8Array()) };
          }
          return { status: response.status, contentType, text: await response.text() };
        } finally {
          clearTimeout(timer);
        }
      }

      // Each operation × identity × seed draws its examples once; rounds take them in turn.
      const plans: { template: string; method: string; identity: Identity; seed: number; samples: { request: Omit<Request, 'headers'> & { headers: Record<string, string> }; valid: boolean }[] }[] = [];
      for (const [template, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          counts.operations += 1;
          identities.forEach((identity, i) => {
            for (const seed of [fixedSeed, randomSeed]) {
              const samples = fc.sample(requestArbitrary(method.toUpperCase(), template, operation, pool), { seed: seed + counts.operations * 31 + i, numRuns: rounds });
              plans.push({ template, method, identity, seed, samples });
            }
          });
        }
      }

      // The organization as last seen; taken again only after something may have changed it.
      let known: string | undefined;
      let roundsRun = 0;
      for (let round = 0; round < rounds && (round === 0 || Date.now() - started < budgetMs); round += 1) {
        roundsRun += 1;
        for (const { template, method, identity, seed, samples } of plans) {
          const sample = samples[round];
          if (sample === undefined) continue;
          const { request, valid: isValid } = sample;
          const mutating = method !== 'get';
          counts.examples += 1;
          const headers = { ...request.headers };
          const session = sessions[identity];
          if (session && headers['authorization'] === undefined) headers['authorization'] = `Bearer ${session}`;
          if (mutating) known ??= await snapshot();
          const before = mutating ? known : undefined;
          const logMark = ts.logs.lines.length;
          let answer: { status: number; contentType: string | null; text: string };
          const where = () => `[seed ${seed}] as ${identity}, ${isValid ? 'valid' : 'invalid'} input: ${request.method} ${request.path} ${typeof request.body === 'string' ? request.body.slice(0, 300) : request.body === undefined ? '' : '<bytes>'}`;
          try {
            answer = await send({ ...request, headers });
          } catch (error) {
            failures.push(`${where()}\n  no answer: ${String(error)}`);
            known = undefined;
            continue;
          }
          const status = String(answer.status);
          counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;

          counts.checks += 1;
          if (answer.status >= 500) failures.push(`${where()}\n  answered ${answer.status}: ${answer.text.slice(0, 300)}`);

          counts.checks += 1;
          const drift = ts.conformance.problemsWith({ method: request.method, path: request.path, status: answer.status, contentType: answer.contentType, text: answer.text });
          if (drift.length > 0) failures.push(`${where()}\n  ${drift.join('\n  ')}`);

          // Stack traces, internal paths and secrets, in the body and in every new log line.
          await new Promise((resolve) => setImmediate(resolve));
          const logText = ts.logs.lines.slice(logMark).join('\n');
          for (const [what, pattern] of leakPatterns) {
            counts.checks += 2;
            if (pattern.test(answer.text)) failures.push(`${where()}\n  the body carries ${what}: ${answer.text.slice(0, 300)}`);
            if (pattern.test(logText)) failures.push(`${where()}\n  a log line carries ${what}: ${logText.slice(0, 300)}`);
          }
          counts.checks += 1;
          const issued = answer.status < 300;
          for (const secret of secrets) {
            if (secret.length < 8) continue;
            // A session or secret this very answer hands out is its business; a password never is.
            const isPassword = secret === adminPassword || secret === ownerPassword || secret === memberPassword;
            if ((isPassword || !issued) && answer.text.includes(secret)) failures.push(`${where()}\n  the body carries a secret`);
            if (logText.includes(secret)) failures.push(`${where()}\n  a log line carries a secret`);
          }

          if (before !== undefined && answer.status >= 400 && answer.status < 500) {
            counts.checks += 1;
            counts.snapshots += 1;
            known = await snapshot();
            if (known !== before) failures.push(`${where()}\n  refused with ${answer.status}, but the organization changed`);
          } else if (mutating) {
            known = undefined;
          }

          // Keep the identities logged in (the fuzzer may log itself out: DELETE /sessions/current).
          if (identity !== 'anonymous' && answer.status === 401 && template.startsWith('/api/v1/') && headers['authorization'] === `Bearer ${session}`) {
            const me = await api('GET', '/api/v1/me', session);
            if (me.status === 401) await login(identity);
          }
        }
      }

      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const summary =
        `fuzz (${target.name}): seeds ${fixedSeed} (fixed) and ${randomSeed} (random; replay with TESSERA_FUZZ_SEED=${randomSeed}); ` +
        `${counts.operations} operations, ${counts.examples} examples in ${roundsRun} round(s), ${counts.checks} checks, ${counts.snapshots} snapshots compared, in ${seconds} s; statuses ${JSON.stringify(counts.statuses)}`;
      console.log(summary);
      assert.ok(counts.operations >= 60 && counts.examples >= counts.operations * identities.length, summary);
      assert.equal(failures.length, 0, `${summary}\n${failures.length} failure(s):\n${failures.slice(0, 40).join('\n')}`);
      // The fuzzer reached past the front door: some requests succeeded, some were refused.
      assert.ok(Object.keys(counts.statuses).some((s) => s.startsWith('2')) && Object.keys(counts.statuses).some((s) => s.startsWith('4')), summary);
    });
  });
}
