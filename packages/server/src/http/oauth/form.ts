import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeTextProblem, findTextProblem } from '@tessera/rules';
import { OAuthError } from '../../core/oauth-errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A form body decoded strictly (RFC 6749 Appendix B: UTF-8, then form-urlencoded): a bad
 * percent-escape or invalid UTF-8 is refused instead of becoming U+FFFD, and every name and
 * value is held to the text rule of @tessera/rules, so no NUL or control reaches a lookup.
 */
function parseForm(contentType: string, body: Buffer): URLSearchParams {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new OAuthError('invalid_request', 'Form bodies are UTF-8 (RFC 6749 Appendix B): send no charset or charset=utf-8', { status: 415 });
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new OAuthError('invalid_request', 'The body is not valid UTF-8 (RFC 6749 Appendix B)');
  }
  const params = new URLSearchParams();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (raw: string, what: string) => {
      let value: string;
      try {
        value = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_request', `${what} is not valid form-urlencoded UTF-8`);
      }
      const problem = findTextProblem(value);
      if (problem) throw new OAuthError('invalid_request', describeTextProblem(what, problem));
      return value;
    };
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), 'A parameter name');
    params.append(name, decode(eq < 0 ? '' : pair.slice(eq + 1), `The ${name} parameter`));
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
  if (!(body instanceof URLSearchParams)) {
    throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
  }
  return (name) => {
    const values = body.getAll(name);
    if (values.length > 1) throw new OAuthError('invalid_request', `The ${name} parameter is repeated; send it once`);
    const value = values[0];
    return value === undefined || value === '' ? undefined : value;
  };
}

export function requireParam(param: (name: string) => string | undefined, name: string): string {
  const value = param(name);
  if (value === undefined) throw new OAuthError('invalid_request', `The ${name} parameter is missing`);
  return value;
}
