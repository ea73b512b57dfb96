import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { GroupBody, Id, IdParams, ListQuery, PageOf, RoleNames, bearerSecurity, groupBody, problemResponses } from '../schemas.js';

const GroupName = Type.String({ minLength: 1, maxLength: 100 });
const Description = Type.String({ maxLength: 1000 });
const Members = Type.Array(Id, { maxItems: 1000, description: 'Ids of users and service accounts' });

/** `/groups`: roles held by a group are held by its members (SPEC 1). */
export function groupRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/groups',
      { schema: { tags: ['groups'], summary: 'List groups', security: bearerSecurity, querystring: ListQuery, response: { 200: PageOf(GroupBody), ...problemResponses } } },
      async (request) => {
        const page = await container.directory.listGroups(actorContext(request, container), {
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
          q: request.query.q,
        });
        return { items: page.items.map(groupBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/groups',
      {
        schema: {
          tags: ['groups'],
          summary: 'Create a group',
          security: bearerSecurity,
          body: Type.Object(
            { name: GroupName, description: Type.Optional(Description), members: Type.Optional(Members), roles: Type.Optional(RoleNames) },
            { additionalProperties: false },
          ),
          response: { 201: GroupBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const group = await container.directory.createGroup(actorContext(request, container), request.body);
        return reply.code(201).send(groupBody(group));
      },
    );

    app.get(
      '/groups/:id',
      { schema: { tags: ['groups'], summary: 'Show a group', security: bearerSecurity, params: IdParams, response: { 200: GroupBody, ...problemResponses } } },
      async (request) => groupBody(await container.directory.getGroup(actorContext(request, container), request.params.id)),
    );

    app.patch(
      '/groups/:id',
      {
        schema: {
          tags: ['groups'],
          summary: 'Edit a group (members and roles are replaced as given)',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object(
            { name: Type.Optional(GroupName), description: Type.Optional(Description), members: Type.Optional(Members), roles: Type.Optional(RoleNames) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: GroupBody, ...problemResponses },
        },
      },
      async (request) => groupBody(await container.directory.updateGroup(actorContext(request, container), request.params.id, request.body)),
    );

    app.delete(
      '/groups/:id',
      { schema: { tags: ['groups'], summary: 'Delete a group', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.directory.deleteGroup(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
