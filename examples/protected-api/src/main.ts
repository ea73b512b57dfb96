/**
 * Starts the example plans API, configured by the environment:
 *   TESSERA_URL            where Tessera is (default http://127.0.0.1:8080)
 *   TESSERA_ISSUER         the tokens' iss, when Tessera sets TESSERA_ISSUER (default TESSERA_URL)
 *   TESSERA_AUDIENCE       the tokens' aud (default api)
 *   TESSERA_CLIENT_ID      an app with can_introspect (required)
 *   TESSERA_CLIENT_SECRET  its secret (required)
 *   HOST, PORT             where this API listens (default 127.0.0.1:3000)
 */
import { createProtectedApi } from './create-protected-api.js';

const env = process.env;
const clientId = env['TESSERA_CLIENT_ID'];
const clientSecret = env['TESSERA_CLIENT_SECRET'];
if (!clientId || !clientSecret) {
  console.error('Set TESSERA_CLIENT_ID and TESSERA_CLIENT_SECRET to a Tessera app created with "can_introspect": true.');
  process.exit(2);
}
const tesseraUrl = env['TESSERA_URL'] ?? 'http://127.0.0.1:8080';
const host = env['HOST'] ?? '127.0.0.1';
const port = Number(env['PORT'] ?? 3000);

const { app, verifier } = createProtectedApi({
  tesseraUrl,
  clientId,
  clientSecret,
  ...(env['TESSERA_ISSUER'] && { issuer: env['TESSERA_ISSUER'] }),
  ...(env['TESSERA_AUDIENCE'] && { audience: env['TESSERA_AUDIENCE'] }),
});

// Listen once the feed's backlog is in, so no revoked token slips through at start. If the feed
// cannot be reached, listen anyway: the SDK answers 503 until it can, rather than guess.
const synced = await Promise.race([verifier.ready().then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 10_000, false).unref())]);
if (!synced) console.error(`The revocation feed at ${tesseraUrl}/oauth/revocations has not answered; requests get 503 until it does.`);

await app.listen({ host, port });
console.log(`protected-api listening on http://${host}:${port}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
