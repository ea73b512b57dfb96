/**
 * The error catalog. Expected refusals are raised as {@link TesseraError} with a stable code;
 * `http/error-mapper.ts` is the only place a code becomes a status and a body. Anything else that
 * is thrown is a bug or an outage and is answered as a generic 500 without details.
 */
export const errorCodes = {
  VALIDATION_FAILED: 'The request is not valid',
  UNAUTHENTICATED: 'Authentication required',
  INVALID_CREDENTIALS: 'Invalid username or password',
  PASSWORD_EXPIRED: 'Password expired',
  SECOND_FACTOR_REQUIRED: 'Authentication code required',
  SECOND_FACTOR_ENROLMENT_REQUIRED: 'Two-factor enrolment required',
  SESSION_EXPIRED: 'Session expired',
  FORBIDDEN: 'Not allowed',
  RESTRICTED_SESSION: 'Not allowed through a token',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  TOO_MANY_ATTEMPTS: 'Too many attempts',
  TOKEN_LIMIT_REACHED: 'Token limit reached',
  EXPIRY_TOO_LONG: 'Expiry beyond the maximum',
  PAYLOAD_TOO_LARGE: 'Request body too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  UNAVAILABLE: 'Service unavailable',
  METHOD_NOT_ALLOWED: 'Method not allowed',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface TesseraErrorOptions {
  /** The request field at fault, as a JSON pointer (`/expires`) or a parameter name. */
  readonly field?: string;
  /** Seconds after which retrying may succeed (429). */
  readonly retryAfter?: number;
  /** Extra, non-secret members for the problem details body. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** An expected refusal: its message is written for the caller and is always shown. */
export class TesseraError extends Error {
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: TesseraErrorOptions = {},
  ) {
    super(message);
    this.name = 'TesseraError';
    this.field = options.field;
    this.retryAfter = options.retryAfter;
    this.extra = options.extra;
  }
}

/** Shorthand for a 404 that does not say whether the id exists elsewhere. */
export function notFound(kind: string, id: string): TesseraError {
  return new TesseraError('NOT_FOUND', `No ${kind} with id "${id}" in this organization`);
}

export function invalid(field: string, message: string): TesseraError {
  return new TesseraError('VALIDATION_FAILED', message, { field });
}
