import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, loadPresets } from '../../src/config/config.js';
import { loginAdmin } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const example = fileURLToPath(new URL('../../../../docs/presets.example.json', import.meta.url));

/** TESSERA_PRESETS_FILE (SPEC 3.5): read and validated at boot, errors naming the file and entry. */
describe('presets from the configuration file', () => {
  it('reads the documented example: the seeds\' recovery, SCIM and refreshable presets', () => {
    const presets = loadPresets(example);
    assert.deepEqual(presets.map((p) => [p.name, p.mode, p.scopeLocked]), [
      ['recovery', 'direct', true],
      ['scim', 'direct', true],
      ['hyperscale', 'refreshable', false],
    ]);
    assert.deepEqual(presets[0]?.endpoints, ['/Client', '/MediaAgent', '/ClientGroup', '/V4/ServerGroup', '/FirewallSummary']);
    assert.equal(presets[0]?.defaultLifetimeSeconds, 30 * 86_400);
    assert.equal(presets[2]?.defaultLifetimeSeconds, null);
    assert.deepEqual(loadConfig({ TESSERA_PRESETS_FILE: example }).presets, presets);
  });

  it('refuses a bad file at boot with the file, the entry and the fix', () => {
    const bad = (document: unknown) => () => loadPresets('/etc/tessera/presets.json', () => (typeof document === 'string' ? document : JSON.stringify(document)));
    const entry = { name: 'ok', endpoints: ['/plans'], mode: 'direct' };
    const cases: [unknown, RegExp][] = [
      ['{"presets": [', /not valid JSON/],
      [{ preset: [] }, /"presets" array/],
      [{ presets: [entry, { ...entry, name: 'x', endpoints: ['plans'] }] }, /presets\[1\]\.endpoints: .*\/plans/],
      [{ presets: [{ ...entry, endpoints: [] }] }, /presets\[0\]\.endpoints must list at least one/],
      [{ presets: [entry, entry] }, /presets\[1\]\.name "ok" is defined twice/],
      [{ presets: [{ ...entry, name: 'all' }] }, /presets\[0\]\.name/],
      [{ presets: [{ ...entry, mode: 'bearer' }] }, /presets\[0\]\.mode/],
      [{ presets: [{ ...entry, default_lifetime: '1.5D' }] }, /presets\[0\]\.default_lifetime: .*fractions/],
      [{ presets: [{ ...entry, endpoint: ['/x'] }] }, /presets\[0\]\.endpoint is not a known field/],
    ];
    for (const [document, message] of cases) {
      assert.throws(bad(document), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.option, 'TESSERA_PRESETS_FILE');
        assert.match(error.message, /\/etc\/tessera\/presets\.json/);
        assert.match(error.message, message);
        return true;
      });
    }
    assert.throws(() => loadConfig({ TESSERA_PRESETS_FILE: '/nonexistent/presets.json' }), /TESSERA_PRESETS_FILE: \/nonexistent\/presets\.json: cannot be read/);
  });

  describe('served', () => {
    let ts: TestServer;
    let admin: string;
    before(async () => {
      ts = await startTestServer({ env: { TESSERA_PRESETS_FILE: example } });
      admin = await loginAdmin(ts);
    });
    after(async () => ts.close());

    it('offers them to every organization and creates tokens from them by name', async () => {
      const listed = await ts.request('GET', '/api/v1/presets', { token: admin });
      assert.deepEqual(listed.body.items.map((p: { name: string; source: string }) => `${p.name}:${p.source}`), ['recovery:config', 'scim:config', 'hyperscale:config']);
      const recovery = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'boot-image', scope: { kind: 'recovery' } } });
      assert.equal(recovery.status, 201, recovery.text);
      assert.equal(recovery.body.mode, 'direct');
      assert.equal(recovery.body.access_token, undefined, 'a direct token gets no access token');
      assert.deepEqual(recovery.body.scope.endpoints, ['/Client', '/MediaAgent', '/ClientGroup', '/V4/ServerGroup', '/FirewallSummary']);
      const locked = await ts.request('PATCH', `/api/v1/tokens/${recovery.body.id}`, { token: admin, body: { scope: { kind: 'all' } } });
      assert.equal(locked.status, 409);
      const hyperscale = await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'storage', scope: { kind: 'hyperscale' } } });
      assert.equal(hyperscale.body.mode, 'refreshable');
      assert.equal(typeof hyperscale.body.access_token, 'string');
      const moved = await ts.request('PATCH', `/api/v1/tokens/${hyperscale.body.id}`, { token: admin, body: { scope: { kind: 'custom', endpoints: ['/hyperscale/nodes'] } } });
      assert.equal(moved.status, 200, 'a refreshable preset token may change scope');
    });
  });
});
