import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import type { Clock } from '../../src/core/ports.js';
import { createPostgresDatabase, preparedPglite } from './databases.js';
import { OpenApiConformance, type OpenApiDocument } from './openapi-conformance.js';

export const adminPassword = 'correct horse battery staple';
export const testSecretKey = Buffer.alloc(32, 7);

/** Collects every log line the server writes, so tests can search them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

/** A controllable clock: starts at real time and moves only when told. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test bodies are inspected freely
  readonly body: any;
}

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly logs: LogCapture;
  /** Every response body the tests received, for secret searches. */
  readonly responses: string[];
  /** Session tokens, token secrets and passwords seen in this server's traffic. */
  readonly knownSecrets: ReadonlySet<string>;
  /** Holds every response of `request` to the server's /openapi.json (a drift throws). */
  readonly conformance: OpenApiConformance;
  request(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  login(username: string, password: string, org?: string): Promise<string>;
  /** POSTs form-encoded parameters (OAuth endpoints). */
  form(path: string, params: Record<string, string> | string, headers?: Record<string, string>): Promise<ApiResponse>;
  close(): Promise<void>;
}

/**
 * Starts the real server on an ephemeral loopback port, on in-memory PGlite by default or on a
 * fresh PostgreSQL database of its own.
 */
export async function startTestServer(
  options: { driver?: 'pglite' | 'postgres'; clock?: Clock; config?: Partial<Config>; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const logs = new LogCapture();
  const database = options.driver === 'postgres' ? await createPostgresDatabase() : undefined;
  const config = loadConfig(
    { TESSERA_LOG_LEVEL: 'info', ...options.env },
    {
      port: 0,
      adminPassword,
      secretKey: testSecretKey,
      databaseUrl: database?.url,
      ...options.config,
    },
  );
  const server = await startServer(config, {
    inMemory: true,
    logDestination: logs,
    ...(database === undefined && { pgliteDump: await preparedPglite() }),
    ...(options.clock && { clock: options.clock }),
  });
  const responses: string[] = [];
  const conformance = new OpenApiConformance(server.app.swagger() as unknown as OpenApiDocument);
  // Every secret this server handed out or was given; close() proves none reached a log line.
  const knownSecrets = new Set<string>([adminPassword]);

  async function request(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(server.url + path, { method, headers, ...(body !== undefined && { body }) });
    const text = await response.text();
    responses.push(text);
    for (const match of text.matchAll(/"(?:session_token|token|client_secret|secret|access_token|refresh_token)":"([^"]+)"/g)) {
      knownSecrets.add(match[1] as string);
    }
    if (body !== undefined) {
      for (const match of body.matchAll(/"(?:password|new_password|current_password)":"([^"]+)"/g)) knownSecrets.add(match[1] as string);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    // A response /openapi.json does not describe fails the test that received it.
    conformance.assertConforms({ method, path, status: response.status, contentType: response.headers.get('content-type'), text });
    return { status: response.status, headers: response.headers, text, body: parsed };
  }

  return {
    server,
    url: server.url,
    logs,
    responses,
    knownSecrets,
    conformance,
    request,
    form(path, params, headers = {}) {
      const rawBody = typeof params === 'string' ? params : new URLSearchParams(params).toString();
      for (const [name, value] of new URLSearchParams(rawBody)) if (/secret|token/.test(name)) knownSecrets.add(value);
      return request('POST', path, { rawBody, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    },
    async login(username, password, org) {
      const response = await request('POST', '/api/v1/sessions', { body: { username, password, ...(org && { org }) } });
      if (response.status !== 201) throw new Error(`login as ${username} failed: ${response.status} ${response.text}`);
      return response.body.session_token as string;
    },
    async close() {
      await server.close();
      // Issue 13: no test may lose a buffered audit event or last use.
      const { dropped } = server.container.usage.stats();
      if (dropped.auditEvents + dropped.lastUses > 0) throw new Error(`the usage recorder dropped ${dropped.auditEvents} audit events and ${dropped.lastUses} last uses`);
      await database?.drop();
      const leaked = [...knownSecrets].filter((secret) => secret.length >= 8 && logs.text.includes(secret));
      if (leaked.length > 0) throw new Error(`${leaked.length} secret(s) used by this test reached the server's logs`);
    },
  };
}
