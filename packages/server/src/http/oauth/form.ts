import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../core/oauth-errors.js';

/**
 * Registers the one body format OAuth endpoints take (RFC 6749 §3.2: the token endpoint uses
 * application/x-www-form-urlencoded). Any other body is refused as invalid_request.
 */
export function acceptFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
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
