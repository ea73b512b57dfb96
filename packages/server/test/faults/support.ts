import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServe, stopServe, type ServeProcess } from '../support/serve.js';

export const adminPassword = 'fault suite admin password';
export const userPassword = 'fault suite user password';
/** One name for every instance, as behind a load balancer. */
export const issuer = 'http://tessera.faults.test';
export const secretKey = randomBytes(32).toString('base64');

/** A `tessera serve` process, as an operator runs it. */
export type Instance = ServeProcess;

/** Starts `tessera serve` with `env` over the fault suite's defaults and waits for its banner. */
export function startInstance(env: Record<string, string>): Promise<Instance> {
  return startServe({
    TESSERA_ISSUER: issuer,
    TESSERA_ADMIN_PASSWORD: adminPassword,
    // The load comes from one address; the per-address limit is not what is under test.
    TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000',
    TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '1000000',
    ...env,
  });
}

export const stopInstance = stopServe;

/**
 * Three instances on one database, as behind a load balancer: the first starts alone (it runs
 * the migrations), the other two together.
 */
export async function startFleet(env: Record<string, string>): Promise<Instance[]> {
  const first = await startInstance(env);
  return [first, ...(await Promise.all([1, 2].map(() => startInstance(env))))];
}

/** Kills every instance (SIGKILL: nothing gets to shut down cleanly), then the cluster they ran on, if given. */
export async function stopFleet(instances: readonly Instance[], cluster?: { destroy(): void }): Promise<void> {
  for (const instance of instances) await stopInstance(instance, 'SIGKILL');
  cluster?.destroy();
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
  readonly requestId: string;
}

let requestSeq = 0;
/** A request id of its own for every request, so the audit log can be matched to what the client saw. */
export const nextRequestId = (): string => `fault-${process.pid}-${++requestSeq}`;

/** One HTTP exchange; a connection failure rejects (with `cause.code` ECONNREFUSED, ECONNRESET...). */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; form?: Record<string, string>; authorization?: string; requestId?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const requestId = options.requestId ?? nextRequestId();
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.authorization) headers['authorization'] = options.authorization;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers, requestId };
}

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Whether an answer is the fail-closed outage answer: 503 with Retry-After, a problem or temporarily_unavailable. */
export function isOutageAnswer(answer: Answer): boolean {
  if (answer.status !== 503 || !answer.headers.get('retry-after')) return false;
  return answer.body['error'] === 'temporarily_unavailable' || answer.body['code'] === 'UNAVAILABLE';
}

/** What the load needs: an organization's admin, users with sessions, an introspecting app. */
export interface World {
  readonly admin: string;
  readonly users: { id: string; username: string; session: string }[];
  readonly introspector: { clientId: string; clientSecret: string };
  readonly limit: number;
}

export async function prepareWorld(base: string, options: { users?: number; limit?: number } = {}): Promise<World> {
  const login = await call(base, 'POST', '/api/v1/sessions', { json: { username: 'admin', password: adminPassword } });
  assert.equal(login.status, 201, JSON.stringify(login.body));
  const admin = login.body['session_token'] as string;
  const limit = options.limit ?? 500;
  const policy = await call(base, 'PUT', '/api/v1/policy', { token: admin, json: { max_tokens_per_user: limit, refresh_token_rotation: true } });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const app = await call(base, 'POST', '/api/v1/apps', { token: admin, json: { name: `introspector-${randomBytes(3).toString('hex')}`, can_introspect: true } });
  assert.equal(app.status, 201, JSON.stringify(app.body));
  const users: World['users'] = [];
  for (let i = 0; i < (options.users ?? 3); i++) {
    const username = `load-${randomBytes(4).toString('hex')}`;
    const created = await call(base, 'POST', '/api/v1/users', { token: admin, json: { username, password: userPassword, roles: ['member'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const session = await call(base, 'POST', '/api/v1/sessions', { json: { username, password: userPassword } });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    users.push({ id: created.body['id'] as string, username, session: session.body['session_token'] as string });
  }
  return { admin, users, introspector: { clientId: app.body['client_id'] as string, clientSecret: app.body['client_secret'] as string }, limit };
}

/** What the client was told was done: the invariant checker holds the database to every one. */
export interface Acknowledged {
  readonly creates: { id: string; requestId: string }[];
  /** `via`: the instance that answered, so a hard kill forgives only its own last flush interval. */
  readonly exchanges: { tokenId: string; requestId: string; at: number; via: string }[];
  readonly revokes: string[];
}

export interface LoadCounts {
  requests: number;
  ok: number;
  /** Expected refusals (the token limit, an unusable token). */
  refused: number;
  /** 503 with Retry-After: the fail-closed answer. */
  unavailable: number;
  /** Connection refused or reset: the instance was not there. */
  connectionErrors: number;
  /** Anything else (500, 503 without Retry-After, a timeout): always a failure. */
  other: number;
  otherSamples: string[];
  /** Slowest answer of each kind, in ms: an outage must be answered within a bound, not hang. */
  slowestOkMs: number;
  slowestUnavailableMs: number;
}

interface RefreshHolder {
  readonly tokenId: string;
  secret: string;
  busy: boolean;
  /** A grant whose answer was lost may or may not have rotated the secret: the holder is retired. */
  retired: boolean;
}

/**
 * A bounded mixed load (creates, refresh grants with rotation, introspections), spread over
 * `targets()` round robin. `retry` resends once, to the next target, after a connection error
 * or a 503 (the client of the rolling-restart scenario); without it, every answer counts.
 */
export function startLoad(world: World, targets: () => string[], options: { concurrency?: number; retry?: boolean; revokeEvery?: number } = {}) {
  const counts: LoadCounts = { requests: 0, ok: 0, refused: 0, unavailable: 0, connectionErrors: 0, other: 0, otherSamples: [], slowestOkMs: 0, slowestUnavailableMs: 0 };
  const acknowledged: Acknowledged = { creates: [], exchanges: [], revokes: [] };
  const holders: RefreshHolder[] = [];
  const accessTokens: string[] = [];
  let stopped = false;
  let turn = 0;
  let n = 0;

  const pick = () => {
    const list = targets();
    return list[turn++ % Math.max(1, list.length)];
  };

  async function send(path: string, method: string, options: Parameters<typeof call>[3]): Promise<(Answer & { ms: number; via: string }) | 'connection'> {
    const attempts = options_.retry ? 2 : 1;
    const requestId = nextRequestId();
    for (let attempt = 1; ; attempt++) {
      const base = pick();
      counts.requests++;
      try {
        if (base === undefined) throw Object.assign(new Error('no target'), { cause: { code: 'ECONNREFUSED' } });
        // The same request id on a retry: a write that did happen the first time must be audited once.
        const started = Date.now();
        const answer = await call(base, method, path, { ...options, requestId });
        if (answer.status === 503 && attempt < attempts) continue;
        return { ...answer, ms: Date.now() - started, via: base };
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        const isConnection = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
        if (isConnection && attempt < attempts) continue;
        if (isConnection) return 'connection';
        counts.other++;
        if (counts.otherSamples.length < 10) counts.otherSamples.push(`${method} ${path}: ${String(error)}`);
        return 'connection';
      }
    }
  }
  const options_ = options;

  function classify<A extends Answer & { ms: number }>(answer: A | 'connection', expected: number[], refusals: number[] = []): A | undefined {
    if (answer === 'connection') {
      counts.connectionErrors++;
      return undefined;
    }
    if (expected.includes(answer.status)) {
      counts.ok++;
      counts.slowestOkMs = Math.max(counts.slowestOkMs, answer.ms);
      return answer;
    }
    if (refusals.includes(answer.status)) counts.refused++;
    else if (isOutageAnswer(answer)) {
      counts.unavailable++;
      counts.slowestUnavailableMs = Math.max(counts.slowestUnavailableMs, answer.ms);
    }
    else {
      counts.other++;
      if (counts.otherSamples.length < 10) counts.otherSamples.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
    return undefined;
  }

  async function create(): Promise<void> {
    const user = world.users[n++ % world.users.length] as World['users'][number];
    const answer = classify(
      await send('/api/v1/tokens', 'POST', { token: user.session, json: { name: `load-${randomBytes(5).toString('hex')}`, scope: { kind: 'all' } } }),
      [201],
      [409],
    );
    if (!answer) return;
    const id = answer.body['id'] as string;
    acknowledged.creates.push({ id, requestId: answer.requestId });
    if (holders.length < 200) holders.push({ tokenId: id, secret: answer.body['token'] as string, busy: false, retired: false });
    else if (options_.revokeEvery && n % options_.revokeEvery === 0) {
      const revoked = classify(await send(`/api/v1/tokens/${id}/revoke`, 'POST', { token: user.session }), [200, 204]);
      if (revoked) acknowledged.revokes.push(id);
    }
  }

  async function refresh(): Promise<void> {
    const free = holders.filter((holder) => !holder.busy && !holder.retired);
    const holder = free[Math.floor(Math.random() * free.length)];
    if (!holder) return create();
    holder.busy = true;
    try {
      const raw = await send('/oauth/token', 'POST', { form: { grant_type: 'refresh_token', refresh_token: holder.secret } });
      const answer = classify(raw, [200], [400]);
      if (answer) {
        acknowledged.exchanges.push({ tokenId: holder.tokenId, requestId: answer.requestId, at: Date.now(), via: answer.via });
        if (typeof answer.body['refresh_token'] === 'string') holder.secret = answer.body['refresh_token'];
        if (accessTokens.length < 500) accessTokens.push(answer.body['access_token'] as string);
        else accessTokens[Math.floor(Math.random() * accessTokens.length)] = answer.body['access_token'] as string;
      } else {
        // Refused, or unanswered (the rotation may have committed): this secret's fate is unknown.
        holder.retired = true;
      }
    } finally {
      holder.busy = false;
    }
  }

  async function introspect(): Promise<void> {
    const token = accessTokens[Math.floor(Math.random() * accessTokens.length)];
    if (!token) return refresh();
    const answer = classify(
      await send('/oauth/introspect', 'POST', { form: { token }, authorization: basic(world.introspector.clientId, world.introspector.clientSecret) }),
      [200],
    );
    if (answer && typeof answer.body['active'] !== 'boolean') {
      counts.other++;
      counts.otherSamples.push(`introspection without active: ${JSON.stringify(answer.body)}`);
    }
  }

  async function worker(): Promise<void> {
    while (!stopped) {
      const roll = Math.random();
      await (roll < 0.3 ? create() : roll < 0.65 ? refresh() : introspect());
    }
  }
  const workers = Array.from({ length: options.concurrency ?? 8 }, () => worker());
  return {
    counts,
    acknowledged,
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

export type Load = ReturnType<typeof startLoad>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds; returns how long it took. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

export const isReady = async (base: string) => (await call(base, 'GET', '/readyz', { timeoutMs: 2000 })).status === 200;
