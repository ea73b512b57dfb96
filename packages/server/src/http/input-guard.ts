import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { describeTextProblem, findJsonTextProblem, findTextProblem, textKindOf } from '@tessera/rules';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../core/errors.js';
import { OAuthError } from '../core/oauth-errors.js';
import { basicCredentials, isBasic } from './basic-credentials.js';
import { handleError, handleNotFound, handleOAuthError } from './error-mapper.js';

/**
 * The edge: every request's text is checked here, once, before any route sees it, with the one
 * text rule of @tessera/rules (no U+0000, unpaired surrogate or C0 control outside a
 * multi-line field). JSON bodies (every string and member name, named by JSON pointer), query
 * strings, path parameters and HTTP Basic credentials; OAuth form fields are checked by the
 * form parser (oauth/form.ts) with the same rule. The guard also turns what Fastify and Node
 * answer on their own — router errors, oversize path parameters, broken framing, wrong methods —
 * into problem documents (RFC 9457), or RFC 6749 error bodies under /oauth/.
 *
 * Refusals are TesseraErrors; error-mapper.ts makes them a status and a body.
 */

/** Paths whose query and path are a proxied request's, answered in their own RFC 6750 format. */
const rawInputPrefixes = ['/forward-auth'];

/** Member names refused anywhere in a JSON body: they reach an object's prototype when merged. */
const prototypeKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

const pathOf = (url: string) => url.split('?')[0] as string;
const isOAuthPath = (url: string) => url.startsWith('/oauth/');

/** A registered route as a regular expression over the raw path, with its parameter names. */
interface RoutePattern {
  readonly method: string;
  readonly regex: RegExp;
  readonly params: readonly string[];
}

function compile(method: string, url: string): RoutePattern {
  const params: string[] = [];
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => {
      if (part === '*') {
        params.push('*');
        return '(.*)';
      }
      if (part.startsWith(':')) {
        params.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { method, regex: new RegExp(`^${source}$`), params };
}

function refuse(request: FastifyRequest, reply: FastifyReply, error: TesseraError | OAuthError): FastifyReply {
  if (error instanceof OAuthError) return handleOAuthError(error, request, reply);
  return handleError(error, request, reply);
}

/** The first `__proto__` or `constructor` member in a parsed body, as a JSON pointer. */
function prototypeKeyIn(value: unknown): { pointer: string; key: string } | undefined {
  const stack: { node: unknown; at: string }[] = [{ node: value, at: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, at } = item;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push({ node: child, at: `${at}/${i}` }));
      continue;
    }
    for (const key of Object.keys(node)) {
      const pointer = `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (prototypeKeys.has(key)) return { pointer, key };
      stack.push({ node: (node as Record<string, unknown>)[key], at: pointer });
    }
  }
  return undefined;
}

/**
 * application/json bodies (RFC 8259 §8.1: UTF-8, no other charset): strictly decoded, parsed,
 * then held to the text rule and refused if they carry prototype keys.
 */
function parseJson(request: FastifyRequest, body: Buffer): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies are UTF-8 (RFC 8259 §8.1): send Content-Type: application/json with no charset or charset=utf-8', { field: 'content-type' });
  }
  if (body.length === 0) throw new TesseraError('VALIDATION_FAILED', 'The body is empty; send a JSON object', { field: 'body' });
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new TesseraError('VALIDATION_FAILED', 'The body is not valid UTF-8 (RFC 8259 §8.1); send the JSON as UTF-8', { field: 'body' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TesseraError('VALIDATION_FAILED', 'The body is not valid JSON; check quotes, commas and brackets', { field: 'body' });
  }
  // Every body of this API is an object or an array. A literal null would pass for an absent
  // body where all options are optional (app.ts validators), so it is refused here.
  if (parsed === null) throw new TesseraError('VALIDATION_FAILED', 'The body is null; send a JSON object, or no body where every field is optional', { field: 'body' });
  const proto = prototypeKeyIn(parsed);
  if (proto) {
    throw new TesseraError('VALIDATION_FAILED', `${proto.pointer}: the member name "${proto.key}" is not accepted in a request body; remove it`, { field: proto.pointer });
  }
  const problem = findJsonTextProblem(parsed);
  if (problem) throw new TesseraError('VALIDATION_FAILED', problem.message, { field: problem.field });
  return parsed;
}

/** Query parameters, decoded strictly: a bad percent-escape or invalid UTF-8 is refused, not replaced. */
function checkQuery(url: string): void {
  const mark = url.indexOf('?');
  if (mark < 0) return;
  for (const pair of url.slice(mark + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [rawName, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      throw new TesseraError('VALIDATION_FAILED', 'A query parameter name is not valid percent-encoded UTF-8', { field: 'query' });
    }
    const nameProblem = findTextProblem(name);
    if (nameProblem) throw new TesseraError('VALIDATION_FAILED', describeTextProblem('A query parameter name', nameProblem), { field: 'query' });
    try {
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      throw new TesseraError('VALIDATION_FAILED', `The query parameter ${name} is not valid percent-encoded UTF-8`, { field: name });
    }
    const kind = textKindOf(name);
    const problem = findTextProblem(value, kind);
    if (problem) throw new TesseraError('VALIDATION_FAILED', describeTextProblem(`The query parameter ${name}`, problem, kind), { field: name });
  }
}

function checkParams(params: unknown): void {
  if (params === null || typeof params !== 'object') return;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    const field = name === '*' ? 'path' : name;
    const problem = findTextProblem(value);
    if (problem) throw new TesseraError('VALIDATION_FAILED', describeTextProblem(`The path parameter ${field}`, problem), { field });
  }
}

/** HTTP Basic credentials: UTF-8 (RFC 7617 §2.1), each part form-encoded (RFC 6749 §2.3.1). */
function checkBasic(request: FastifyRequest): void {
  const header = request.headers.authorization;
  if (!isBasic(header)) return;
  const credentials = basicCredentials(request, header);
  if (!credentials.utf8) throw new TesseraError('INVALID_CREDENTIALS', 'HTTP Basic credentials are not valid UTF-8 (RFC 7617 §2.1)', { field: 'authorization' });
  checkBasicPart('client_id', credentials.clientId);
  checkBasicPart('client_secret', credentials.clientSecret);
}

function checkBasicPart(name: string, value: string | null): void {
  // A part that is not form-encoded (null) is client authentication's to answer (invalid_client).
  const problem = value === null ? undefined : findTextProblem(value);
  if (problem) throw new TesseraError('INVALID_CREDENTIALS', describeTextProblem(`The ${name} in the HTTP Basic credentials`, problem), { field: name });
}

export interface InputGuard {
  /** Fastify's `frameworkErrors` option: router errors before any route is found. */
  frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void;
  /** Fastify's `clientErrorHandler` option: a request Node could not parse as HTTP. */
  clientErrorHandler(error: Error & { code?: string }, socket: Socket): void;
  /** Registers the parsers, hooks and not-found handler; call before any route is registered. */
  register(app: FastifyInstance): void;
}

export function createInputGuard(logger: FastifyBaseLogger): InputGuard {
  const routes: RoutePattern[] = [];

  const matching = (path: string) => routes.map((route) => ({ route, match: route.regex.exec(path) })).filter((m) => m.match !== null);

  return {
    frameworkErrors(error, request, reply) {
      const url = request.raw.url ?? '/';
      const path = pathOf(url);
      let refusal: TesseraError;
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        // find-my-way refuses a parameter over maxParamLength (100) before any route is chosen;
        // the patterns name the parameter that is too long.
        let field = 'path';
        for (const { route, match } of matching(path)) {
          const index = match?.slice(1).findIndex((value) => value.length > 100) ?? -1;
          if (index >= 0) field = route.params[index] === '*' ? 'path' : (route.params[index] as string);
        }
        refusal = new TesseraError('VALIDATION_FAILED', `The path parameter ${field} is too long: at most 100 characters are accepted`, { field });
      } else if (error.code === 'FST_ERR_BAD_URL') {
        refusal = new TesseraError('VALIDATION_FAILED', 'The URL path is not valid: a percent-escape is malformed or does not encode UTF-8 (RFC 3986 §2.1)', { field: 'path' });
      } else {
        refusal = new TesseraError('VALIDATION_FAILED', 'The request could not be routed; check its URL', { field: 'path' });
      }
      // The router's context runs no onSend hook of ours, so the request id is set here.
      reply.header('x-request-id', String(request.id));
      refuse(request, reply, isOAuthPath(path) ? new OAuthError('invalid_request', refusal.message) : refusal);
    },

    clientErrorHandler(error, socket) {
      // A connection reset or a socket already gone: nobody to answer (Node's own behaviour).
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const detail =
        status === 408
          ? 'The request took too long to arrive; send it again'
          : status === 431
            ? 'The request headers are larger than this server accepts'
            : 'The request is not valid HTTP/1.1: check the request line, headers and Content-Length or Transfer-Encoding';
      const requestId = randomUUID();
      logger.debug({ code: error.code, requestId }, 'malformed HTTP request refused');
      const body = JSON.stringify({
        type: 'urn:tessera:problem:validation-failed',
        title: 'The request is not valid',
        status,
        detail,
        code: 'VALIDATION_FAILED',
        request_id: requestId,
      });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    },

    register(app) {
      app.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) routes.push(compile(method, route.url));
      });

      // One JSON parser for every JSON route; text/plain is not a format of this API (415).
      app.removeContentTypeParser(['application/json', 'text/plain']);
      app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
        try {
          done(null, parseJson(request, body as Buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      });

      // A callback hook: an async one costs every request a promise and a microtask turn.
      app.addHook('preValidation', (request, _reply, done) => {
        if (!rawInputPrefixes.some((prefix) => request.url === prefix || request.url.startsWith(`${prefix}/`) || request.url.startsWith(`${prefix}?`))) {
          checkQuery(request.url);
          checkParams(request.params);
          checkBasic(request);
        }
        done();
      });

      // RFC 9110 §15.5.6: a known path with another method is 405 with the methods it has.
      const notFound = (request: FastifyRequest, reply: FastifyReply) => {
        const path = pathOf(request.url);
        const allowed = new Set(matching(path).map(({ route }) => route.method));
        if (allowed.size === 0) return handleNotFound(request, reply);
        const allow = [...allowed].sort().join(', ');
        reply.header('allow', allow);
        const message = `${request.method} is not allowed on ${path}; use ${allow}`;
        return refuse(request, reply, isOAuthPath(path) ? new OAuthError('invalid_request', message, { status: 405 }) : new TesseraError('METHOD_NOT_ALLOWED', message));
      };
      app.setNotFoundHandler(notFound);
      // Answered before the body is read: for a method with a body (QUERY, say), parsing it
      // first would refuse it as a bad body (400) instead of an unrouted request (404, 405).
      // Async on purpose: it defers the rest of the chain past the HTTP parser's pass over the
      // bytes that arrived, so a request with broken framing after its headers is answered 400
      // by the client-error handler, not 415 or 404 by a route that never saw its body.
      app.addHook('onRequest', async (request, reply) => {
        if (request.is404) return notFound(request, reply);
        return undefined;
      });
    },
  };
}
