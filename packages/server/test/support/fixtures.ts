import assert from 'node:assert/strict';
import { adminPassword, type TestServer } from './server.js';

export const userPassword = 'a long enough password';

export interface TestPrincipal {
  readonly id: string;
  readonly username: string;
  /** Session token (users only). */
  readonly token: string;
}

/** Logs in as the instance admin. */
export function loginAdmin(ts: TestServer): Promise<string> {
  return ts.login('admin', adminPassword);
}

/** Creates a user with the given roles through the API and logs it in. */
export async function createUser(ts: TestServer, adminToken: string, username: string, roles: string[] = ['member']): Promise<TestPrincipal> {
  const response = await ts.request('POST', '/api/v1/users', {
    token: adminToken,
    body: { username, password: userPassword, roles },
  });
  assert.equal(response.status, 201, response.text);
  return { id: response.body.id, username, token: await ts.login(username, userPassword) };
}

/** Creates a second organization with its owner, logged in. */
export async function createOrg(ts: TestServer, adminToken: string, name: string): Promise<TestPrincipal & { orgId: string }> {
  const response = await ts.request('POST', '/api/v1/orgs', {
    token: adminToken,
    body: { name, owner: { username: `${name}-owner`, password: userPassword } },
  });
  assert.equal(response.status, 201, response.text);
  return {
    id: response.body.owner.id,
    orgId: response.body.org.id,
    username: `${name}-owner`,
    token: await ts.login(`${name}-owner`, userPassword, name),
  };
}

/** Asserts an RFC 9457 problem response with the given status, code and (optionally) field. */
export function assertProblem(
  response: { status: number; headers: Headers; body: unknown; text: string },
  status: number,
  code?: string,
  field?: string,
): void {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = response.body as Record<string, unknown>;
  assert.equal(body['status'], status);
  assert.equal(typeof body['detail'], 'string');
  assert.equal(typeof body['type'], 'string');
  assert.ok(!/\bat [\w.<>]+ \(/.test(response.text), 'no stack trace in a problem');
  if (code !== undefined) assert.equal(body['code'], code);
  if (field !== undefined) assert.equal(body['field'], field);
}

/** Creates an app through the API; returns its client id and the secret shown once. */
export async function createApp(
  ts: TestServer,
  adminToken: string,
  body: { name: string; roles?: string[]; can_introspect?: boolean; access_token_ttl_seconds?: number | null },
): Promise<{ id: string; clientId: string; clientSecret: string }> {
  const response = await ts.request('POST', '/api/v1/apps', { token: adminToken, body });
  assert.equal(response.status, 201, response.text);
  return { id: response.body.id, clientId: response.body.client_id, clientSecret: response.body.client_secret };
}

/** HTTP Basic credentials per RFC 6749 §2.3.1 (each part form-encoded first). */
export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
