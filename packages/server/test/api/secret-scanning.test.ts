import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { assertProblem, createUser, loginAdmin, type TestPrincipal } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** The test plays GitHub's scanner: its own P-256 key pair, published in GitHub's key-list form. */
const scanner = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const impostor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyId = '90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a';
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

const dir = mkdtempSync(join(tmpdir(), 'tessera-scanning-'));
const keysFile = join(dir, 'keys.json');
writeFileSync(keysFile, JSON.stringify({ public_keys: [{ key_identifier: 'old-key', key: pem(impostor.publicKey), is_current: false }, { key_identifier: keyId, key: pem(scanner.publicKey), is_current: true }] }));

const signed = (body: string, privateKey = scanner.privateKey, id = keyId) => ({
  'content-type': 'application/json',
  'github-public-key-identifier': id,
  'github-public-key-signature': sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
});

describe('secret scanning intake, GitHub partner format (SPEC 9)', () => {
  let ts: TestServer;
  let admin: string;
  let alice: TestPrincipal;

  before(async () => {
    ts = await startTestServer({ env: { TESSERA_SECRET_SCANNING_KEYS_FILE: keysFile } });
    admin = await loginAdmin(ts);
    alice = await createUser(ts, admin, 'alice', ['member']);
  });
  after(async () => ts.close());

  const create = async (name: string) => {
    const response = await ts.request('POST', '/api/v1/tokens', { token: alice.token, body: { name, scope: { kind: 'all' } } });
    assert.equal(response.status, 201, response.text);
    return response.body as { id: string; token: string; access_token: string };
  };
  const works = async (value: string) => (await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: value })).status === 200;
  const report = (body: string, headers: Record<string, string>) => ts.request('POST', '/secret-scanning/github', { rawBody: body, headers });

  it('revokes a reported live token (leaked), labels an unknown and a malformed one false_positive', async () => {
    const live = await create('pushed-to-github');
    const unknown = `${live.token.split('.')[0]}.${'A'.repeat(38)}`;
    const body = JSON.stringify([
      { token: live.token, type: 'tessera_api_token', url: 'https://github.com/acme/app/blob/abc/.env', source: 'content' },
      { token: unknown, type: 'tessera_api_token', url: 'https://gist.github.com/x', source: 'gist' },
      { token: 'tsr_notreally', type: 'tessera_api_token', url: 'https://github.com/acme/app/issues/1', source: 'issue' },
    ]);
    const response = await report(body, signed(body));
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, [
      { token_raw: live.token, token_type: 'tessera_api_token', label: 'true_positive' },
      { token_raw: unknown, token_type: 'tessera_api_token', label: 'false_positive' },
      { token_raw: 'tsr_notreally', token_type: 'tessera_api_token', label: 'false_positive' },
    ]);
    assert.ok(!(await works(live.token)), 'the leaked token is revoked');
    assertProblem(await ts.request('GET', '/api/v1/tokens', { token: live.access_token }), 401);
    const shown = await ts.request('GET', `/api/v1/tokens/${live.id}`, { token: admin });
    assert.equal(shown.body.status, 'revoked');
    assert.equal(shown.body.revoke_reason, 'leaked');
    const audit = await ts.request('GET', `/api/v1/audit-events?target=${live.id}&action=token.leaked`, { token: admin });
    assert.equal(audit.body.items.length, 1, audit.text);
    assert.equal(audit.body.items[0].details.url, 'https://github.com/acme/app/blob/abc/.env');
    assert.equal(audit.body.items[0].details.source, 'content');
    assert.ok(!JSON.stringify(audit.body).includes(live.token.split('.')[1]!), 'no secret in the audit trail');

    // Reported again (GitHub retries): still a true positive, revoked once, audited once.
    const again = await report(body, signed(body));
    assert.equal(again.body[0].label, 'true_positive');
    const twice = await ts.request('GET', `/api/v1/audit-events?target=${live.id}&action=token.leaked`, { token: admin });
    assert.equal(twice.body.items.length, 1);
  });

  it('accepts a report signed with an older listed key', async () => {
    const body = JSON.stringify([{ token: 'tsr_x', type: 't', url: null, source: null }]);
    const response = await report(body, signed(body, impostor.privateKey, 'old-key'));
    assert.equal(response.status, 200, response.text);
  });

  it('refuses unsigned, forged and tampered reports with 401 and changes nothing', async () => {
    const live = await create('target-of-forgery');
    const body = JSON.stringify([{ token: live.token, type: 'tessera_api_token', url: 'https://github.com/x', source: 'content' }]);
    const good = signed(body);
    const cases: [string, string, Record<string, string>][] = [
      ['no headers', body, { 'content-type': 'application/json' }],
      ['no signature', body, { 'content-type': 'application/json', 'github-public-key-identifier': keyId }],
      ['signed by another key under the trusted id', body, signed(body, impostor.privateKey)],
      ['an unknown key id', body, { ...good, 'github-public-key-identifier': 'nope' }],
      ['a body changed after signing', body.replace('content', 'commit'), good],
      ['a signature that is not base64', body, { ...good, 'github-public-key-signature': '%%%' }],
      ['a truncated signature', body, { ...good, 'github-public-key-signature': good['github-public-key-signature'].slice(0, 20) }],
    ];
    for (const [name, sent, headers] of cases) {
      const response = await report(sent, headers);
      assertProblem(response, 401, 'UNAUTHENTICATED');
      assert.ok(!response.text.includes(live.token), `${name}: the value is not echoed`);
    }
    assert.ok(await works(live.token), 'the token still works');
    const audit = await ts.request('GET', `/api/v1/audit-events?target=${live.id}`, { token: admin });
    assert.ok(!audit.body.items.some((e: { action: string }) => e.action === 'token.leaked'));
  });

  it('refuses a signed report that is not the partner format (400, naming the entry)', async () => {
    for (const [body, field] of [['{"token":"x"}', ''], ['not json', ''], ['[{"type":"t"}]', '/0/token'], ['[{"token":"x","type":"t","url":7}]', '/0/url']] as const) {
      assertProblem(await report(body, signed(body)), 400, 'VALIDATION_FAILED', field);
    }
  });

  it('never logs a reported value', async () => {
    for (const line of ts.logs.lines) assert.ok(!/tsr_[0-9A-Za-z]{12}\.[0-9A-Za-z]{20}/.test(line), line);
  });
});

describe('secret scanning keys file', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('refuses a file that is not GitHub\'s key list, naming the entry', () => {
    const write = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const cases: [string, RegExp][] = [
      [write('a.json', 'nope'), /not JSON/],
      [write('b.json', '{"public_keys": []}'), /at least one key/],
      [write('c.json', JSON.stringify({ public_keys: [{ key: pem(scanner.publicKey) }] })), /public_keys\[0\]\.key_identifier/],
      [write('d.json', JSON.stringify({ public_keys: [{ key_identifier: 'k', key: 'garbage' }] })), /public_keys\[0\]\.key: not a PEM/],
      [write('e.json', JSON.stringify({ public_keys: [{ key_identifier: 'k', key: pem(rsa) }] })), /P-256/],
      [join(dir, 'missing.json'), /cannot be read/],
    ];
    for (const [path, message] of cases) {
      assert.throws(() => loadConfig({ TESSERA_SECRET_SCANNING_KEYS_FILE: path }), (error: Error) => /TESSERA_SECRET_SCANNING_KEYS_FILE/.test(error.message) && message.test(error.message));
    }
  });
});
