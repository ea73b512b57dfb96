import { Readable } from 'node:stream';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import type { AuditEvent } from '../../core/model.js';
import { actorContext } from '../request-context.js';
import { Id, PageOf, Timestamp, bearerSecurity, problemResponses } from '../schemas.js';

const AuditEventBody = Type.Object({
  id: Type.String(),
  occurred_at: Timestamp,
  action: Type.String(),
  outcome: Type.String(),
  actor_principal_id: Type.Union([Type.String(), Type.Null()]),
  actor_token_id: Type.Union([Type.String(), Type.Null()], { description: 'The API token the actor acted through' }),
  target_type: Type.Union([Type.String(), Type.Null()]),
  target_id: Type.Union([Type.String(), Type.Null()]),
  client_ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

function auditBody(event: AuditEvent) {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    action: event.action,
    outcome: event.outcome,
    actor_principal_id: event.actorPrincipalId,
    actor_token_id: event.actorTokenId,
    target_type: event.targetType,
    target_id: event.targetId,
    client_ip: event.clientIp,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: { ...event.details },
  };
}

const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
    action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_.]+\\*?$', description: 'Exact action, or a prefix ending in * (token.*)' })),
    actor: Type.Optional(Id),
    target: Type.Optional(Id),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

/** `/audit-events`: query the append-only audit log (needs audit.read). */
export function auditRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/audit-events',
      {
        schema: {
          tags: ['audit'],
          summary: 'Query the audit log, newest first',
          security: bearerSecurity,
          querystring: AuditQuery,
          response: { 200: PageOf(AuditEventBody), ...problemResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await container.directory.listAudit(actorContext(request, container), {
          limit: q.limit ?? 100,
          cursor: q.cursor,
          action: q.action,
          actor: q.actor,
          target: q.target,
          since: q.since === undefined ? undefined : new Date(q.since),
          until: q.until === undefined ? undefined : new Date(q.until),
        });
        return { items: page.items.map(auditBody), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/audit-events/export',
      {
        schema: {
          tags: ['audit'],
          summary: 'Export the audit log as JSON Lines, newest first, with the same filters',
          security: bearerSecurity,
          querystring: Type.Omit(AuditQuery, ['cursor', 'limit']),
          response: {
            // JSON Lines: the schema is that of each line.
            200: { description: 'One audit event per line, each as in GET /audit-events', content: { 'application/x-ndjson': { schema: AuditEventBody } } },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const ctx = actorContext(request, container);
        const q = request.query;
        const filters = {
          action: q.action,
          actor: q.actor,
          target: q.target,
          since: q.since === undefined ? undefined : new Date(q.since),
          until: q.until === undefined ? undefined : new Date(q.until),
        };
        // The first page is read before answering, so a refusal is still a proper 403.
        const first = await container.directory.listAudit(ctx, { ...filters, limit: 1000 });
        async function* lines() {
          let page = first;
          for (;;) {
            for (const event of page.items) yield `${JSON.stringify(auditBody(event))}\n`;
            if (!page.nextCursor) return;
            page = await container.directory.listAudit(ctx, { ...filters, limit: 1000, cursor: page.nextCursor });
          }
        }
        return reply
          .type('application/x-ndjson')
          .header('content-disposition', 'attachment; filename="audit-events.jsonl"')
          // The type provider types the body from the line schema; a stream of lines is sent as is.
          .send(Readable.from(lines()) as never);
      },
    );
  };
}
