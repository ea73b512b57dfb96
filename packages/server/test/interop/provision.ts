import assert from 'node:assert/strict';
import { basic, createApp, loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

export const algorithms = ['ES256', 'RS256', 'EdDSA'] as const;
export type Algorithm = (typeof algorithms)[number];

/** What every interop client needs: a real default server over HTTP, an app, an introspecting app and API tokens. */
export interface Provisioned {
  readonly ts: TestServer;
  readonly issuer: string;
  readonly worker: { clientId: string; clientSecret: string };
  readonly resourceServer: { clientId: string; clientSecret: string };
  /** A fresh refreshable API token (id and the token string). */
  apiToken(): Promise<{ id: string; token: string }>;
  /** An access token from the client_credentials grant, fetched with plain fetch. */
  accessToken(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the real server with only TESSERA_SIGNING_ALGORITHM set (everything else default, so
 * the libraries see exactly what a new user's server answers) and provisions it through the
 * REST API.
 */
export async function provision(algorithm: Algorithm): Promise<Provisioned> {
  const ts = await startTestServer({ env: { TESSERA_SIGNING_ALGORITHM: algorithm, TESSERA_TOKEN_RATE_LIMIT_PER_TOKEN: '100000', TESSERA_TOKEN_RATE_LIMIT_PER_ADDRESS: '100000' } });
  const admin = await loginAdmin(ts);
  await ts.request('PUT', '/api/v1/policy', { token: admin, body: { max_tokens_per_user: 1000 } });
  const worker = await createApp(ts, admin, { name: 'interop-worker', roles: ['member'] });
  const resourceServer = await createApp(ts, admin, { name: 'interop-api', can_introspect: true });
  let made = 0;
  return {
    ts,
    issuer: ts.url,
    worker,
    resourceServer,
    async apiToken() {
      const created = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: `interop-${++made}`, scope: { kind: 'all' } } });
      assert.equal(created.status, 201, created.text);
      return { id: created.body.id as string, token: created.body.token as string };
    },
    async accessToken() {
      const response = await ts.form('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(worker.clientId, worker.clientSecret) });
      assert.equal(response.status, 200, response.text);
      return response.body.access_token as string;
    },
    close: () => ts.close(),
  };
}

/** Whether a command exists; in CI a missing one fails the suite instead of skipping it. */
export function requireTool(found: boolean, tool: string, installer: string): boolean {
  if (found) return true;
  if (process.env['CI'] === 'true') throw new Error(`${tool} is missing: CI must run the interop suite (see ${installer})`);
  return false;
}
