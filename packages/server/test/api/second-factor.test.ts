import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { databaseTargets } from '../support/databases.js';
import { assertProblem, createOrg, createUser, loginAdmin, userPassword, type TestPrincipal } from '../support/fixtures.js';
import { TestClock, startTestServer, type TestServer } from '../support/server.js';
import { hotp, totp } from '../support/totp.js';

describe('the test authenticator follows RFC 6238', () => {
  it('matches the RFC 6238 appendix B vectors (SHA-1)', () => {
    const key = Buffer.from('12345678901234567890');
    assert.equal(hotp(key, Math.floor(59 / 30), 8), '94287082');
    assert.equal(hotp(key, Math.floor(1111111109 / 30), 8), '07081804');
    assert.equal(hotp(key, Math.floor(2000000000 / 30), 8), '69279037');
  });
});

for (const target of databaseTargets) {
  describe(`Two-factor login with TOTP (RFC 6238, Cloud Director seed) on ${target.name}`, () => {
    const clock = new TestClock();
    let ts: TestServer;
    let admin: string;
    let mona: TestPrincipal;
    let seed = '';
    let recovery: string[] = [];

    const login = (username: string, extra: Record<string, string> = {}, path = '/api/v1/sessions') =>
      ts.request('POST', path, { body: { username, password: userPassword, ...extra } });

    before(async () => {
      ts = await startTestServer({ driver: target.name, clock });
      admin = await loginAdmin(ts);
      mona = await createUser(ts, admin, 'mona', ['member']);
    });
    after(async () => {
      const logs = ts.logs.text;
      await ts.close();
      for (const secret of [seed, ...recovery]) assert.ok(secret === '' || !logs.includes(secret), 'no seed or recovery code in a log line');
    });

    it('enrols an authenticator: the seed and otpauth URI once, then a first code confirms it and answers ten recovery codes', async () => {
      const started = await ts.request('POST', '/api/v1/me/second-factor', { token: mona.token });
      assert.equal(started.status, 201, started.text);
      seed = started.body.secret;
      assert.match(seed, /^[A-Z2-7]{32}$/);
      const uri = new URL(started.body.otpauth_uri);
      assert.equal(uri.protocol, 'otpauth:');
      assert.equal(uri.searchParams.get('secret'), seed);
      assert.ok([null, '30'].includes(uri.searchParams.get('period')), 'the default 30-second step');
      assert.match(uri.pathname, /mona/);
      assert.deepEqual((await ts.request('GET', '/api/v1/me/second-factor', { token: mona.token })).body, { enabled: false, pending: true, recovery_codes_left: 0 });

      assertProblem(await ts.request('POST', '/api/v1/me/second-factor/confirm', { token: mona.token, body: { code: '000000' } }), 400, 'VALIDATION_FAILED', '/code');
      assertProblem(await ts.request('POST', '/api/v1/me/second-factor/confirm', { token: mona.token, body: { code: 'x'.repeat(65) } }), 400, 'VALIDATION_FAILED', '/code');
      assertProblem(await ts.request('POST', '/api/v1/me/second-factor/confirm', { token: mona.token, body: { code: '123456', extra: 1 } }), 400);
      const confirmed = await ts.request('POST', '/api/v1/me/second-factor/confirm', { token: mona.token, body: { code: totp(seed, clock.now()) } });
      assert.equal(confirmed.status, 200, confirmed.text);
      recovery = confirmed.body.recovery_codes;
      assert.equal(recovery.length, 10);
      assert.equal(new Set(recovery).size, 10);
      assert.deepEqual((await ts.request('GET', '/api/v1/me/second-factor', { token: mona.token })).body, { enabled: true, pending: false, recovery_codes_left: 10 });
      assertProblem(await ts.request('POST', '/api/v1/me/second-factor', { token: mona.token }), 409, 'CONFLICT');
    });

    it('asks for the code at login, refuses a wrong or replayed one, and takes each recovery code once', async () => {
      clock.advance(30);
      const missing = await login('mona');
      assertProblem(missing, 401, 'SECOND_FACTOR_REQUIRED', '/otp');
      assertProblem(await login('mona', { otp: '123456' === totp(seed, clock.now()) ? '654321' : '123456' }), 401, 'INVALID_CREDENTIALS', '/otp');
      const code = totp(seed, clock.now());
      assert.equal((await login('mona', { otp: code })).status, 201);
      assertProblem(await login('mona', { otp: code }), 401, 'INVALID_CREDENTIALS', '/otp');
      clock.advance(30);
      assert.equal((await login('mona', { otp: totp(seed, clock.now()) })).status, 201, 'the next step works');
      const [first] = recovery as [string];
      assert.equal((await login('mona', { otp: first.toUpperCase() })).status, 201, 'a recovery code, case-insensitively');
      assertProblem(await login('mona', { otp: first }), 401, 'INVALID_CREDENTIALS', '/otp');
      assert.equal((await ts.request('GET', '/api/v1/me/second-factor', { token: mona.token })).body.recovery_codes_left, 9);
      assertProblem(await login('mona', {}, '/api/v1/sessions/password-change'), 400);
      const change = await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'mona', password: userPassword, new_password: 'another long password' } });
      assertProblem(change, 401, 'SECOND_FACTOR_REQUIRED', '/otp');

      const audit = await ts.request('GET', '/api/v1/audit-events?action=login.*', { token: admin });
      const reasons = (audit.body.items as { action: string; details: { reason?: string; amr?: string[] } }[]).map((e) => e.details.reason ?? e.details.amr?.join('+'));
      for (const seen of ['second_factor_required', 'bad_second_factor', 'pwd+otp', 'pwd+otp+recovery']) assert.ok(reasons.includes(seen), seen);
    });

    it('never asks for a second factor at a token exchange', async () => {
      clock.advance(30);
      const session = (await login('mona', { otp: totp(seed, clock.now()) })).body.session_token as string;
      const made = await ts.request('POST', '/api/v1/tokens', { token: session, body: { name: 'ci-2fa', scope: { kind: 'all' } } });
      assert.equal(made.status, 201, made.text);
      const exchanged = await ts.form('/oauth/token', { grant_type: 'refresh_token', refresh_token: made.body.token });
      assert.equal(exchanged.status, 200, exchanged.text);
    });

    it('under a policy that requires it, a user without a factor enrols at login and gets the recovery codes once', async () => {
      assert.equal((await ts.request('PUT', '/api/v1/policy', { token: admin, body: { require_second_factor: true } })).status, 200);
      await createUser(ts, admin, 'nora', ['member']).catch(() => undefined);
      const refused = await login('nora');
      assertProblem(refused, 403, 'SECOND_FACTOR_ENROLMENT_REQUIRED', '/otp');
      assertProblem(await ts.request('POST', '/api/v1/sessions/second-factor', { body: { username: 'nora', password: 'wrong password!!' } }), 401, 'INVALID_CREDENTIALS');
      const enrolment = await ts.request('POST', '/api/v1/sessions/second-factor', { body: { username: 'nora', password: userPassword } });
      assert.equal(enrolment.status, 201, enrolment.text);
      assertProblem(await login('nora', { otp: '000000' === totp(enrolment.body.secret, clock.now()) ? '111111' : '000000' }), 401, 'INVALID_CREDENTIALS', '/otp');
      const first = await login('nora', { otp: totp(enrolment.body.secret, clock.now()) });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.body.recovery_codes.length, 10);
      clock.advance(30);
      const next = await login('nora', { otp: totp(enrolment.body.secret, clock.now()) });
      assert.equal(next.status, 201);
      assert.equal(next.body.recovery_codes, undefined, 'shown once');
      const nora = next.body.session_token as string;
      assertProblem(await ts.request('POST', '/api/v1/me/second-factor/disable', { token: nora, body: { code: totp(enrolment.body.secret, clock.now()) } }), 403, 'FORBIDDEN');
    });

    it('turns off with a current code when the policy allows, and an administrator resets a lost one', async () => {
      assert.equal((await ts.request('PUT', '/api/v1/policy', { token: admin, body: { require_second_factor: false } })).status, 200);
      clock.advance(30);
      const session = (await login('mona', { otp: totp(seed, clock.now()) })).body.session_token as string;
      clock.advance(30);
      assertProblem(await ts.request('POST', '/api/v1/me/second-factor/disable', { token: session, body: { code: '000000' === totp(seed, clock.now()) ? '111111' : '000000' } }), 400, 'VALIDATION_FAILED', '/code');
      assert.equal((await ts.request('POST', '/api/v1/me/second-factor/disable', { token: session, body: { code: totp(seed, clock.now()) } })).status, 204);
      assert.equal((await login('mona')).status, 201, 'a password alone again');

      const noraId = (await ts.request('GET', '/api/v1/users?q=nora', { token: admin })).body.items[0].id as string;
      const member = await createUser(ts, admin, 'mike', ['member']);
      const foreign = await createOrg(ts, admin, 'faraway');
      assertProblem(await ts.request('DELETE', `/api/v1/users/${noraId}/second-factor`, { token: member.token }), 403, 'FORBIDDEN');
      assertProblem(await ts.request('DELETE', `/api/v1/users/${noraId}/second-factor`, { token: foreign.token }), 404);
      assert.equal((await ts.request('DELETE', `/api/v1/users/${noraId}/second-factor`, { token: admin })).status, 204);
      assert.equal((await login('nora')).status, 201, 'after a reset, and with the policy off, the password suffices');
      const actions = (await ts.request('GET', '/api/v1/audit-events?action=second_factor.*', { token: admin })).body.items.map((e: { action: string }) => e.action);
      for (const action of ['second_factor.enrolment_started', 'second_factor.enabled', 'second_factor.disabled', 'second_factor.reset']) assert.ok(actions.includes(action), action);
    });
  });
}
