/** An RFC 9457 problem document as Tessera writes it; `field` names the input at fault. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Stable SCREAMING_SNAKE code, e.g. `TOKEN_LIMIT_REACHED`. */
  readonly code?: string;
  readonly field?: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
  readonly request_id?: string;
  readonly [extra: string]: unknown;
}

/** The server answered with a refusal (4xx) or a failure (5xx); `problem` says why. */
export class TesseraApiError extends Error {
  override readonly name = 'TesseraApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** The server could not be reached (refused, reset, DNS, TLS): nothing was answered. */
export class TesseraConnectionError extends Error {
  override readonly name = 'TesseraConnectionError';
  constructor(readonly url: string, options?: { cause?: unknown }) {
    super(`Cannot reach Tessera at ${url}`, options);
  }
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && typeof (value as Problem).detail === 'string' && typeof (value as Problem).status === 'number';
}

/**
 * The problem of a failed response. A body that is not a problem document (a proxy's HTML
 * page, an empty 502) still becomes one, naming the status, so callers handle one shape.
 */
export async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '');
  try {
    const parsed: unknown = JSON.parse(text);
    if (isProblem(parsed)) return parsed;
    // RFC 6749 §5.2 errors from the OAuth endpoints carry `error` and `error_description`.
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') {
      const oauth = parsed as { error: string; error_description?: string };
      return { title: oauth.error, status: response.status, detail: oauth.error_description ?? oauth.error, code: oauth.error };
    }
  } catch {
    // Not JSON: fall through to a problem naming the status.
  }
  return {
    title: response.statusText || 'Error',
    status: response.status,
    detail: `The server answered ${response.status} ${response.statusText}`.trim(),
  };
}
