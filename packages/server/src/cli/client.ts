/**
 * The typed client of Tessera's REST API (`/api/v1`), the only way CLI commands reach the
 * service. Bodies are the wire format (snake_case), as /openapi.json describes them. Failures
 * become an {@link ApiError} (the server answered with a problem) or a {@link ConnectionError}
 * (it did not answer).
 */

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Principal {
  id: string;
  kind: 'user' | 'service_account';
  username: string;
  display_name: string;
  email: string | null;
  status: 'active' | 'disabled';
  instance_admin: boolean;
  roles: string[];
  ip_allowlist: string[];
  created_at: string;
  updated_at: string;
  password_changed_at: string | null;
  org_id: string;
}

export interface PrincipalInput {
  display_name?: string;
  email?: string | null;
  password?: string;
  roles?: string[];
  ip_allowlist?: string[];
}

export interface CreatePrincipal extends PrincipalInput {
  username: string;
}

export interface UpdatePrincipal extends PrincipalInput {
  status?: 'active' | 'disabled';
}

export interface LoginResult {
  session_token: string;
  expires_at: string;
  principal: Principal;
  /** When this login completed a two-factor enrolment: shown once. */
  recovery_codes?: string[];
}

export interface Me {
  principal: Principal;
  rights: string[];
  effective_roles: string[];
  auth_method: 'pwd' | 'token' | 'client';
  token_id: string | null;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  rights: string[];
  builtin: boolean;
  created_at: string;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  members: string[];
  roles: string[];
  created_at: string;
}

export interface GroupInput {
  name?: string;
  description?: string;
  members?: string[];
  roles?: string[];
}

export interface Org {
  id: string;
  name: string;
  display_name: string;
  created_at: string;
}

export interface App {
  id: string;
  name: string;
  description: string;
  client_id: string;
  roles: string[];
  access_token_ttl_seconds: number | null;
  can_introspect: boolean;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  secret_rotated_at: string;
}

export interface AppWithSecret extends App {
  client_secret: string;
}

export interface AppInput {
  name?: string;
  description?: string;
  roles?: string[];
  access_token_ttl_seconds?: number | null;
  can_introspect?: boolean;
}

export type TokenStatus = 'active' | 'expired' | 'idle' | 'revoked';

export interface Token {
  id: string;
  name: string;
  display_prefix: string;
  owner_id: string;
  owner: string;
  created_by: string;
  mode: 'refreshable' | 'direct';
  scope: { kind: string; endpoints: string[] };
  roles: string[];
  ip_allowlist: string[];
  expires_at: string | null;
  status: TokenStatus;
  last_used_at: string | null;
  last_used_ip: string | null;
  /** The last 5 distinct client addresses, newest first. */
  recent_ips: { ip: string; last_seen_at: string }[];
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** A token with its secret: the answer to create and rotate, the only time the secret is sent. */
export interface TokenWithSecret extends Token {
  token: string;
  access_token?: string;
  expires_in?: number;
}

export interface TokenInput {
  name?: string;
  /** Relative (180D) or ISO 8601; null for no expiry where the policy allows. */
  expires?: string | null;
  scope?: { kind: string; endpoints?: string[] };
  ip_allowlist?: string[];
  roles?: string[];
}

export interface CreateToken extends TokenInput {
  owner?: string;
  scope: { kind: string; endpoints?: string[] };
}

export interface TokenListQuery {
  all?: boolean;
  owner?: string;
  status?: TokenStatus;
  kind?: string;
  q?: string;
  sort?: string;
  cursor?: string;
  limit?: number;
}

export interface Policy {
  access_token_ttl_seconds: number;
  renewable_period_seconds: number | null;
  max_token_lifetime_seconds: number | null;
  default_token_lifetime_seconds: number | null;
  password_expiry_seconds: number | null;
  idle_timeout_seconds: number | null;
  max_tokens_per_user: number;
  max_tokens_per_service_account: number;
  allow_no_expiry: boolean;
  allow_direct_tokens: boolean;
  refresh_token_rotation: boolean;
  ip_allowlist: string[];
}

export interface AuditEvent {
  id: string;
  occurred_at: string;
  action: string;
  outcome: string;
  actor_principal_id: string | null;
  actor_token_id: string | null;
  target_type: string | null;
  target_id: string | null;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  action?: string;
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}

export interface ListQuery {
  q?: string;
  cursor?: string;
  limit?: number;
}

/** An RFC 9457 problem the server answered with. */
export class ApiError extends Error {
  readonly status: number;
  /** Stable code, e.g. TOKEN_LIMIT_REACHED; HTTP_<status> when the body was not a problem. */
  readonly code: string;
  /** The server's sentence for people, shown as is. */
  readonly detail: string;
  /** The request field at fault, when the server named one. */
  readonly field: string | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, problem: { code?: unknown; detail?: unknown; field?: unknown; request_id?: unknown }) {
    const detail = typeof problem.detail === 'string' ? problem.detail : `The server answered HTTP ${status}`;
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = typeof problem.code === 'string' ? problem.code : `HTTP_${status}`;
    this.detail = detail;
    this.field = typeof problem.field === 'string' ? problem.field : undefined;
    this.requestId = typeof problem.request_id === 'string' ? problem.request_id : undefined;
  }
}

/** The server did not answer: refused connection, unknown host, timeout. */
export class ConnectionError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`Cannot reach the Tessera server at ${url}: ${reason}`);
    this.name = 'ConnectionError';
  }
}

export interface ClientOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8080 (no /api/v1). */
  readonly baseUrl: string;
  /** A session token from login, sent as `Authorization: Bearer`. */
  readonly sessionToken?: string | undefined;
  /** Milliseconds to wait for an answer's headers; default 30 s. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  readonly query?: Query | undefined;
  readonly body?: unknown;
}

/** CRUD over one REST collection, e.g. `/users`. */
export interface Collection<T, Create, Update> {
  list(query?: ListQuery): Promise<Page<T>>;
  get(id: string): Promise<T>;
  create(body: Create): Promise<T>;
  update(id: string, body: Update): Promise<T>;
  remove(id: string): Promise<void>;
}

/**
 * @example
 * ```ts
 * const client = new TesseraClient({ baseUrl: 'http://127.0.0.1:8080', sessionToken });
 * const { items } = await client.tokens.list({ all: true, status: 'active' });
 * ```
 */
export class TesseraClient {
  readonly baseUrl: string;
  readonly #sessionToken: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#sessionToken = options.sessionToken;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
    this.#userAgent = options.userAgent ?? 'tessera-cli';
  }

  /** POST /sessions: password login. */
  login(body: { username: string; password: string; org?: string; otp?: string }): Promise<LoginResult> {
    return this.#json('POST', '/sessions', { body });
  }

  /** POST /sessions/second-factor: starts a TOTP enrolment with the password, before a session exists. */
  beginSecondFactorAtLogin(body: { username: string; password: string; org?: string }): Promise<{ secret: string; otpauth_uri: string }> {
    return this.#json('POST', '/sessions/second-factor', { body });
  }

  /** POST /sessions/password-change: replaces a password with the current one and logs in. */
  changePasswordAtLogin(body: { username: string; password: string; new_password: string; org?: string; otp?: string }): Promise<LoginResult> {
    return this.#json('POST', '/sessions/password-change', { body });
  }

  /** DELETE /sessions/current: ends the session this client carries. */
  logout(): Promise<void> {
    return this.#json('DELETE', '/sessions/current');
  }

  me(): Promise<Me> {
    return this.#json('GET', '/me');
  }

  readonly users = this.#collection<Principal, CreatePrincipal & { password: string }, UpdatePrincipal>('/users');
  readonly serviceAccounts = this.#collection<Principal, Omit<CreatePrincipal, 'password'>, Omit<UpdatePrincipal, 'password'>>('/service-accounts');
  readonly groups = this.#collection<Group, GroupInput & { name: string }, GroupInput>('/groups');

  readonly roles = {
    list: (): Promise<{ items: Role[] }> => this.#json('GET', '/roles'),
    get: (id: string): Promise<Role> => this.#json('GET', `/roles/${segment(id)}`),
    create: (body: { name: string; description?: string; rights: string[] }): Promise<Role> => this.#json('POST', '/roles', { body }),
    update: (id: string, body: { description?: string; rights?: string[] }): Promise<Role> => this.#json('PATCH', `/roles/${segment(id)}`, { body }),
    remove: (id: string): Promise<void> => this.#json('DELETE', `/roles/${segment(id)}`),
  };

  readonly orgs = {
    list: (query: ListQuery = {}): Promise<Page<Org>> => this.#json('GET', '/orgs', { query: { ...query } }),
    get: (id: string): Promise<Org> => this.#json('GET', `/orgs/${segment(id)}`),
    create: (body: { name: string; display_name?: string; owner: { username: string; password: string } }): Promise<{ org: Org; owner: Principal }> =>
      this.#json('POST', '/orgs', { body }),
    update: (id: string, body: { display_name: string }): Promise<Org> => this.#json('PATCH', `/orgs/${segment(id)}`, { body }),
  };

  readonly apps = {
    ...this.#collection<App, AppInput & { name: string }, AppInput>('/apps'),
    create: (body: AppInput & { name: string }): Promise<AppWithSecret> => this.#json('POST', '/apps', { body }),
    /** The old secret stops working at once; the new one is in this answer only. */
    regenerateSecret: (id: string): Promise<AppWithSecret> => this.#json('POST', `/apps/${segment(id)}/secret`),
  };

  readonly tokens = {
    create: (body: CreateToken): Promise<TokenWithSecret> => this.#json('POST', '/tokens', { body }),
    list: (query: TokenListQuery = {}): Promise<Page<Token>> => this.#json('GET', '/tokens', { query: { ...query } }),
    get: (id: string): Promise<Token> => this.#json('GET', `/tokens/${segment(id)}`),
    update: (id: string, body: TokenInput): Promise<Token> => this.#json('PATCH', `/tokens/${segment(id)}`, { body }),
    rotate: (id: string, body: { grace?: string } = {}): Promise<TokenWithSecret> => this.#json('POST', `/tokens/${segment(id)}/rotate`, { body }),
    revoke: (id: string, body: { reason?: string } = {}): Promise<Token> => this.#json('POST', `/tokens/${segment(id)}/revoke`, { body }),
    /** The value travels in the body, never the URL. */
    identify: (token: string): Promise<Token> => this.#json('POST', '/tokens/identify', { body: { token } }),
    revokeByValue: (body: { token: string; reason?: string }): Promise<Token> => this.#json('POST', '/tokens/revoke-by-value', { body }),
    revokeAll: (body: { owner?: string; issued_before?: string; reason?: string }): Promise<{ revoked: number; issued_before: string }> =>
      this.#json('POST', '/tokens/revoke-all', { body }),
  };

  readonly policy = {
    get: (): Promise<Policy> => this.#json('GET', '/policy'),
    /** Fields left out keep their value. */
    set: (body: Partial<Policy>): Promise<Policy> => this.#json('PUT', '/policy', { body }),
  };

  readonly audit = {
    list: (query: AuditQuery = {}): Promise<Page<AuditEvent>> => this.#json('GET', '/audit-events', { query: { ...query } }),
    /**
     * GET /audit-events/export: JSON Lines, newest first. Resolves once the server has
     * accepted the request (a refusal is an ApiError); the lines then stream.
     */
    export: async (query: Omit<AuditQuery, 'cursor' | 'limit'> = {}): Promise<AsyncIterable<string>> => {
      // Only the start of the answer is timed: a long export may take longer than any timeout.
      const { signal, done } = this.#deadline();
      let response: Response;
      try {
        response = await this.#send('GET', '/audit-events/export', { query: { ...query } }, signal);
      } finally {
        done();
      }
      if (!response.body) return (async function* () {})();
      return lines(response.body, this.baseUrl);
    },
  };

  /**
   * The embedded database as a gzipped tar (`GET /backup`), streamed as it arrives. A copy of a
   * large database takes a while: ten minutes before giving up, not the usual timeout.
   */
  async backup(): Promise<{ body: ReadableStream<Uint8Array>; done: () => void }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(600_000)), 600_000);
    const response = await this.#send('GET', '/backup', {}, controller.signal).catch((error: unknown) => {
      clearTimeout(timer);
      throw error;
    });
    if (!response.body) throw new ConnectionError(this.baseUrl, 'the backup came without a body');
    return { body: response.body, done: () => clearTimeout(timer) };
  }

  #collection<T, Create, Update>(path: string): Collection<T, Create, Update> {
    return {
      list: (query = {}) => this.#json('GET', path, { query: { ...query } }),
      get: (id) => this.#json('GET', `${path}/${segment(id)}`),
      create: (body) => this.#json('POST', path, { body }),
      update: (id, body) => this.#json('PATCH', `${path}/${segment(id)}`, { body }),
      remove: (id) => this.#json('DELETE', `${path}/${segment(id)}`),
    };
  }

  async #json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { signal, done } = this.#deadline();
    try {
      const response = await this.#send(method, path, options, signal);
      const text = await readText(response, this.baseUrl);
      if (response.status === 204 || text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError(response.status, { detail: `The server at ${this.baseUrl} did not answer with JSON; is it a Tessera server?` });
      }
    } finally {
      done();
    }
  }

  /** An abort signal that fires after the timeout, and a function that disarms it. */
  #deadline(): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(this.#timeoutMs)), this.#timeoutMs);
    return { signal: controller.signal, done: () => clearTimeout(timer) };
  }

  /** Sends one request; any answer but 2xx becomes an ApiError. */
  async #send(method: string, path: string, options: RequestOptions, signal: AbortSignal): Promise<Response> {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': this.#userAgent };
    if (this.#sessionToken) headers['authorization'] = `Bearer ${this.#sessionToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, signal, ...(body !== undefined && { body }) });
    } catch (error) {
      throw new ConnectionError(this.baseUrl, reasonOf(error));
    }
    if (response.ok) return response;
    const text = await readText(response, this.baseUrl);
    let problem: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as Record<string, unknown>;
    } catch {
      // Not a problem document (a proxy's error page): the status alone is reported.
    }
    throw new ApiError(response.status, problem);
  }
}

async function readText(response: Response, baseUrl: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new ConnectionError(baseUrl, `the answer was cut off (${reasonOf(error)})`);
  }
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
    this.name = 'TimeoutError';
  }
}

/** A path segment: ids and names are sent as data, never as more path. */
function segment(value: string): string {
  return encodeURIComponent(value);
}

/** What went wrong with a fetch, briefly: "connect ECONNREFUSED 127.0.0.1:1", "no answer within 30 s". */
function reasonOf(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  if (error instanceof Error) {
    if (error.name === 'AbortError' && error.cause instanceof TimeoutError) return error.cause.message;
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
    if (cause && typeof cause.code === 'string') return cause.code;
    return error.message;
  }
  return String(error);
}

/** Splits a byte stream into lines (without their newline). */
async function* lines(body: ReadableStream<Uint8Array>, baseUrl: string): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new ConnectionError(baseUrl, `the export was cut off (${reasonOf(error)})`);
      }
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line !== '') yield line;
      }
    }
    buffered += decoder.decode();
    if (buffered !== '') yield buffered;
  } finally {
    reader.releaseLock();
  }
}
