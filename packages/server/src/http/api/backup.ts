import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../../app/container.js';
import { actorContext } from '../request-context.js';
import { bearerSecurity, problemResponses } from '../schemas.js';

/** `GET /backup`: the embedded database, copied while the server runs (`tessera backup`). */
export function backupRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/backup',
      {
        schema: {
          tags: ['operations'],
          summary: 'Copy the embedded database (instance admin, interactive login)',
          description:
            'A gzipped tar of the PGlite data directory, taken between two transactions, which `tessera restore` turns into a data directory. It holds no secret key: the restored server needs the one of this instance. On PostgreSQL: 409, use pg_dump.',
          security: bearerSecurity,
          response: {
            200: { description: 'application/gzip: the data directory as a tar', content: { 'application/gzip': { schema: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' }) } } },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const copy = await container.backup.backup(actorContext(request, container));
        const stamp = container.clock.now().toISOString().slice(0, 19).replaceAll(':', '-');
        return reply
          .header('content-type', 'application/gzip')
          .header('content-disposition', `attachment; filename="tessera-backup-${stamp}.tar.gz"`)
          .header('cache-control', 'no-store')
          .send(Buffer.from(await copy.arrayBuffer()));
      },
    );
  };
}
