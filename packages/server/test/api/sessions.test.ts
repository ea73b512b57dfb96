import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, createUser, loginAdmin, userPassword } from '../support/fixtures.js';
import { TestClock, adminPassword, startTestServer, type TestServer } from '../support/server.js';

describe('sessions: password login, logout, password change', () => {
  let ts: TestServer;
  let adminToken: string;
  const clock = new TestClock();

  before(async () => {
    ts = await startTestServer({ clock, env: { TESSERA_LOGIN_MAX_FAILURES: '3', TESSERA_SESSION_IDLE_MINUTES: '30' } });
    adminToken = await loginAdmin(ts);
  });
  after(async () => ts.close());

  it('logs in, answers who am I, and audits the login', async () => {
    const login = await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: adminPassword } });
    assert.equal(login.status, 201);
    assert.match(login.body.session_token, /^ses_[0-9A-Za-z]{16}\.[0-9A-Za-z]{43}$/);
    assert.equal(login.body.principal.username, 'admin');
    assert.ok(Date.parse(login.body.expires_at) > clock.now().getTime());
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /tessera_session=/);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);

    const me = await ts.request('GET', '/api/v1/me', { token: login.body.session_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.principal.username, 'admin');
    assert.equal(me.body.auth_method, 'pwd');
    assert.ok(me.body.rights.includes('users.manage'));

    const audit = await ts.request('GET', '/api/v1/audit-events?action=login.success&limit=1', { token: adminToken });
    assert.equal(audit.status, 200);
    assert.equal(audit.body.items[0].action, 'login.success');
    assert.equal(audit.body.items[0].client_ip, '127.0.0.1');
    assert.equal(audit.body.items[0].target_id, login.body.session_token.slice(4, 20));
  });

  it('answers a wrong password and an unknown user alike, and audits both failures', async () => {
    await createUser(ts, adminToken, 'wrongpw');
    const wrong = await ts.request('POST', '/api/v1/sessions', { body: { username: 'wrongpw', password: 'not the password' } });
    const unknown = await ts.request('POST', '/api/v1/sessions', { body: { username: 'nobody-here', password: 'not the password' } });
    assertProblem(wrong, 401, 'INVALID_CREDENTIALS');
    assertProblem(unknown, 401, 'INVALID_CREDENTIALS');
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    assert.deepEqual(strip(wrong.body), strip(unknown.body), 'no hint whether the user exists');
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="tessera"');

    const audit = await ts.request('GET', '/api/v1/audit-events?action=login.failure', { token: adminToken });
    const reasons = audit.body.items.map((e: { details: { reason: string; username: string } }) => `${e.details.username}:${e.details.reason}`);
    assert.ok(reasons.includes('wrongpw:bad_password'));
    assert.ok(reasons.includes('nobody-here:unknown_user'));
  });

  it('throttles repeated failures per account with 429 and Retry-After, even for the right password', async () => {
    await createUser(ts, adminToken, 'throttled');
    for (let i = 0; i < 3; i++) {
      const r = await ts.request('POST', '/api/v1/sessions', { body: { username: 'throttled', password: 'wrong password!' } });
      assert.equal(r.status, 401);
    }
    const locked = await ts.request('POST', '/api/v1/sessions', { body: { username: 'throttled', password: userPassword } });
    assertProblem(locked, 429, 'TOO_MANY_ATTEMPTS');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    clock.advance(15 * 60 + 1);
    const again = await ts.request('POST', '/api/v1/sessions', { body: { username: 'throttled', password: userPassword } });
    assert.equal(again.status, 201, 'the window passes');
    adminToken = await loginAdmin(ts);
  });

  it('throttles failures per client address across accounts', async () => {
    // The address limit is four times the account limit (3): twelve failures over different names.
    for (let i = 0; i < 12; i++) {
      const r = await ts.request('POST', '/api/v1/sessions', { body: { username: `spray${i}`, password: 'wrong password!' } });
      assert.equal(r.status, 401);
    }
    const blocked = await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: adminPassword } });
    assertProblem(blocked, 429, 'TOO_MANY_ATTEMPTS');
    clock.advance(15 * 60 + 1);
    adminToken = await loginAdmin(ts);
  });

  it('refuses login for service accounts and disabled users', async () => {
    const sa = await ts.request('POST', '/api/v1/service-accounts', { token: adminToken, body: { username: 'robot' } });
    assert.equal(sa.status, 201);
    const r = await ts.request('POST', '/api/v1/sessions', { body: { username: 'robot', password: 'whatever password' } });
    assertProblem(r, 401, 'INVALID_CREDENTIALS');

    const user = await createUser(ts, adminToken, 'soon-disabled');
    const disable = await ts.request('PATCH', `/api/v1/users/${user.id}`, { token: adminToken, body: { status: 'disabled' } });
    assert.equal(disable.status, 200);
    assertProblem(await ts.request('GET', '/api/v1/me', { token: user.token }), 401, 'UNAUTHENTICATED');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'soon-disabled', password: userPassword } }), 401);
  });

  it('ends a session at logout', async () => {
    const token = await ts.login('admin', adminPassword);
    const out = await ts.request('DELETE', '/api/v1/sessions/current', { token });
    assert.equal(out.status, 204);
    assertProblem(await ts.request('GET', '/api/v1/me', { token }), 401, 'UNAUTHENTICATED');
  });

  it('ends an idle session and one past its absolute lifetime', async () => {
    const token = await ts.login('admin', adminPassword);
    clock.advance(29 * 60);
    assert.equal((await ts.request('GET', '/api/v1/me', { token })).status, 200, 'used within the idle timeout');
    clock.advance(29 * 60);
    assert.equal((await ts.request('GET', '/api/v1/me', { token })).status, 200, 'each use resets the idle timer');
    clock.advance(31 * 60);
    assertProblem(await ts.request('GET', '/api/v1/me', { token }), 401, 'UNAUTHENTICATED');

    const busy = await ts.login('admin', adminPassword);
    for (let hours = 0; hours < 12; hours += 0.25) {
      clock.advance(15 * 60);
      await ts.request('GET', '/api/v1/me', { token: busy });
    }
    assertProblem(await ts.request('GET', '/api/v1/me', { token: busy }), 401, 'UNAUTHENTICATED');
    adminToken = await loginAdmin(ts);
  });

  it('refuses forged, malformed and missing credentials', async () => {
    assertProblem(await ts.request('GET', '/api/v1/me'), 401, 'UNAUTHENTICATED');
    assertProblem(await ts.request('GET', '/api/v1/me', { headers: { authorization: 'Basic YWRtaW46eA==' } }), 401, 'UNAUTHENTICATED');
    assertProblem(await ts.request('GET', '/api/v1/me', { token: 'ses_AAAAAAAAAAAAAAAA.' + 'B'.repeat(43) }), 401, 'UNAUTHENTICATED');
    const real = await ts.login('admin', adminPassword);
    const tampered = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    assertProblem(await ts.request('GET', '/api/v1/me', { token: tampered }), 401, 'UNAUTHENTICATED');
  });

  it('accepts the session cookie, and requires the CSRF header for changes made with it', async () => {
    const login = await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: adminPassword } });
    const cookie = `tessera_session=${login.body.session_token}`;
    assert.equal((await ts.request('GET', '/api/v1/me', { headers: { cookie } })).status, 200);
    const body = { username: 'via-cookie', password: userPassword };
    assertProblem(await ts.request('POST', '/api/v1/users', { headers: { cookie }, body }), 403, 'FORBIDDEN');
    const ok = await ts.request('POST', '/api/v1/users', { headers: { cookie, 'x-tessera-csrf': '1' }, body });
    assert.equal(ok.status, 201, ok.text);
  });

  it('changes the own password, ending the other sessions', async () => {
    const user = await createUser(ts, adminToken, 'changer');
    const other = await ts.login('changer', userPassword);
    const weak = await ts.request('PUT', '/api/v1/me/password', { token: user.token, body: { current_password: userPassword, new_password: 'short' } });
    assertProblem(weak, 400, 'VALIDATION_FAILED', '/new_password');
    const wrong = await ts.request('PUT', '/api/v1/me/password', { token: user.token, body: { current_password: 'not it at all', new_password: 'a brand new password' } });
    assertProblem(wrong, 400, 'VALIDATION_FAILED', '/current_password');
    const ok = await ts.request('PUT', '/api/v1/me/password', { token: user.token, body: { current_password: userPassword, new_password: 'a brand new password' } });
    assert.equal(ok.status, 204);
    assert.equal((await ts.request('GET', '/api/v1/me', { token: user.token })).status, 200, 'the current session stays');
    assertProblem(await ts.request('GET', '/api/v1/me', { token: other }), 401);
    await ts.login('changer', 'a brand new password');
  });

  it('validates the login body', async () => {
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin' } }), 400, 'VALIDATION_FAILED', '/password');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: 7 } }), 400, 'VALIDATION_FAILED', '/password');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: 'x', remember: true } }), 400, 'VALIDATION_FAILED', '/remember');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { rawBody: '{"username":', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED', 'body');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password: 'x'.repeat(300) } }), 400, 'VALIDATION_FAILED', '/password');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { rawBody: 'username=admin', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
  });
});

/** SPEC 4: with a password expiry in the policy, an old password logs in no more until changed. */
describe('sessions: password expiry', () => {
  let ts: TestServer;
  let adminToken: string;
  const clock = new TestClock();
  const day = 86_400;

  before(async () => {
    ts = await startTestServer({ clock });
    adminToken = await loginAdmin(ts);
  });
  after(async () => ts.close());

  it('refuses an expired password with 403 PASSWORD_EXPIRED naming the way out, and a wrong one as always', async () => {
    await createUser(ts, adminToken, 'erin');
    const set = await ts.request('PUT', '/api/v1/policy', { token: adminToken, body: { password_expiry_seconds: 30 * day } });
    assert.equal(set.status, 200, set.text);
    assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'erin', password: userPassword } })).status, 201, 'not yet expired');
    clock.advance(31 * day);
    const expired = await ts.request('POST', '/api/v1/sessions', { body: { username: 'erin', password: userPassword } });
    assertProblem(expired, 403, 'PASSWORD_EXPIRED', '/password');
    assert.match(expired.body.detail, /POST \/api\/v1\/sessions\/password-change/);
    // Expiry is only told to someone who knows the password.
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'erin', password: 'not the password at all' } }), 401, 'INVALID_CREDENTIALS');
    adminToken = await loginAdmin(ts).catch(() => '');
    assert.equal(adminToken, '', 'the instance admin is under the same policy');
  });

  it('changes an expired password with the current one and logs in; the old one stops working', async () => {
    const wrong = await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'erin', password: 'wrong password here', new_password: 'a new long passphrase 1' } });
    assertProblem(wrong, 401, 'INVALID_CREDENTIALS');
    assertProblem(
      await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'erin', password: userPassword, new_password: userPassword } }),
      400,
      'VALIDATION_FAILED',
      '/new_password',
    );
    assertProblem(await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'erin', password: userPassword, new_password: 'short' } }), 400, 'VALIDATION_FAILED', '/new_password');
    assertProblem(await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'erin', password: userPassword, new_password: 'a new long passphrase 1', extra: 1 } }), 400, 'VALIDATION_FAILED');
    const changed = await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'erin', password: userPassword, new_password: 'a new long passphrase 1' } });
    assert.equal(changed.status, 201, changed.text);
    assert.match(changed.headers.get('set-cookie') ?? '', /tessera_session=.*HttpOnly/i);
    const me = await ts.request('GET', '/api/v1/me', { token: changed.body.session_token });
    assert.equal(me.body.principal.username, 'erin');
    assertProblem(await ts.request('POST', '/api/v1/sessions', { body: { username: 'erin', password: userPassword } }), 401, 'INVALID_CREDENTIALS');
    assert.equal((await ts.request('POST', '/api/v1/sessions', { body: { username: 'erin', password: 'a new long passphrase 1' } })).status, 201);
  });

  it('audits the refusal and the change, with no password in either', async () => {
    const admin = await ts.request('POST', '/api/v1/sessions/password-change', { body: { username: 'admin', password: adminPassword, new_password: 'the admin passphrase, renewed' } });
    assert.equal(admin.status, 201, admin.text);
    const token = admin.body.session_token as string;
    const refusals = await ts.request('GET', '/api/v1/audit-events?action=login.failure', { token });
    assert.ok(refusals.body.items.some((e: { details: { reason: string } }) => e.details.reason === 'password_expired'));
    const changes = await ts.request('GET', '/api/v1/audit-events?action=password.change', { token });
    assert.ok(changes.body.items.some((e: { details: { at_login: boolean; expired: boolean } }) => e.details.at_login && e.details.expired));
    for (const password of [userPassword, 'a new long passphrase 1', 'the admin passphrase, renewed']) {
      assert.ok(!refusals.text.includes(password) && !changes.text.includes(password));
    }
  });
});
