import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import type { App } from '../../core/model.js';
import { maxAccessTokenTtlSeconds } from '../../core/policy.js';
import { actorContext } from '../request-context.js';
import { IdParams, ListQuery, PageOf, RoleNames, Timestamp, bearerSecurity, problemResponses } from '../schemas.js';

const AppName = Type.String({ minLength: 1, maxLength: 100 });
const Description = Type.String({ maxLength: 1000 });
const Ttl = Type.Union([Type.Integer({ minimum: 60, maximum: maxAccessTokenTtlSeconds }), Type.Null()], {
  description: 'Access-token lifetime in seconds (60 to 2592000, i.e. 30 days); null uses the organization policy',
});

const AppBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  client_id: Type.String(),
  roles: Type.Array(Type.String()),
  access_token_ttl_seconds: Type.Union([Type.Integer(), Type.Null()]),
  can_introspect: Type.Boolean(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  secret_rotated_at: Timestamp,
});

const AppWithSecret = Type.Intersect([AppBody, Type.Object({ client_secret: Type.String({ description: 'Shown once; store it now' }) })]);

function appBody(app: App) {
  return {
    id: app.id,
    name: app.name,
    description: app.description,
    client_id: app.clientId,
    roles: [...app.roles],
    access_token_ttl_seconds: app.accessTokenTtlSeconds,
    can_introspect: app.canIntrospect,
    created_by: app.createdBy,
    created_at: app.createdAt.toISOString(),
    updated_at: app.updatedAt.toISOString(),
    secret_rotated_at: app.secretRotatedAt.toISOString(),
  };
}

/** `/apps`: server-to-server OAuth clients (needs apps.manage to change). */
export function appRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/apps',
      { schema: { tags: ['apps'], summary: 'List apps', security: bearerSecurity, querystring: ListQuery, response: { 200: PageOf(AppBody), ...problemResponses } } },
      async (request) => {
        const page = await container.apps.list(actorContext(request, container), {
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
          q: request.query.q,
        });
        return { items: page.items.map(appBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/apps',
      {
        schema: {
          tags: ['apps'],
          summary: 'Create an app; the client secret is shown once',
          security: bearerSecurity,
          body: Type.Object(
            { name: AppName, description: Type.Optional(Description), roles: Type.Optional(RoleNames), access_token_ttl_seconds: Type.Optional(Ttl), can_introspect: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 201: AppWithSecret, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { app: created, clientSecret } = await container.apps.create(actorContext(request, container), {
          name: request.body.name,
          description: request.body.description,
          roles: request.body.roles,
          accessTokenTtlSeconds: request.body.access_token_ttl_seconds,
          canIntrospect: request.body.can_introspect,
        });
        return reply.code(201).send({ ...appBody(created), client_secret: clientSecret });
      },
    );

    app.get(
      '/apps/:id',
      { schema: { tags: ['apps'], summary: 'Show an app', security: bearerSecurity, params: IdParams, response: { 200: AppBody, ...problemResponses } } },
      async (request) => appBody(await container.apps.get(actorContext(request, container), request.params.id)),
    );

    app.patch(
      '/apps/:id',
      {
        schema: {
          tags: ['apps'],
          summary: 'Edit an app',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object(
            { name: Type.Optional(AppName), description: Type.Optional(Description), roles: Type.Optional(RoleNames), access_token_ttl_seconds: Type.Optional(Ttl), can_introspect: Type.Optional(Type.Boolean()) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: AppBody, ...problemResponses },
        },
      },
      async (request) =>
        appBody(
          await container.apps.update(actorContext(request, container), request.params.id, {
            name: request.body.name,
            description: request.body.description,
            roles: request.body.roles,
            accessTokenTtlSeconds: request.body.access_token_ttl_seconds,
            canIntrospect: request.body.can_introspect,
          }),
        ),
    );

    app.post(
      '/apps/:id/secret',
      {
        schema: {
          tags: ['apps'],
          summary: 'Regenerate the client secret; the old one stops working at once',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: AppWithSecret, ...problemResponses },
        },
      },
      async (request) => {
        const { app: updated, clientSecret } = await container.apps.regenerateSecret(actorContext(request, container), request.params.id);
        return { ...appBody(updated), client_secret: clientSecret };
      },
    );

    app.delete(
      '/apps/:id',
      { schema: { tags: ['apps'], summary: 'Delete an app', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.apps.remove(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
