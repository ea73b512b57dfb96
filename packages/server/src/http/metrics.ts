import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Container } from '../app/container.js';

/**
 * Prometheus metrics (SPEC 7, operations) at `GET /metrics`: process and runtime metrics, and
 * every request counted and timed by method, route pattern and status.
 *
 * Labels are the route as registered (`/api/v1/tokens/:id`), never the URL: an id, a token or
 * anything a caller typed never becomes a label (SPEC: no secret in a metric label). Requests
 * that match no route are counted under `unmatched`.
 *
 * One registry per app, so several servers in one process (tests) keep their figures apart.
 */
export function registerMetrics(app: FastifyInstance, container: Container): void {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'tessera' });
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });

  const requests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'tessera_revocation_feed_followers',
    help: 'Resource servers following this instance’s revocation feed.',
    registers: [registry],
    collect() {
      this.set(container.revocationHub.followers());
    },
  });
  new Gauge({
    name: 'tessera_signing_keys_published',
    help: 'Public keys in the JWKS: the active one, the next one and those retired but still verifying.',
    registers: [registry],
    collect() {
      this.set(container.keyring.jwks().keys.length);
    },
  });

  new Gauge({
    name: 'tessera_cache_entries',
    help: 'Entries held in memory by each cache of this instance (read caches of the store, rate-limit windows, verified access tokens); each is bounded and expires on a timer.',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      for (const [cache, size] of Object.entries(container.storage.cacheSizes())) this.set({ cache }, size);
      this.set({ cache: 'rate_limit_windows' }, container.rateLimiter.size());
      this.set({ cache: 'verified_access_tokens' }, container.oauth.verifiedCount());
    },
  });
  // Issue 13: denial audit events, exchange counts (issue 17) and last uses wait in memory until written;
  // `dropped` counts only what a long outage pushed beyond the buffer's cap (or a failed shutdown).
  new Gauge({
    name: 'tessera_buffered_events_waiting',
    help: 'Audit events (token-endpoint denials), token last uses and per-minute exchange counters buffered in memory, not yet written to the database.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const { waiting } = container.usage.stats();
      this.set({ kind: 'audit_event' }, waiting.auditEvents);
      this.set({ kind: 'last_use' }, waiting.lastUses);
      this.set({ kind: 'usage_count' }, waiting.usageCounts);
    },
  });
  new Counter({
    name: 'tessera_buffered_events_dropped_total',
    help: 'Audit events, token last uses and exchange counters dropped unwritten: beyond the buffer cap during an outage, or left when shutdown gave up.',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const { dropped } = container.usage.stats();
      // The recorder keeps the running totals; the counter mirrors them.
      this.reset();
      this.inc({ kind: 'audit_event' }, dropped.auditEvents);
      this.inc({ kind: 'last_use' }, dropped.lastUses);
      this.inc({ kind: 'usage_count' }, dropped.usageCounts);
    },
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
