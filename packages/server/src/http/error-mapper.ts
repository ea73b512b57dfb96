import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError, errorCodes, type ErrorCode } from '../core/errors.js';
import { OAuthError } from '../core/oauth-errors.js';

/**
 * The one place an error becomes a status, headers and a body (RFC 9457 problem details).
 * TesseraErrors are expected refusals and say why; Fastify's own 4xx errors (bad JSON, too
 * large, wrong media type, schema violations) are translated into the same shape; anything
 * else is a bug or an outage and answers a bare 500 that reveals nothing.
 */
const statusOf: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  PASSWORD_EXPIRED: 403,
  SECOND_FACTOR_REQUIRED: 401,
  SECOND_FACTOR_ENROLMENT_REQUIRED: 403,
  SESSION_EXPIRED: 401,
  FORBIDDEN: 403,
  RESTRICTED_SESSION: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_MANY_ATTEMPTS: 429,
  TOKEN_LIMIT_REACHED: 409,
  EXPIRY_TOO_LONG: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  METHOD_NOT_ALLOWED: 405,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  errors?: { field: string; message: string }[];
  request_id: string;
  [extra: string]: unknown;
}

const typeOf = (code: string) => `urn:tessera:problem:${code.toLowerCase().replace(/_/g, '-')}`;

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Names the field an Ajv issue is about, as a JSON pointer into the request part. */
function fieldOf(issue: AjvIssue, context: string | undefined): string {
  let path = issue.instancePath ?? '';
  if (issue.keyword === 'required' && typeof issue.params?.['missingProperty'] === 'string') {
    path += `/${issue.params['missingProperty']}`;
  }
  if (issue.keyword === 'additionalProperties' && typeof issue.params?.['additionalProperty'] === 'string') {
    path += `/${issue.params['additionalProperty']}`;
  }
  // Query and path parameters are named plainly; body fields as JSON pointers.
  return context === 'body' || context === undefined ? path || '/' : path.replace(/^\//, '') || context;
}

function messageOf(issue: AjvIssue, field: string): string {
  switch (issue.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not a known field; remove it (see /openapi.json for the accepted fields)`;
    case 'type':
      return `${field} must be of type ${String(issue.params?.['type'])}`;
    case 'maxLength':
    case 'maxItems':
    case 'maximum':
      return `${field} is too large: ${issue.message ?? ''}`;
    default:
      return `${field} ${issue.message ?? 'is not valid'}`;
  }
}

export function toProblem(error: unknown, requestId: string): { status: number; problem: Problem; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error instanceof TesseraError) {
    const status = statusOf[error.code];
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    if (status === 401) headers['www-authenticate'] = 'Bearer realm="tessera"';
    return {
      status,
      headers,
      problem: {
        ...error.extra,
        type: typeOf(error.code),
        title: errorCodes[error.code],
        status,
        detail: error.message,
        code: error.code,
        ...(error.field !== undefined && { field: error.field }),
        request_id: requestId,
      },
    };
  }

  const fastifyError = error as Partial<FastifyError> & { validation?: AjvIssue[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation) && fastifyError.validation.length > 0) {
    const errors = fastifyError.validation.map((issue) => {
      const field = fieldOf(issue, fastifyError.validationContext);
      return { field, message: messageOf(issue, field) };
    });
    const first = errors[0] as { field: string; message: string };
    return {
      status: 400,
      headers,
      problem: {
        type: typeOf('VALIDATION_FAILED'),
        title: errorCodes.VALIDATION_FAILED,
        status: 400,
        detail: first.message,
        code: 'VALIDATION_FAILED',
        field: first.field,
        errors,
        request_id: requestId,
      },
    };
  }

  const simple = (code: ErrorCode, status: number, detail: string, field?: string) => ({
    status,
    headers,
    problem: {
      type: typeOf(code),
      title: errorCodes[code],
      status,
      detail,
      code,
      ...(field !== undefined && { field }),
      request_id: requestId,
    },
  });

  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return simple('PAYLOAD_TOO_LARGE', 413, 'The request body is larger than this server accepts; send less data', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return simple('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as application/json', 'content-type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return simple('VALIDATION_FAILED', 400, 'The body is empty; send a JSON object', 'body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return simple('VALIDATION_FAILED', 400, 'The body is not valid JSON; check quotes, commas and brackets', 'body');
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return simple('VALIDATION_FAILED', 400, 'The body is not valid JSON; check quotes, commas and brackets', 'body');
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return simple('VALIDATION_FAILED', status, 'The request could not be processed; check its format');
  }
  return {
    status: 500,
    headers,
    problem: {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'Something went wrong on our side; the request id helps the operator find it in the logs',
      code: 'INTERNAL',
      request_id: requestId,
    },
  };
}

/** Fastify error handler: logs unexpected errors (without request bodies) and answers a problem. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, problem, headers } = toProblem(error, String(request.id));
  if (status >= 500 && !(error instanceof TesseraError)) request.log.error({ err: error }, 'unexpected error');
  return reply.code(status).headers(headers).type('application/problem+json').send(problem);
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return handleError(new TesseraError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}; see /openapi.json`), request, reply);
}

/** Typographic characters our own messages might carry, written the way §5.2 allows. */
const plainForms: Record<string, string> = { '\u2014': '-', '\u2013': '-', '\u2018': "'", '\u2019': "'", '\u201c': "'", '\u201d': "'", '\u2026': '...', '"': "'", '\\': '/' };

/**
 * RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E (printable ASCII
 * without `"` and `\`). Every OAuth error body passes through here, so no message — ours or
 * one a library raised — can carry anything else; the messages themselves never quote client
 * input, they name the parameter.
 */
export function sanitizeErrorDescription(text: string): string {
  const plain = text.replace(/[\u2013\u2014\u2018\u2019\u201c\u201d\u2026"\\]/g, (c) => plainForms[c] ?? '');
  return plain.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]+/g, ' ').replace(/ {2,}/g, ' ').trim().slice(0, 300);
}

/** RFC 6749 §5.2 body and status for any error raised at an OAuth endpoint. */
export function toOAuthError(error: unknown): { status: number; body: { error: string; error_description?: string }; headers: Record<string, string> } {
  const { status, headers, body } = oauthErrorOf(error);
  return { status, headers, body: body.error_description === undefined ? body : { ...body, error_description: sanitizeErrorDescription(body.error_description) } };
}

function oauthErrorOf(error: unknown): { status: number; body: { error: string; error_description?: string }; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error instanceof OAuthError) {
    let status = error.status ?? (error.error === 'slow_down' ? 429 : 400);
    // §5.2: invalid_client MAY be 401, and MUST be when the client tried HTTP Basic. Always
    // 401 with the scheme: a client that sent its secret in the body learns the same thing,
    // and RFC 7662 §2.3 expects 401 at introspection either way.
    if (error.error === 'invalid_client') {
      status = 401;
      headers['www-authenticate'] = 'Basic realm="tessera", charset="UTF-8"';
    }
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    return { status, headers, body: { error: error.error, error_description: error.message } };
  }
  // The input guard's refusals (http/input-guard.ts) at an OAuth endpoint: bad text in a
  // parameter is invalid_request, in HTTP Basic credentials invalid_client (§5.2).
  if (error instanceof TesseraError && (error.code === 'VALIDATION_FAILED' || error.code === 'UNSUPPORTED_MEDIA_TYPE')) {
    return { status: 400, headers, body: { error: 'invalid_request', error_description: error.message } };
  }
  // An outage (the database unreachable or too slow, storage/drivers/postgres.ts). RFC 6749
  // defines temporarily_unavailable for the authorization endpoint only (§4.1.2.1); it is the
  // one registered code that tells a client to retry, so the token, introspection and
  // revocation endpoints use it too, with the 503 and Retry-After of RFC 9110 §15.6.4.
  if (error instanceof TesseraError && error.code === 'UNAVAILABLE') {
    headers['retry-after'] = String(error.retryAfter ?? 1);
    return { status: 503, headers, body: { error: 'temporarily_unavailable', error_description: error.message } };
  }
  if (error instanceof TesseraError && error.code === 'INVALID_CREDENTIALS') {
    headers['www-authenticate'] = 'Basic realm="tessera", charset="UTF-8"';
    return { status: 401, headers, body: { error: 'invalid_client', error_description: error.message } };
  }
  const fastifyError = error as { code?: string; statusCode?: number };
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, headers, body: { error: 'invalid_request', error_description: 'The request body is too large' } };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: 400, headers, body: { error: 'invalid_request', error_description: 'The request could not be parsed; send a form-encoded body' } };
  }
  return { status: 500, headers, body: { error: 'server_error', error_description: 'Something went wrong on our side' } };
}

export function handleOAuthError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = toOAuthError(error);
  if (status >= 500) request.log.error({ err: error }, 'unexpected error');
  return reply.code(status).headers({ ...headers, 'cache-control': 'no-store', pragma: 'no-cache' }).type('application/json').send(body);
}
