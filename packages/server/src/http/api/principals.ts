import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import type { PrincipalKind } from '../../core/model.js';
import { actorContext } from '../request-context.js';
import {
  DisplayName,
  Email,
  IdParams,
  IpAllowlist,
  ListQuery,
  PageOf,
  NewPassword,
  PrincipalBody,
  RoleNames,
  Username,
  bearerSecurity,
  principalBody,
  problemResponses,
} from '../schemas.js';

/**
 * `/users` and `/service-accounts`: the same resource shape, except that only users have a
 * password (service accounts act only through tokens, SPEC 1).
 */
export function principalRoutes(container: Container, kind: PrincipalKind): FastifyPluginAsyncTypebox {
  const isUser = kind === 'user';
  const path = isUser ? '/users' : '/service-accounts';
  const tag = isUser ? 'users' : 'service accounts';
  const noun = isUser ? 'user' : 'service account';

  const CreateBody = Type.Object(
    {
      username: Username,
      display_name: Type.Optional(DisplayName),
      email: Type.Optional(Type.Union([Email, Type.Null()])),
      ...(isUser && { password: NewPassword }),
      roles: Type.Optional(RoleNames),
      ip_allowlist: Type.Optional(IpAllowlist),
    },
    { additionalProperties: false },
  );
  const UpdateBody = Type.Object(
    {
      display_name: Type.Optional(DisplayName),
      email: Type.Optional(Type.Union([Email, Type.Null()])),
      status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
      ...(isUser && { password: Type.Optional(NewPassword) }),
      roles: Type.Optional(RoleNames),
      ip_allowlist: Type.Optional(IpAllowlist),
    },
    { additionalProperties: false, minProperties: 1 },
  );

  return async (app) => {
    app.get(
      path,
      {
        schema: {
          tags: [tag],
          summary: `List ${noun}s`,
          security: bearerSecurity,
          querystring: ListQuery,
          response: { 200: PageOf(PrincipalBody), ...problemResponses },
        },
      },
      async (request) => {
        const page = await container.directory.listPrincipals(actorContext(request, container), kind, {
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
          q: request.query.q,
        });
        return { items: page.items.map(principalBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      path,
      {
        schema: {
          tags: [tag],
          summary: `Create a ${noun}`,
          description: 'Needs users.manage; every right of the given roles must be held by the caller. Roles default to ["member"].',
          security: bearerSecurity,
          body: CreateBody,
          response: { 201: PrincipalBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const body = request.body as { username: string; display_name?: string; email?: string | null; password?: string; roles?: string[]; ip_allowlist?: string[] };
        const created = await container.directory.createPrincipal(actorContext(request, container), kind, {
          username: body.username,
          displayName: body.display_name,
          email: body.email,
          password: body.password,
          roles: body.roles,
          ipAllowlist: body.ip_allowlist,
        });
        return reply.code(201).send(principalBody(created));
      },
    );

    app.get(
      `${path}/:id`,
      { schema: { tags: [tag], summary: `Show a ${noun}`, security: bearerSecurity, params: IdParams, response: { 200: PrincipalBody, ...problemResponses } } },
      async (request) => principalBody(await container.directory.getPrincipal(actorContext(request, container), kind, request.params.id)),
    );

    app.patch(
      `${path}/:id`,
      {
        schema: {
          tags: [tag],
          summary: `Edit a ${noun}`,
          description: 'Disabling ends its sessions and makes its tokens unusable at once.',
          security: bearerSecurity,
          params: IdParams,
          body: UpdateBody,
          response: { 200: PrincipalBody, ...problemResponses },
        },
      },
      async (request) => {
        const body = request.body as { display_name?: string; email?: string | null; status?: 'active' | 'disabled'; password?: string; roles?: string[]; ip_allowlist?: string[] };
        const updated = await container.directory.updatePrincipal(actorContext(request, container), kind, request.params.id, {
          displayName: body.display_name,
          email: body.email,
          status: body.status,
          password: body.password,
          roles: body.roles,
          ipAllowlist: body.ip_allowlist,
        });
        return principalBody(updated);
      },
    );

    app.delete(
      `${path}/:id`,
      { schema: { tags: [tag], summary: `Delete a ${noun}`, security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.directory.deletePrincipal(actorContext(request, container), kind, request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
