import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { webhookEventTypes, type WebhookDelivery, type WebhookEndpoint } from '../../core/webhook-model.js';
import { actorContext } from '../request-context.js';
import { Id, IdParams, PageOf, Timestamp, bearerSecurity, problemResponses, withDomainRules } from '../schemas.js';

// The scheme rule is the domain's (core/webhooks.ts), with its own message; the document states it too.
const Url = withDomainRules(
  Type.String({ minLength: 1, maxLength: 2000, description: 'http:// or https://; public addresses only unless TESSERA_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true' }),
  { pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+' },
);
const Events = Type.Array(Type.String({ enum: [...webhookEventTypes] }), { minItems: 1, maxItems: webhookEventTypes.length, uniqueItems: true });
const Description = Type.String({ maxLength: 1000 });
const Page = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })), cursor: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

const EndpointBody = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const EndpointWithSecret = Type.Intersect([
  EndpointBody,
  Type.Object({ secret: Type.String({ description: 'The signing secret (Standard Webhooks, whsec_…): shown once; verify deliveries with it' }) }),
]);
const DeliveryBody = Type.Object({
  id: Type.String({ description: 'The webhook-id header of every attempt' }),
  event_type: Type.String(),
  created_at: Timestamp,
  status: Type.String({ enum: ['pending', 'delivered', 'failed', 'cancelled'] }),
  attempts: Type.Integer({ minimum: 0 }),
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  last_attempt_at: Type.Union([Timestamp, Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Type.Union([Timestamp, Type.Null()]),
});

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function endpointBody(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: [...endpoint.events],
    enabled: endpoint.enabled,
    created_by: endpoint.createdBy,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

function deliveryBody(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    event_type: delivery.eventType,
    created_at: delivery.createdAt.toISOString(),
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: iso(delivery.nextAttemptAt),
    last_attempt_at: iso(delivery.lastAttemptAt),
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    delivered_at: iso(delivery.deliveredAt),
  };
}

/** `/webhooks`: endpoints receiving signed token events (SPEC 9); needs apps.manage and tokens.read_all. */
export function webhookRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['webhooks'];
    app.get(
      '/webhooks',
      { schema: { tags, summary: 'List webhook endpoints', security: bearerSecurity, querystring: Page, response: { 200: PageOf(EndpointBody), ...problemResponses } } },
      async (request) => {
        const page = await container.webhooks.list(actorContext(request, container), { limit: request.query.limit ?? 50, cursor: request.query.cursor });
        return { items: page.items.map(endpointBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/webhooks',
      {
        schema: {
          tags,
          summary: 'Create a webhook endpoint; the signing secret is shown once',
          security: bearerSecurity,
          body: Type.Object({ url: Url, events: Events, description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
          response: { 201: EndpointWithSecret, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { endpoint, secret } = await container.webhooks.create(actorContext(request, container), request.body);
        return reply.code(201).send({ ...endpointBody(endpoint), secret });
      },
    );

    app.get(
      '/webhooks/:id',
      { schema: { tags, summary: 'Show a webhook endpoint', security: bearerSecurity, params: IdParams, response: { 200: EndpointBody, ...problemResponses } } },
      async (request) => endpointBody(await container.webhooks.get(actorContext(request, container), request.params.id)),
    );

    app.patch(
      '/webhooks/:id',
      {
        schema: {
          tags,
          summary: 'Edit a webhook endpoint (URL, events, description, enabled)',
          security: bearerSecurity,
          params: IdParams,
          body: Type.Object(
            { url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: EndpointBody, ...problemResponses },
        },
      },
      async (request) => endpointBody(await container.webhooks.update(actorContext(request, container), request.params.id, request.body)),
    );

    app.delete(
      '/webhooks/:id',
      { schema: { tags, summary: 'Delete a webhook endpoint; its pending deliveries are cancelled', security: bearerSecurity, params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
      async (request, reply) => {
        await container.webhooks.remove(actorContext(request, container), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/webhooks/:id/deliveries',
      {
        schema: {
          tags,
          summary: "An endpoint's delivery log, newest first",
          security: bearerSecurity,
          params: IdParams,
          querystring: Page,
          response: { 200: PageOf(DeliveryBody), ...problemResponses },
        },
      },
      async (request) => {
        const page = await container.webhooks.deliveries(actorContext(request, container), request.params.id, { limit: request.query.limit ?? 50, cursor: request.query.cursor });
        return { items: page.items.map(deliveryBody), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/webhooks/:id/deliveries/:delivery/redeliver',
      {
        schema: {
          tags,
          summary: 'Send a delivery again (same webhook-id), whatever its status',
          security: bearerSecurity,
          params: Type.Object({ id: Id, delivery: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false }),
          response: { 202: DeliveryBody, ...problemResponses },
        },
      },
      async (request, reply) => {
        const delivery = await container.webhooks.redeliver(actorContext(request, container), request.params.id, request.params.delivery);
        return reply.code(202).send(deliveryBody(delivery));
      },
    );
  };
}
