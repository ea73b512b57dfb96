import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { IdParams, Right, RoleBody, RoleName, bearerSecurity, problemResponses, roleBody } from '../schemas.js';

const Description = Type.String({ maxLength: 1000 });
const Rights = Type.Array(Right, { maxItems: 20 });

/** `/roles`: the built-in roles and the organization's custom ones. */
export function roleRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/roles',
      { schema: { tags: ['roles'], summary: 'List built-in and custom roles', security: bearerSecurity, response: { 200: Type.Object({ items: Type.Array(RoleBody) }), ...problemResponses } } },
      async (request) => ({ items: (await container.directory.listRoles(actorContext(request, container))).map(roleBody) }),
    );

    app.post(
      '/roles',
      {
        schema: {
          tags: ['roles'],
          summary: 'Create a custom role',
          description: 'Needs users.manage and every right the role carries.',
          security: bearerSecurity,
          body: Type.Object({ name: RoleName, description: Type.Optional(Description), rights: Rights }, { additionalProperties: false }),
          response: { 201: RoleBody, ...problemResponses },
        },
      },
      async (request, reply) => reply.code(201).send(roleBody(await container.directory.createRole(actorContext(request, container), request.body))),
    );

    app.get(
      '/roles/:id',
      { schema: { tags: ['roles'], summary: 'Show a role', security: bearerSecurity, params: IdParams, response: { 200: RoleBody, ...problemResponses } } },
      async (request) => roleBody(await container.directory.getRole(actorContext(request, container), request.params.id)),
    );

    app.patch(
      '/roles/:id',
      {
        schema: {
          tags: ['roles'],
          summary: 'Edit a custom role',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object({ description: Type.Optional(Description), rights: Type.Optional(Rights) }, { additionalProperties: false, minProperties: 1 }),
          response: { 200: RoleBody, ...problemResponses },
        },
      },
      async (request) => roleBody(await container.directory.updateRole(actorContext(request, container), request.params.id, request.body)),
    );

    app.delete(
      '/roles/:id',
      { schema: { tags: ['roles'], summary: 'Delete a custom role', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.directory.deleteRole(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
