import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { DisplayName, IdParams, ListQuery, OrgBody, PageOf, NewPassword, PrincipalBody, Username, bearerSecurity, orgBody, principalBody, problemResponses } from '../schemas.js';

const OrgName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$', description: 'Lowercase letters, digits and -' });

/** `/orgs`: organizations, managed by instance admins. */
export function orgRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/orgs',
      { schema: { tags: ['organizations'], summary: 'List organizations (instance admin)', security: bearerSecurity, querystring: ListQuery, response: { 200: PageOf(OrgBody), ...problemResponses } } },
      async (request) => {
        const page = await container.directory.listOrgs(actorContext(request, container), {
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
          q: request.query.q,
        });
        return { items: page.items.map(orgBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/orgs',
      {
        schema: {
          tags: ['organizations'],
          summary: 'Create an organization with its first owner (instance admin)',
          security: bearerSecurity,
          body: Type.Object(
            {
              name: OrgName,
              display_name: Type.Optional(DisplayName),
              owner: Type.Object({ username: Username, password: NewPassword }, { additionalProperties: false }),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ org: OrgBody, owner: PrincipalBody }), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { org, owner } = await container.directory.createOrg(actorContext(request, container), {
          name: request.body.name,
          displayName: request.body.display_name,
          owner: request.body.owner,
        });
        return reply.code(201).send({ org: orgBody(org), owner: principalBody(owner) });
      },
    );

    app.get(
      '/orgs/:id',
      { schema: { tags: ['organizations'], summary: 'Show an organization', security: bearerSecurity, params: IdParams, response: { 200: OrgBody, ...problemResponses } } },
      async (request) => orgBody(await container.directory.getOrg(actorContext(request, container), request.params.id)),
    );

    app.patch(
      '/orgs/:id',
      {
        schema: {
          tags: ['organizations'],
          summary: 'Rename an organization (instance admin)',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object({ display_name: DisplayName }, { additionalProperties: false }),
          response: { 200: OrgBody, ...problemResponses },
        },
      },
      async (request) => orgBody(await container.directory.updateOrg(actorContext(request, container), request.params.id, { displayName: request.body.display_name })),
    );
  };
}
