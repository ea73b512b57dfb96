import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from '../support/server.js';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: unknown }> };
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
});
