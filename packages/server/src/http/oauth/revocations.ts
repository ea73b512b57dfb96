import type { FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';
import { TesseraError } from '../../core/errors.js';
import { OAuthError } from '../../core/oauth-errors.js';
import type { RevocationEvent } from '../../core/revocations.js';
import { authenticateClient, requireApp } from './client-auth.js';
import { oauthErrorResponse } from './schemas.js';

/** Followers fail closed after a quiet spell (30 s by default); a beat every second keeps a healthy feed well inside any sensible bound. */
const heartbeatMs = 1000;

/**
 * Said to followers when this instance drains: the SSE `retry` field (WHATWG HTML §9.2.6) sets
 * how soon an EventSource reconnects, and the `reconnect` event tells other followers to do so
 * now; they resume from their Last-Event-ID on whichever instance answers.
 */
const reconnectHint = 'retry: 500\nevent: reconnect\ndata: {}\n\n';

/**
 * `GET /oauth/revocations`: the revocation feed as Server-Sent Events, for resource servers
 * (SPEC 5.4). Authenticated as an app allowed to introspect; streams its organization's
 * revocations after `Last-Event-ID` (or from the retention window), then `synced`, then live
 * events, with a heartbeat comment so followers can tell a quiet feed from a dead one.
 */
export function revocationFeedRoute(container: Container): FastifyPluginAsync {
  return async (app) => {
    // Streams never end on their own; closing the server must end them first (preClose: the
    // server waits for open requests before onClose hooks run) or shutdown would hang.
    const streams = new Set<import('node:http').ServerResponse>();
    app.addHook('preClose', async () => {
      for (const stream of streams) stream.destroy();
    });
    container.lifecycle.onDrain(() => {
      for (const stream of streams) stream.end(reconnectHint);
    });
    app.get(
      '/oauth/revocations',
      {
        schema: {
          tags: ['oauth'],
          summary: 'Revocation feed (Server-Sent Events)',
          description:
            'Events `revocation` with data {"kind":"token"|"access_token"|"principal","id":"…","at":<unix seconds>} or {"kind":"cutoff","org":"…","owner":"<principal id>"|null,"before":<unix seconds>,"at":…} (access tokens minted from API tokens of that owner, or of the whole organization, with iat before `before` are revoked), and an id to resume from with Last-Event-ID; `synced` after the backlog; `: ping` comments as heartbeats.',
          response: {
            200: { description: 'Server-Sent Events (HTML Living Standard §9.2)', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            // A bad query or header text (the input guard) and a missing or refused app.
            400: oauthErrorResponse,
            401: oauthErrorResponse,
          },
        },
      },
      async (request, reply) => {
        // A follower that connects to a draining instance is sent elsewhere at once.
        if (container.lifecycle.draining) throw new TesseraError('UNAVAILABLE', 'This instance is shutting down; reconnect to another', { retryAfter: 1 });
        const caller = requireApp(await authenticateClient(request, () => undefined, container.apps), 'the revocation feed');
        if (!caller.canIntrospect) throw new OAuthError('invalid_client', 'This client may not follow the revocation feed; enable can_introspect on the app');
        const lastEventId = request.headers['last-event-id'];
        const after = typeof lastEventId === 'string' && /^[0-9]{1,19}$/.test(lastEventId) ? lastEventId : undefined;

        reply.hijack();
        const out = reply.raw;
        out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        const send = (event: RevocationEvent) => {
          if (event.orgId !== caller.orgId) return;
          const at = Math.floor(event.occurredAt.getTime() / 1000);
          const data = JSON.stringify(
            event.kind === 'cutoff' && event.before
              ? { kind: 'cutoff', id: event.subjectId, org: event.orgId, owner: event.subjectId === '*' ? null : event.subjectId, before: Math.floor(event.before.getTime() / 1000), at }
              : { kind: event.kind, id: event.subjectId, at },
          );
          out.write(`id: ${event.seq}\nevent: revocation\ndata: ${data}\n\n`);
        };
        // Subscribe before reading the backlog so nothing falls between the two; duplicates are harmless.
        const buffered: RevocationEvent[] = [];
        let live = false;
        const unsubscribe = container.revocationHub.subscribe((event) => (live ? send(event) : buffered.push(event)));
        const heartbeat = setInterval(() => out.write(': ping\n\n'), heartbeatMs);
        heartbeat.unref();
        streams.add(out);
        out.on('close', () => {
          clearInterval(heartbeat);
          unsubscribe();
          streams.delete(out);
        });
        try {
          const backlog = await container.revocationHub.backlog(after);
          const seen = new Set(backlog.map((event) => event.seq));
          for (const event of backlog) send(event);
          for (const event of buffered) if (!seen.has(event.seq)) send(event);
          live = true;
          out.write('event: synced\ndata: {}\n\n');
        } catch (error) {
          request.log.error({ err: error }, 'revocation feed backlog failed');
          out.destroy();
        }
      },
    );
  };
}
