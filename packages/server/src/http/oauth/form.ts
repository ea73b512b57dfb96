import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeTextProblem, findTextProblem } from '@tessera/rules';
import { OAuthError } from '../../core/oauth-errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A parsed form body: each parameter's values in order of appearance. A Map, so a parameter
 * named `__proto__` or `constructor` is just a name.
 */
export class FormBody {
  readonly #values = new Map<string, string | string[]>();

  add(name: string, value: string): void {
    const present = this.#values.get(name);
    if (present === undefined) this.#values.set(name, value);
    else if (typeof present === 'string') this.#values.set(name, [present, value]);
    else present.push(value);
  }

  /** The values of `name`: none, one (a string) or several. */
  values(name: string): string | readonly string[] | undefined {
    return this.#values.get(name);
  }
}

/** One name or value: `+` is a space, then percent-decoded (skipped when there is nothing to decode). */
function decodeFormText(raw: string, what: string): string {
  let value = raw;
  if (raw.indexOf('%') !== -1 || raw.indexOf('+') !== -1) {
    try {
      value = decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_request', `${what} is not valid form-urlencoded UTF-8`);
    }
  }
  const problem = findTextProblem(value);
  if (problem) throw new OAuthError('invalid_request', describeTextProblem(what, problem));
  return value;
}

/**
 * A form body decoded strictly (RFC 6749 Appendix B: UTF-8, then form-urlencoded): a bad
 * percent-escape or invalid UTF-8 is refused instead of becoming U+FFFD, and every name and
 * value is held to the text rule of @tessera/rules, so no NUL or control reaches a lookup.
 * One pass over the body, on the hot path of every OAuth endpoint.
 */
function parseForm(contentType: string, body: Buffer): FormBody {
  // Only a content type with parameters can name a charset.
  if (contentType.indexOf(';') !== -1) {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType)?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      throw new OAuthError('invalid_request', 'Form bodies are UTF-8 (RFC 6749 Appendix B): send no charset or charset=utf-8', { status: 415 });
    }
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new OAuthError('invalid_request', 'The body is not valid UTF-8 (RFC 6749 Appendix B)');
  }
  const params = new FormBody();
  let start = 0;
  // The next `=` at or after `start`, searched again only once passed: a body of many pairs
  // without one stays a linear scan.
  let eq = -1;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      if (eq < start) {
        eq = text.indexOf('=', start);
        if (eq === -1) eq = text.length;
      }
      const hasValue = eq < end;
      const name = decodeFormText(text.slice(start, hasValue ? eq : end), 'A parameter name');
      params.add(name, hasValue ? decodeFormText(text.slice(eq + 1, end), `The ${name} parameter`) : '');
    }
    start = end + 1;
  }
  return params;
}

/**
 * Registers the one body format OAuth endpoints take (RFC 6749 §3.2: the token endpoint uses
 * application/x-www-form-urlencoded). Any other body is refused as invalid_request.
 */
export function acceptFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseForm(request.headers['content-type'] ?? '', body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded'), undefined);
  });
}

/**
 * The parameters of a form body. RFC 6749 §3.1: a parameter sent without a value is treated as
 * omitted, and a parameter must not be repeated.
 */
export function formParams(request: FastifyRequest): (name: string) => string | undefined {
  const body = request.body;
  if (!(body instanceof FormBody)) {
    throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
  }
  return (name) => {
    const value = body.values(name);
    if (typeof value === 'object') throw new OAuthError('invalid_request', `The ${name} parameter is repeated; send it once`);
    return value === '' ? undefined : value;
  };
}

export function requireParam(param: (name: string) => string | undefined, name: string): string {
  const value = param(name);
  if (value === undefined) throw new OAuthError('invalid_request', `The ${name} parameter is missing`);
  return value;
}
