import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ENDPOINT_PATTERN_SHAPE, EXPIRY_INPUT_PATTERN, IP_ENTRY_SHAPE } from '@tessera/rules';
import { passwordRules } from '../../src/core/auth.js';
import { maxAccessTokenTtlSeconds } from '../../src/core/policy.js';
import { OpenApiConformance, OpenApiDriftError, type OpenApiDocument } from '../support/openapi-conformance.js';
import { adminPassword, startTestServer, type TestServer } from '../support/server.js';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: any }> };
  parameters?: { in: string; name: string; schema?: unknown }[];
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

describe('/openapi.json', () => {
  let ts: TestServer;
  let document: { openapi: string; paths: Record<string, Record<string, Operation>> };

  before(async () => {
    ts = await startTestServer();
    const response = await ts.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    document = response.body;
  });
  after(async () => ts.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.match(document.openapi, /^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as Parameters<Validator["validate"]>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('lists every route of the server', () => {
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)),
    );
    const routes = ts.server.app.routeTable.filter((route) => !route.hidden);
    assert.ok(routes.length > 20);
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      assert.ok(documented.has(`${route.method} ${path}`), `${route.method} ${path} is documented`);
    }
  });

  it('gives every operation a response schema, and every body or parameter a schema', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        const responses = Object.entries(operation.responses ?? {});
        assert.ok(responses.length > 0, `${where} has responses`);
        const success = responses.find(([status]) => status.startsWith('2'));
        assert.ok(success, `${where} has a success response`);
        // RFC 7009 §2.2: revocation answers 200 with an empty body.
        if (success[0] !== '204' && path !== '/oauth/revoke') {
          const media = Object.values(success[1].content ?? {});
          assert.ok(media.length > 0 && media.every((m) => m.schema), `${where} success response has a schema`);
        }
        if (['post', 'put', 'patch'].includes(method) && path !== '/api/v1/sessions/current') {
          const body = Object.values(operation.requestBody?.content ?? {});
          const hasBody = body.length > 0 && body.every((m) => m.schema);
          const bodyless = /\/(rotate|revoke|secret|redeliver|second-factor)$/.test(path);
          assert.ok(hasBody || bodyless, `${where} has a request body schema`);
        }
        for (const parameter of operation.parameters ?? []) assert.ok(parameter.schema, `${where} parameter ${parameter.name} has a schema`);
      }
    }
  });

  const bodySchema = (path: string, method: string) => document.paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema;

  it('documents every error as served: problem details, and RFC 6749 errors on OAuth routes', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (!/^[45]/.test(status)) continue;
          const media = Object.keys(response.content ?? {});
          // 431 is answered before routing, alike for every path (a problem document).
          const expected = status === '431' ? 'application/problem+json' : path.startsWith('/oauth/') ? 'application/json' : path === '/forward-auth' || path === '/readyz' ? media[0] : 'application/problem+json';
          assert.deepEqual(media, [expected], `${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    const exportMedia = Object.keys(document.paths['/api/v1/audit-events/export']?.['get']?.responses?.['200']?.content ?? {});
    assert.deepEqual(exportMedia, ['application/x-ndjson']);
    const feed = document.paths['/oauth/revocations']?.['get']?.responses ?? {};
    assert.deepEqual(Object.keys(feed['200']?.content ?? {}), ['text/event-stream']);
    assert.ok(feed['400'] && feed['401'], 'the feed documents its refusals');
  });

  it('states the rules the server enforces: lengths, ranges, patterns', () => {
    const user = bodySchema('/api/v1/users', 'post');
    assert.equal(user.properties.password.minLength, passwordRules.minLength);
    assert.equal(user.properties.ip_allowlist.items.pattern, IP_ENTRY_SHAPE);
    assert.equal(bodySchema('/api/v1/me/password', 'put').properties.new_password.minLength, passwordRules.minLength);
    assert.equal(bodySchema('/api/v1/orgs', 'post').properties.owner.properties.password.minLength, passwordRules.minLength);
    // Logging in takes whatever password was set.
    assert.equal(bodySchema('/api/v1/sessions', 'post').properties.password.minLength, 1);

    const policy = bodySchema('/api/v1/policy', 'put');
    assert.equal(policy.properties.access_token_ttl_seconds.minimum, 60);
    assert.equal(policy.properties.access_token_ttl_seconds.maximum, maxAccessTokenTtlSeconds);
    assert.equal(policy.properties.password_expiry_seconds.anyOf[0].minimum, 86_400);

    const token = bodySchema('/api/v1/tokens', 'post');
    assert.equal(token.properties.expires.anyOf[0].pattern, EXPIRY_INPUT_PATTERN);
    assert.equal(token.properties.scope.properties.kind.pattern, '^[a-z0-9][a-z0-9_-]*$');
    assert.equal(token.properties.scope.properties.endpoints.items.pattern, ENDPOINT_PATTERN_SHAPE);
    assert.equal(bodySchema('/api/v1/presets', 'post').properties.endpoints.items.pattern, ENDPOINT_PATTERN_SHAPE);
    assert.doesNotMatch(JSON.stringify(document), /x-domain-rules|x-optional-body/);
    // Actions whose options are all optional take no body at all (found by Schemathesis).
    assert.equal(document.paths['/api/v1/tokens/revoke-all']?.['post']?.requestBody?.['required' as never], false);
    assert.equal(document.paths['/api/v1/tokens']?.['post']?.requestBody?.['required' as never], true);
  });

  it('refuses what its documented rules refuse, answering as documented', async () => {
    const session = await ts.login('admin', adminPassword);
    const short = await ts.request('POST', '/api/v1/users', { token: session, body: { username: 'shorty', password: 'x'.repeat(passwordRules.minLength - 1) } });
    assert.equal(short.status, 400);
    assert.equal(short.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(short.body.field, '/password');
    const ttl = await ts.request('PUT', '/api/v1/policy', { token: session, body: { access_token_ttl_seconds: 59 } });
    assert.equal(ttl.status, 400);
    assert.equal(ttl.body.field, '/access_token_ttl_seconds');
  });

  it('the conformance check catches a response the document does not describe', () => {
    const check = new OpenApiConformance(document as unknown as OpenApiDocument);
    const problem = JSON.stringify({ type: 'urn:x', title: 't', status: 404, detail: 'd', code: 'NOT_FOUND', request_id: 'r' });
    assert.deepEqual(check.problemsWith({ method: 'GET', path: '/api/v1/users/abc', status: 404, contentType: 'application/problem+json', text: problem }), []);
    assert.match(check.problemsWith({ method: 'GET', path: '/api/v1/users/abc', status: 404, contentType: 'application/json', text: problem })[0] ?? '', /as application\/json; documented: application\/problem\+json/);
    assert.match(check.problemsWith({ method: 'GET', path: '/api/v1/users/abc', status: 418, contentType: 'application/problem+json', text: problem })[0] ?? '', /does not document/);
    assert.match(check.problemsWith({ method: 'GET', path: '/api/v1/users/abc', status: 200, contentType: 'application/json', text: '{"id":1}' })[0] ?? '', /does not match its schema/);
    assert.throws(() => check.assertConforms({ method: 'GET', path: '/healthz', status: 200, contentType: 'application/json', text: '{"status":"nope"}' }), OpenApiDriftError);
    // Paths and methods outside the document are not its business (404, 405).
    assert.deepEqual(check.problemsWith({ method: 'GET', path: '/nowhere', status: 404, contentType: 'application/problem+json', text: problem }), []);
  });
});
