import type { FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';
import { OAuthError } from '../../core/oauth-errors.js';
import { requestContext } from '../request-context.js';
import { authenticateClient, requireApp } from './client-auth.js';
import { formParams, requireParam } from './form.js';
import { endOfTurn } from './turn.js';
import { documentOnly, formRequestSchema, oauthErrorResponses } from './schemas.js';

/** `POST /oauth/introspect` (RFC 7662), for apps allowed to introspect. */
export function introspectRoute(container: Container): FastifyPluginAsync {
  const serialised = new WeakMap<object, string>();
  return async (app) => {
    app.post(
      '/oauth/introspect',
      {
        ...documentOnly,
        schema: {
          tags: ['oauth'],
          summary: 'Token introspection (RFC 7662)',
          description: 'Accepts access tokens and direct API tokens. Every inactive token answers exactly {"active":false}.',
          ...formRequestSchema({
            token: { type: 'string' },
            token_type_hint: { type: 'string' },
            client_ip: { type: 'string', description: 'Optional: the address the token is presented from, checked against its allowlist' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
          }, ['token']),
          response: {
            200: { type: 'object', required: ['active'], properties: { active: { type: 'boolean' } }, additionalProperties: true },
            ...oauthErrorResponses,
          },
        },
      },
      async (request, reply) => {
        await endOfTurn();
        const param = formParams(request);
        // RFC 7662 §2.1: the caller must authenticate; §2.3 / RFC 6749 §5.2: else 401 invalid_client.
        const caller = requireApp(await authenticateClient(request, param, container.apps), 'introspection');
        if (!caller.canIntrospect) throw new OAuthError('invalid_client', 'This client is not allowed to introspect tokens; enable can_introspect on the app');
        const token = requireParam(param, 'token');
        const context = requestContext(request, container);
        const body = await container.oauth.introspect(caller, token, { ...context, clientIp: context.clientIp ?? '' }, param('client_ip'));
        // Serialised by hand so every inactive answer is byte-identical: {"active":false}; an
        // answer the core hands out again (a cached token's) is serialised once.
        let text = serialised.get(body);
        if (text === undefined) {
          text = JSON.stringify(body);
          if (Object.isFrozen(body)) serialised.set(body, text);
        }
        return reply.type('application/json').send(text);
      },
    );
  };
}
