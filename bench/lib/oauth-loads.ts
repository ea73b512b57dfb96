import type { RunningServer } from '@tessera/server';
import type { LoadOptions } from './load.js';

export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

/** The algorithm a run signs with: BENCH_ALGORITHM, ES256 by default as the server's own default. */
export const benchAlgorithm = (process.env['BENCH_ALGORITHM'] ?? 'ES256') as SigningAlgorithm;

/** Server settings of the OAuth benchmarks: silent, no rate limit in the load's way, one signing algorithm. */
export const oauthBenchEnv = (algorithm: SigningAlgorithm) => ({
  TESSERA_LOG_LEVEL: 'silent',
  TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000',
  TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '1000000',
  TESSERA_SIGNING_ALGORITHM: algorithm,
});

export const form = 'application/x-www-form-urlencoded';
export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** One JSON call to the management API; anything but a 2xx throws. */
export async function call(server: RunningServer, method: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(server.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/**
 * Sets up what the OAuth benchmarks load (an API token, a worker app, a resource-server app
 * that may introspect, an access token) and returns the three loads: the refresh grant, the
 * client-credentials grant (HTTP Basic) and introspection of an access token.
 */
export async function prepareOAuthLoads(server: RunningServer, adminPassword = 'bench admin password') {
  const session = (await call(server, 'POST', '/api/v1/sessions', { username: 'admin', password: adminPassword })).session_token as string;
  const apiToken = await call(server, 'POST', '/api/v1/tokens', { name: 'bench', scope: { kind: 'all' }, expires: '30D' }, session);
  const worker = await call(server, 'POST', '/api/v1/apps', { name: 'bench-worker', roles: ['member'] }, session);
  const resourceServer = await call(server, 'POST', '/api/v1/apps', { name: 'bench-api', can_introspect: true }, session);
  const loads = {
    refresh: { url: `${server.url}/oauth/token`, method: 'POST', headers: { 'content-type': form }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiToken.token as string }).toString() },
    clientCredentials: {
      url: `${server.url}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': form, authorization: basic(worker.client_id as string, worker.client_secret as string) },
      body: 'grant_type=client_credentials',
    },
    introspection: {
      url: `${server.url}/oauth/introspect`,
      method: 'POST',
      headers: { 'content-type': form, authorization: basic(resourceServer.client_id as string, resourceServer.client_secret as string) },
      body: new URLSearchParams({ token: apiToken.access_token as string }).toString(),
    },
  } satisfies Record<string, LoadOptions>;
  return loads;
}
