import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { Timestamp, bearerSecurity, optionalBody, problemResponses } from '../schemas.js';
import { TokenBody, tokenBody } from './tokens.js';

// Longer than any token (SPEC 3.2's format is under 100 characters); no pattern, so a refusal never quotes the value.
const TokenValue = Type.String({ minLength: 1, maxLength: 200, description: 'The whole token string, as leaked' });
const Reason = Type.String({ maxLength: 500, description: 'Why, for the audit log and the token\'s record' });

/** `/tokens/identify`, `/tokens/revoke-by-value`, `/tokens/revoke-all` (SPEC 9). */
export function tokenLeakRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/tokens/identify',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Which token is this value? Its metadata, never the secret; 404 when it is no token of this organization',
          description: 'Needs tokens.all. The value goes in the body so it stays out of URLs and access logs.',
          security: bearerSecurity,
          body: Type.Object({ token: TokenValue }, { additionalProperties: false }),
          response: { 200: TokenBody, ...problemResponses },
        },
      },
      async (request) => tokenBody(await container.leaks.identify(actorContext(request, container), request.body.token)),
    );

    app.post(
      '/tokens/revoke-by-value',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke the token this value belongs to (irreversible, idempotent)',
          description: 'Needs tokens.all. For a value found in a log or a repository: no id needed.',
          security: bearerSecurity,
          body: Type.Object({ token: TokenValue, reason: Type.Optional(Reason) }, { additionalProperties: false }),
          response: { 200: TokenBody, ...problemResponses },
        },
      },
      async (request) => tokenBody(await container.leaks.revokeByValue(actorContext(request, container), request.body.token, request.body.reason)),
    );

    app.post(
      '/tokens/revoke-all',
      {
        schema: {
          tags: ['tokens'],
          summary: 'Revoke every token issued before a cutoff, for one principal or the whole organization',
          description:
            'Without owner: every token of the organization (needs tokens.all; so does another principal\'s). The cutoff (default now, never in the future) is rounded up to the whole second; access tokens minted from the revoked tokens stop working everywhere, through one cutoff event in the revocation feed.',
          security: bearerSecurity,
          body: Type.Object(
            {
              owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Username or id' })),
              issued_before: Type.Optional(Timestamp),
              reason: Type.Optional(Reason),
            },
            { additionalProperties: false, [optionalBody]: true },
          ),
          response: { 200: Type.Object({ revoked: Type.Integer({ minimum: 0 }), issued_before: Timestamp }), ...problemResponses },
        },
      },
      async (request) => {
        const body = request.body ?? {};
        const result = await container.leaks.revokeAll(actorContext(request, container), {
          owner: body.owner,
          issuedBefore: body.issued_before === undefined ? undefined : new Date(body.issued_before),
          reason: body.reason,
        });
        return { revoked: result.revoked, issued_before: result.before.toISOString() };
      },
    );
  };
}
