import type { FastifyPluginAsync } from 'fastify';
import type { Container } from '../../app/container.js';

/** `GET /.well-known/oauth-authorization-server` (RFC 8414). */
export function metadataRoute(container: Container): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/.well-known/oauth-authorization-server',
      {
        schema: {
          tags: ['oauth'],
          summary: 'Authorization server metadata (RFC 8414)',
          response: { 200: { type: 'object', required: ['issuer', 'token_endpoint', 'jwks_uri'], additionalProperties: true, properties: { issuer: { type: 'string' }, token_endpoint: { type: 'string' }, jwks_uri: { type: 'string' } } } },
        },
      },
      async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(container.oauth.metadata()),
    );
  };
}

/** `GET /.well-known/jwks.json`: every published signing key (RFC 7517). */
export function jwksRoute(container: Container): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags: ['oauth'],
          summary: 'Public signing keys (JWKS)',
          response: {
            200: {
              type: 'object',
              required: ['keys'],
              properties: {
                keys: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['kty', 'kid', 'alg', 'use'],
                    // The serializer keeps only what is listed: every public member of an OKP, EC and RSA key (RFC 7518 §6, RFC 8037), and nothing private.
                    properties: {
                      kty: { type: 'string', enum: ['OKP', 'EC', 'RSA'] },
                      kid: { type: 'string' },
                      alg: { type: 'string', enum: ['ES256', 'RS256', 'EdDSA'] },
                      use: { type: 'string', enum: ['sig'] },
                      crv: { type: 'string' },
                      x: { type: 'string' },
                      y: { type: 'string' },
                      n: { type: 'string' },
                      e: { type: 'string' },
                    },
                  },
                },
              },
            },
          },
        },
      },
      // Short caching: verifiers refetch on an unknown kid anyway, and rotation must show soon.
      async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(container.keyring.jwks()),
    );
  };
}
