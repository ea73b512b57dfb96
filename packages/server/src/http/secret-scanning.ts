import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Container } from '../app/container.js';
import { requestContext } from './request-context.js';
import { problemResponses } from './schemas.js';

const header = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * `POST /secret-scanning/github`: GitHub's secret scanning partner program reports our tokens
 * found in public places (SPEC 9). The signature covers the raw body, so this plugin keeps the
 * body as bytes (its own JSON parser, encapsulated to this route) and the domain parses it only
 * once the signature holds.
 */
export function secretScanningRoutes(container: Container): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
    app.post(
      '/secret-scanning/github',
      {
        // The body stays raw bytes until its signature holds (the domain then parses it, naming
        // the faulty entry), so schema validation of the body would check the wrong thing.
        validatorCompiler: () => () => true,
        schema: {
          tags: ['secret-scanning'],
          summary: 'Secret scanning intake (GitHub partner program): revokes reported live tokens, answers one label per match',
          description:
            'Body: a JSON array of {token, type, url, source}, signed with ECDSA P-256 / SHA-256 over the raw body (Github-Public-Key-Signature: base64 DER; Github-Public-Key-Identifier: the key). Unsigned or badly signed: 401 and nothing changes.',
          // Documentation only (see validatorCompiler): the headers are read by hand below.
          body: Type.Array(
            Type.Object({ token: Type.String(), type: Type.String(), url: Type.Optional(Type.String()), source: Type.Optional(Type.String()) }),
            { description: 'Signed raw bytes; headers Github-Public-Key-Identifier and Github-Public-Key-Signature' },
          ),
          response: {
            200: Type.Array(Type.Object({ token_raw: Type.String(), token_type: Type.String(), label: Type.Union([Type.Literal('true_positive'), Type.Literal('false_positive')]) })),
            ...problemResponses,
          },
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const { labels, revoked } = await container.secretScanning.intake(
          body,
          { keyId: header(request.headers['github-public-key-identifier']), signature: header(request.headers['github-public-key-signature']) },
          requestContext(request, container),
        );
        // Token ids only: the reported values are secrets.
        request.log.info({ matches: labels.length, revoked }, 'secret scanning report');
        return labels;
      },
    );
  };
}
