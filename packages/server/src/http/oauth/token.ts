import type { FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';
import { OAuthError } from '../../core/oauth-errors.js';
import { requestContext } from '../request-context.js';
import { authenticateClient } from './client-auth.js';
import { formParams, requireParam } from './form.js';
import { endOfTurn } from './turn.js';
import { documentOnly, formRequestSchema, oauthErrorResponse, oauthErrorResponses } from './schemas.js';

/**
 * `POST /oauth/token` (RFC 6749 §3.2), dispatching to the grant named by `grant_type`; with
 * TESSERA_OAUTH_PROVIDER_PATH also at `/oauth/provider/token`, the seeds' path, with the same
 * handler so the two cannot drift apart.
 */
export function tokenRoute(container: Container): FastifyPluginAsync {
  return async (app) => {
    const paths = container.config.oauthProviderPath ? ['/oauth/token', '/oauth/provider/token'] : ['/oauth/token'];
    for (const path of paths) app.post(
      path,
      {
        ...documentOnly,
        schema: {
          tags: ['oauth'],
          summary: path === '/oauth/token' ? 'Token endpoint: refresh_token (API token) and client_credentials grants' : 'The token endpoint at the seeds\' path (TESSERA_OAUTH_PROVIDER_PATH)',
          description:
            'Form-encoded. `grant_type=refresh_token&refresh_token=<API token>[&scope=...]` exchanges an API token for an access token; ' +
            '`grant_type=client_credentials` with client_secret_basic or client_secret_post gets an app an access token. ' +
            'Client credentials sent with any grant are verified (401 invalid_client when wrong). `refresh_token` is in the answer only when a new one is issued.',
          ...formRequestSchema({
            grant_type: { type: 'string', enum: ['refresh_token', 'client_credentials'] },
            refresh_token: { type: 'string', description: 'The API token' },
            scope: { type: 'string', description: 'Optional narrowing: space-delimited endpoint patterns, METHOD:/path or /path' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
          }, ['grant_type']),
          response: {
            200: {
              type: 'object',
              required: ['access_token', 'token_type', 'expires_in', 'scope'],
              properties: {
                access_token: { type: 'string' },
                token_type: { type: 'string', enum: ['Bearer'] },
                expires_in: { type: 'integer' },
                // Present only when rotation issues a new one; null only with TESSERA_OAUTH_NULL_REFRESH_TOKEN.
                refresh_token: container.config.oauthNullRefreshToken ? { type: ['string', 'null'] } : { type: 'string' },
                scope: { type: 'string' },
              },
            },
            ...oauthErrorResponses,
            429: oauthErrorResponse,
          },
        },
      },
      async (request) => {
        await endOfTurn();
        const param = formParams(request);
        const grantType = requireParam(param, 'grant_type');
        const grant = Object.hasOwn(container.oauth.grants, grantType) ? container.oauth.grants[grantType] : undefined;
        if (!grant) throw new OAuthError('unsupported_grant_type', 'This grant_type is not supported: use refresh_token or client_credentials');
        const context = requestContext(request, container);
        // Slow down guessing: per client address, and per API token id or client id presented.
        const nowMs = container.clock.now().getTime();
        const { tokenRateLimitPerAddress, tokenRateLimitPerToken } = container.config;
        const subject = /^[a-z][a-z0-9]{1,15}_([0-9A-Za-z]{12})\./.exec(param('refresh_token') ?? '')?.[1] ?? param('client_id');
        const wait =
          container.rateLimiter.take(`address:${context.clientIp}`, tokenRateLimitPerAddress, nowMs) ??
          (subject === undefined ? undefined : container.rateLimiter.take(`subject:${subject}`, tokenRateLimitPerToken, nowMs));
        if (wait !== undefined) throw new OAuthError('slow_down', `Too many token requests; retry in ${wait} seconds`, { retryAfter: wait });
        // RFC 6749 §3.2.1, §6: credentials that are sent are checked, whatever the grant.
        const client = await authenticateClient(request, param, container.apps);
        return grant({ param, client, context: { ...context, clientIp: context.clientIp ?? '' } });
      },
    );
  };
}
