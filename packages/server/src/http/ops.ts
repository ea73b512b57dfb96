import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../app/container.js';

/** Liveness and readiness probes for orchestrators. */
export function opsRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/healthz',
      { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          summary: 'The database answers and the instance is not shutting down',
          response: {
            200: Type.Object({ status: Type.Literal('ready') }),
            503: Type.Object({ status: Type.Literal('unavailable') }),
          },
        },
      },
      async (request, reply) => {
        // Draining (SIGTERM): no new work should be routed here, though requests are still served.
        if (container.lifecycle.draining) return reply.code(503).send({ status: 'unavailable' as const });
        try {
          await container.store.ping();
          return { status: 'ready' as const };
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          return reply.code(503).send({ status: 'unavailable' as const });
        }
      },
    );
  };
}
