import { createTesseraClient, TesseraApiError, TesseraConnectionError, type TesseraClient } from '@tessera/client';

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

/** What every resource of the CLI's client sends its calls through. */
export class Transport {
  readonly baseUrl: string;
  /** Calls whose answer is JSON, read whole within the timeout. */
  readonly api: TesseraClient;
  /** Calls whose answer streams (the audit export, a backup): a success body is left unread. */
  readonly streaming: TesseraClient;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const base = {
      baseUrl: this.baseUrl,
      token: options.sessionToken || undefined,
      headers: { accept: 'application/json, application/problem+json', 'user-agent': options.userAgent ?? 'tessera-cli' },
    };
    const send = options.fetch ?? fetch;
    this.api = createTesseraClient({ ...base, fetch: answerReader(send, this.baseUrl, 'whole') });
    this.streaming = createTesseraClient({ ...base, fetch: answerReader(send, this.baseUrl, 'stream') });
  }

  /** One JSON call, within the timeout. */
  async call<T>(send: (signal: AbortSignal) => Promise<{ data: T }>): Promise<T> {
    const { signal, done } = this.deadline(this.#timeoutMs);
    try {
      return await this.settle(send(signal));
    } finally {
      done();
    }
  }

  /** The answer's body, with the typed client's failures turned into the CLI's two errors. */
  async settle<T>(pending: Promise<{ data: T }>): Promise<T> {
    try {
      return (await pending).data;
    } catch (error) {
      if (error instanceof TesseraApiError) throw new ApiError(error.status, error.problem);
      if (error instanceof TesseraConnectionError) {
        // What the answer reader found travels as the cause; anything else is fetch's failure.
        if (error.cause instanceof ApiError || error.cause instanceof ConnectionError) throw error.cause;
        throw new ConnectionError(this.baseUrl, reasonOf(error.cause));
      }
      throw error;
    }
  }

  /** An abort signal that fires after `ms`, and a function that disarms it. */
  deadline(ms: number = this.#timeoutMs): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(ms)), ms);
    return { signal: controller.signal, done: () => clearTimeout(timer) };
  }
}

/**
 * The fetch under the typed client: it reads each answer before the client parses it, so an
 * answer cut off midway is a ConnectionError, a success that is not JSON says the server may
 * not be Tessera, and a refusal without a problem document (a proxy's page) still names its
 * status. With `stream`, a success is handed on unread.
 */
function answerReader(send: typeof fetch, baseUrl: string, mode: 'whole' | 'stream'): typeof fetch {
  return async (input, init) => {
    const response = await send(input, init);
    if (response.ok && mode === 'stream') return response;
    const text = await readText(response, baseUrl);
    if (!response.ok) {
      let problem: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object') problem = parsed as Record<string, unknown>;
      } catch {
        // Not a problem document (a proxy's error page): the status alone is reported.
      }
      const error = new ApiError(response.status, problem);
      const body = { ...problem, status: error.status, detail: error.detail };
      return new Response(JSON.stringify(body), { status: response.status, statusText: response.statusText, headers: { 'content-type': 'application/problem+json' } });
    }
    if (response.status === 204 || text === '') return new Response(null, { status: 204 });
    try {
      JSON.parse(text);
    } catch {
      throw new ApiError(response.status, { detail: `The server at ${baseUrl} did not answer with JSON; is it a Tessera server?` });
    }
    return new Response(text, { status: response.status, statusText: response.statusText, headers: { 'content-type': 'application/json' } });
  };
}

async function readText(response: Response, baseUrl: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new ConnectionError(baseUrl, `the answer was cut off (${reasonOf(error)})`);
  }
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
    this.name = 'TimeoutError';
  }
}

/** What went wrong with a fetch, briefly: "connect ECONNREFUSED 127.0.0.1:1", "no answer within 30 s". */
export function reasonOf(error: unknown): string {
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
