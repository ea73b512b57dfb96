import { createVerifier, fastifyAuth, type Auth, type Verifier } from '@tessera/verify';
import Fastify, { type FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `fastifyAuth` on every request it lets through; null only outside its scope. */
    auth: Auth | null;
  }
}

export interface ProtectedApiOptions {
  /** Where this server reaches Tessera: JWKS, introspection and the revocation feed live under it. */
  readonly tesseraUrl: string;
  /** The `iss` of Tessera's tokens; default `tesseraUrl` (Tessera's TESSERA_ISSUER, when it is set). */
  readonly issuer?: string;
  /** The `aud` this API accepts; default `api` (Tessera's TESSERA_AUDIENCE). */
  readonly audience?: string;
  /** A Tessera app with `can_introspect`: it follows the revocation feed and introspects direct tokens. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Refuse every request with 503 after this long without word from the feed; default 30 s. */
  readonly maxStalenessSeconds?: number;
  /** Reverse proxies in front of this API whose X-Forwarded-For is believed. */
  readonly trustedProxies?: readonly string[];
  /** Fastify's logger option; default off. */
  readonly logger?: boolean;
}

export interface ProtectedApi {
  readonly app: FastifyInstance;
  readonly verifier: Verifier;
}

export interface Plan {
  readonly id: string;
  readonly name: string;
  readonly price_cents: number;
  readonly created_by: string | null;
}

/**
 * A small plans API behind @tessera/verify. `GET /healthz` is open; `GET /plans`,
 * `GET /plans/:id`, `POST /plans` and `GET /me` need a Tessera access token (or a direct API
 * token) whose scope covers the method and path. The verifier is closed with the app.
 *
 * @example
 * ```ts
 * const { app, verifier } = createProtectedApi({ tesseraUrl: 'http://127.0.0.1:8080', clientId, clientSecret });
 * await verifier.ready();
 * await app.listen({ port: 3000 });
 * ```
 */
export function createProtectedApi(options: ProtectedApiOptions): ProtectedApi {
  const tesseraUrl = options.tesseraUrl.replace(/\/$/, '');
  const credentials = { clientId: options.clientId, clientSecret: options.clientSecret };
  const verifier = createVerifier({
    issuer: options.issuer ?? tesseraUrl,
    audience: options.audience ?? 'api',
    jwksUri: `${tesseraUrl}/.well-known/jwks.json`,
    ...(options.trustedProxies && { trustedProxies: options.trustedProxies }),
    introspection: { ...credentials, url: `${tesseraUrl}/oauth/introspect` },
    revocations: {
      ...credentials,
      url: `${tesseraUrl}/oauth/revocations`,
      ...(options.maxStalenessSeconds !== undefined && { maxStalenessSeconds: options.maxStalenessSeconds }),
    },
  });

  const plans = new Map<string, Plan>([
    ['1', { id: '1', name: 'Starter', price_cents: 0, created_by: null }],
    ['2', { id: '2', name: 'Business', price_cents: 4900, created_by: null }],
  ]);

  const app = Fastify({ logger: options.logger ?? false });
  app.addHook('onClose', async () => verifier.close());

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Everything registered in this child scope is protected; /healthz above is not.
  void app.register(async (api) => {
    await api.register(fastifyAuth(verifier));

    api.get('/plans', async () => ({ items: [...plans.values()] }));

    api.get<{ Params: { id: string } }>('/plans/:id', async (request, reply) => {
      const plan = plans.get(request.params.id);
      return plan ?? reply.code(404).send({ error: 'not_found', error_description: `No plan ${request.params.id}` });
    });

    api.post<{ Body: { name: string; price_cents?: number } }>(
      '/plans',
      {
        schema: {
          body: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, price_cents: { type: 'integer', minimum: 0 } },
          },
        },
      },
      async (request, reply) => {
        const plan: Plan = { id: String(plans.size + 1), name: request.body.name, price_cents: request.body.price_cents ?? 0, created_by: request.auth?.sub ?? null };
        plans.set(plan.id, plan);
        return reply.code(201).send(plan);
      },
    );

    // What the SDK hands a handler: subject, organization, roles, the API token id and the scope.
    api.get('/me', async (request) => request.auth);
  });

  return { app, verifier };
}
