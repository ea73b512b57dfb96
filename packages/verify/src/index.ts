/**
 * @tessera/verify: verify Tessera access tokens in your API servers. Local JWT verification
 * against the published JWKS, endpoint scope and IP allowlist checks through @tessera/rules
 * (the server's own rules), the revocation feed, and thin adapters for Node http, Express,
 * Fastify and fetch-style frameworks such as Hono.
 *
 * @example
 * ```ts
 * import { createVerifier, fastifyAuth } from '@tessera/verify';
 *
 * const verifier = createVerifier({ issuer: 'https://tessera.example.com', audience: 'api', revocations: { clientId, clientSecret } });
 * await app.register(fastifyAuth(verifier));
 * ```
 *
 * @packageDocumentation
 */
export { createVerifier, type Verifier, type VerifierOptions } from './verifier.js';
export { refuse, refusalBody, type Auth, type Verdict, type VerifyError } from './verdict.js';
export { fromNodeRequest, fromFetchRequest, type RequestLike } from './request.js';
export { RevocationFeed, type Revocation, type RevocationFeedOptions } from './revocation-feed.js';
export { protect, sendRefusal } from './adapters/node.js';
export { expressAuth } from './adapters/express.js';
export { fastifyAuth } from './adapters/fastify.js';
export { fetchAuth, refusalResponse } from './adapters/fetch.js';
