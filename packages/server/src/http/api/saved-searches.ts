import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import type { SavedSearch } from '../../core/model.js';
import { actorContext } from '../request-context.js';
import { tokenSortColumns } from '../../core/store.js';
import { IdParams, Timestamp, bearerSecurity, problemResponses } from '../schemas.js';

/**
 * The GET /tokens parameters a search may save, as query-string text, checked like the list
 * checks them so a saved search always runs (cursor excluded: it belongs to one page).
 */
const Query = Type.Object(
  {
    all: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('idle'), Type.Literal('revoked')])),
    kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    usage: Type.Optional(Type.Literal('never_used')),
    unused_days: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
    used_since: Type.Optional(Type.String({ format: 'date-time' })),
    sort: Type.Optional(Type.String({ pattern: `^-?(${tokenSortColumns.join('|')})$` })),
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]?|1[0-9]{2}|200)$' })),
  },
  {
    additionalProperties: false,
    description: 'GET /api/v1/tokens parameters as query-string text, e.g. {"all":"true","status":"active","q":"ci","sort":"-last_used_at"}',
  },
);
const Name = Type.String({ minLength: 1, maxLength: 100 });

const SavedSearchBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner_id: Type.String(),
  query: Type.Record(Type.String(), Type.String()),
  shared: Type.Boolean(),
  created_at: Timestamp,
});

const body = (search: SavedSearch) => ({
  id: search.id,
  name: search.name,
  owner_id: search.ownerId,
  query: { ...search.query },
  shared: search.shared,
  created_at: search.createdAt.toISOString(),
});

/** `/saved-searches`: named token-list queries, private or shared within the organization. */
export function savedSearchRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/saved-searches',
      { schema: { tags: ['saved searches'], summary: 'Your saved searches and those shared in the organization', security: bearerSecurity, response: { 200: Type.Object({ items: Type.Array(SavedSearchBody) }), ...problemResponses } } },
      async (request) => ({ items: (await container.tokens.listSavedSearches(actorContext(request, container))).map(body) }),
    );
    app.post(
      '/saved-searches',
      {
        schema: {
          tags: ['saved searches'],
          summary: 'Save a search',
          security: bearerSecurity,
          body: Type.Object({ name: Name, query: Query, shared: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
          response: { 201: SavedSearchBody, ...problemResponses },
        },
      },
      async (request, reply) =>
        reply.code(201).send(body(await container.tokens.createSavedSearch(actorContext(request, container), { name: request.body.name, query: request.body.query, shared: request.body.shared ?? false }))),
    );
    app.patch(
      '/saved-searches/:id',
      {
        schema: {
          tags: ['saved searches'],
          summary: 'Rename, change or (un)share one of your searches',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object({ name: Type.Optional(Name), query: Type.Optional(Query), shared: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 }),
          response: { 200: SavedSearchBody, ...problemResponses },
        },
      },
      async (request) => body(await container.tokens.updateSavedSearch(actorContext(request, container), request.params.id, request.body)),
    );
    app.delete(
      '/saved-searches/:id',
      { schema: { tags: ['saved searches'], summary: 'Delete one of your searches', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.tokens.deleteSavedSearch(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
