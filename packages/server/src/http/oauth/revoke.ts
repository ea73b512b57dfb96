import type { FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';
import { requestContext } from '../request-context.js';
import { authenticateClient } from './client-auth.js';
import { formParams, requireParam } from './form.js';
import { documentOnly, formRequestSchema, oauthErrorResponses } from './schemas.js';

/** `POST /oauth/revoke` (RFC 7009). */
export function revokeRoute(container: Container): FastifyPluginAsync {
  return async (app) => {
    app.post(
      '/oauth/revoke',
      {
        ...documentOnly,
        schema: {
          tags: ['oauth'],
          summary: 'Token revocation (RFC 7009)',
          description:
            'Revokes an API token (and every access token minted from it) or one access token. Unknown tokens also answer 200. ' +
            'Client credentials, when sent, are verified (401 invalid_client when wrong); an app revokes only tokens issued to it or, with can_introspect, its organization\'s.',
          ...formRequestSchema({ token: { type: 'string' }, token_type_hint: { type: 'string' }, client_id: { type: 'string' }, client_secret: { type: 'string' } }, ['token']),
          response: { 200: { type: 'null', description: 'RFC 7009 §2.2: an empty body' }, ...oauthErrorResponses },
        },
      },
      async (request, reply) => {
        const param = formParams(request);
        // RFC 7009 §2.1: authenticate the client first; wrong credentials revoke nothing.
        const client = await authenticateClient(request, param, container.apps);
        const token = requireParam(param, 'token');
        // RFC 7009 §2.1: token_type_hint is only a hint; every kind of token is tried.
        param('token_type_hint');
        const context = requestContext(request, container);
        await container.oauth.revoke(token, client, { ...context, clientIp: context.clientIp ?? '' });
        return reply.code(200).send();
      },
    );
  };
}
