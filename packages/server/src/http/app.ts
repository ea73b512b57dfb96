import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Container } from '../app/container.js';
import { lazyChildLogger } from '../app/logger.js';
import { appRoutes } from './api/apps.js';
import { auditRoutes } from './api/audit-events.js';
import { groupRoutes } from './api/groups.js';
import { orgRoutes } from './api/orgs.js';
import { policyRoutes } from './api/policy.js';
import { presetRoutes } from './api/presets.js';
import { savedSearchRoutes } from './api/saved-searches.js';
import { tokenRoutes } from './api/tokens.js';
import { tokenLeakRoutes } from './api/token-leaks.js';
import { webhookRoutes } from './api/webhooks.js';
import { secondFactorRoutes } from './api/second-factors.js';
import { principalRoutes } from './api/principals.js';
import { roleRoutes } from './api/roles.js';
import { sessionRoutes } from './api/sessions.js';
import { backupRoutes } from './api/backup.js';
import { consoleRoutes } from './console.js';
import { handleError } from './error-mapper.js';
import { createInputGuard } from './input-guard.js';
import { oauthRoutes } from './oauth/index.js';
import { forwardAuthRoutes } from './forward-auth.js';
import { registerMetrics } from './metrics.js';
import { opsRoutes } from './ops.js';
import { secretScanningRoutes } from './secret-scanning.js';
import { finishDocument, optionalBody } from './schemas.js';
import { authenticate } from './request-context.js';

/**
 * Two validators: bodies are checked strictly (a string is not a number, unknown fields are
 * refused, never silently dropped); query strings and path parameters arrive as text and are
 * coerced to the schema's types.
 */
function validators() {
  const base: AjvOptions = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };
  const strictAjv = addFormats.default(new Ajv({ ...base, coerceTypes: false }));
  const coercingAjv = addFormats.default(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    const validate = (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema);
    // An action whose options are all optional (rotate, revoke) may be posted without a body.
    if (httpPart !== 'body' || (schema as { [optionalBody]?: boolean })[optionalBody] !== true) return validate;
    // Fastify hands an absent body over as null and reads `errors` after a false answer, so
    // they are set on each call (Object.assign would have copied a getter's value, null, once:
    // every body then passed).
    const optional = (data: unknown): boolean => {
      const ok = data === null || data === undefined || validate(data);
      optional.errors = ok ? null : validate.errors;
      return ok;
    };
    optional.errors = null as typeof validate.errors;
    return optional;
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every non-HEAD route with whether it is hidden from the OpenAPI document. */
    routeTable: readonly { method: string; url: string; hidden: boolean }[];
  }
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds the HTTP application on a container; listening is the caller's business. */
export async function buildApp(container: Container): Promise<FastifyInstance> {
  const guard = createInputGuard(container.logger as FastifyBaseLogger);
  const app = Fastify({
    loggerInstance: container.logger as FastifyBaseLogger,
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger as Logger, bindings, options) as FastifyBaseLogger,
    frameworkErrors: guard.frameworkErrors,
    clientErrorHandler: guard.clientErrorHandler,
    bodyLimit: container.config.bodyLimitBytes,
    // A well-formed X-Request-Id from a proxy is kept so logs line up across hops.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Every route as registered, so tests can hold the OpenAPI document to all of them.
  const routeTable: { method: string; url: string; hidden: boolean }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const hidden = Boolean((route.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: route.url, hidden });
  });

  app.setValidatorCompiler(validators());
  app.setErrorHandler(handleError);
  guard.register(app);
  app.decorateRequest('actor', null);
  // A callback hook: an async one costs every request a promise and a microtask turn.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', String(request.id));
    // Draining: each keep-alive connection closes after its answer (RFC 9112 §9.6), so clients
    // reconnect, through the balancer, to an instance that stays; none is cut mid-request.
    if (container.lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    transformObject: (document) => ('openapiObject' in document ? finishDocument(document.openapiObject) : document.swaggerObject),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description: 'API tokens, OAuth 2.0 token service and management API. Errors are RFC 9457 problem details.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A session token from POST /api/v1/sessions' },
          session_cookie: { type: 'apiKey', in: 'cookie', name: 'tessera_session' },
        },
      },
    },
  });

  registerMetrics(app, container);
  await app.register(opsRoutes(container));
  await app.register(
    async (api) => {
      await api.register(sessionRoutes(container));
      await api.register(async (authed) => {
        authed.addHook('onRequest', authenticate(container));
        await authed.register(principalRoutes(container, 'user'));
        await authed.register(principalRoutes(container, 'service_account'));
        await authed.register(groupRoutes(container));
        await authed.register(roleRoutes(container));
        await authed.register(orgRoutes(container));
        await authed.register(auditRoutes(container));
        await authed.register(appRoutes(container));
        await authed.register(tokenRoutes(container));
        await authed.register(tokenLeakRoutes(container));
        await authed.register(policyRoutes(container));
        await authed.register(presetRoutes(container));
        await authed.register(savedSearchRoutes(container));
        await authed.register(webhookRoutes(container));
        await authed.register(secondFactorRoutes(container));
        await authed.register(backupRoutes(container));
      });
    },
    { prefix: '/api/v1' },
  );

  await app.register(oauthRoutes(container));
  await app.register(forwardAuthRoutes(container));
  await app.register(secretScanningRoutes(container));
  await app.register(consoleRoutes());

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
