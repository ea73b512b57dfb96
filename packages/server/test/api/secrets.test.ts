import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, lazyChildLogger } from '../../src/app/logger.js';
import { userPassword } from '../support/fixtures.js';
import { LogCapture, adminPassword, startTestServer, type TestServer } from '../support/server.js';

/**
 * Secrets never reach a log line, an audit record, an error or a list (SPEC 3.2, DEVELOPERS):
 * this suite does everything that handles a password or a session secret, with logging at its
 * most verbose, then searches every captured log line and response for each secret it used.
 */
describe('no password or session secret leaks', () => {
  let ts: TestServer;
  const secrets: string[] = [adminPassword, userPassword];
  const sessionTokens: string[] = [];
  let admin: string;

  before(async () => {
    ts = await startTestServer({ env: { TESSERA_LOG_LEVEL: 'trace', TESSERA_LOGIN_MAX_FAILURES: '2' } });
  });
  after(async () => ts.close());

  it('handles passwords and sessions through every path', async () => {
    admin = await ts.login('admin', adminPassword);
    sessionTokens.push(admin);
    const wrongPasswords = ['wrong-password-one', 'wrong-password-two', 'wrong-password-three'];
    secrets.push(...wrongPasswords);
    for (const password of wrongPasswords) await ts.request('POST', '/api/v1/sessions', { body: { username: 'admin', password } });

    const newUserPassword = 'fresh user password 42';
    const resetPassword = 'reset by the admin 42';
    const changedPassword = 'changed by the user 42';
    secrets.push(newUserPassword, resetPassword, changedPassword);
    const created = await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'sam', password: newUserPassword } });
    assert.equal(created.status, 201);
    await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'sam', password: newUserPassword } }); // conflict
    await ts.request('POST', '/api/v1/users', { token: admin, body: { username: 'bad name', password: newUserPassword } }); // invalid
    await ts.request('POST', '/api/v1/users', { token: admin, rawBody: `{"username":"x","password":"${newUserPassword}"`, headers: { 'content-type': 'application/json' } });
    await ts.request('PATCH', `/api/v1/users/${created.body.id}`, { token: admin, body: { password: resetPassword } });
    const sam = await ts.login('sam', resetPassword);
    sessionTokens.push(sam);
    await ts.request('PUT', '/api/v1/me/password', { token: sam, body: { current_password: 'not the current', new_password: changedPassword } });
    await ts.request('PUT', '/api/v1/me/password', { token: sam, body: { current_password: resetPassword, new_password: changedPassword } });
    const samAgain = await ts.login('sam', changedPassword);
    sessionTokens.push(samAgain);
    await ts.request('GET', '/api/v1/me', { token: sam }); // ended session
    await ts.request('GET', '/api/v1/me', { headers: { cookie: `tessera_session=${samAgain}` } });
    await ts.request('DELETE', '/api/v1/sessions/current', { token: samAgain });
    await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: admin });
    await ts.request('POST', '/api/v1/orgs', { token: admin, body: { name: 'leak', owner: { username: 'owner', password: 'org owner password 1' } } });
    secrets.push('org owner password 1');
  });

  it('finds none of them in any log line', () => {
    assert.ok(ts.logs.lines.length > 20, 'logs were captured');
    for (const secret of [...secrets, ...sessionTokens, ...sessionTokens.map((t) => t.split('.')[1] as string)]) {
      const hits = ts.logs.lines.filter((line) => line.includes(secret));
      assert.deepEqual(hits, [], `secret found in logs`);
    }
  });

  it('finds no password in any response, and each session token only in its own login response', () => {
    for (const secret of secrets) assert.ok(!ts.responses.some((body) => body.includes(secret)), 'a password was echoed');
    for (const token of sessionTokens) {
      const carriers = ts.responses.filter((body) => body.includes(token.split('.')[1] as string));
      assert.equal(carriers.length, 1, 'a session secret appears only in the login that created it');
      assert.match(carriers[0] as string, /"session_token"/);
    }
  });

  it('finds none of them in the audit log', async () => {
    const audit = await ts.request('GET', '/api/v1/audit-events?limit=1000', { token: admin });
    assert.ok(audit.body.items.length > 10);
    for (const secret of [...secrets, ...sessionTokens.map((t) => t.split('.')[1] as string)]) {
      assert.ok(!audit.text.includes(secret));
    }
  });

  it('blanks an API token or a JWT pasted into a URL before the request line is logged', async () => {
    const created = (await ts.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'pasted', scope: { kind: 'all' } } })).body;
    await ts.request('GET', `/api/v1/tokens/${created.token}?access_token=${created.access_token}`, { token: admin });
    await ts.request('GET', `/nowhere/${encodeURIComponent(created.token)}`);
    const secretPart = (created.token as string).split('.')[1] as string;
    const lines = ts.logs.lines.filter((line) => line.includes('/nowhere/') || line.includes('access_token=['));
    assert.ok(lines.length >= 2, 'both request lines were logged');
    assert.ok(lines.every((line) => line.includes('[redacted]')));
    assert.ok(!ts.logs.text.includes(secretPart), 'no token secret in any log line');
    assert.ok(!ts.logs.text.includes(created.access_token), 'no access token in any log line');
  });

  it('drops driver-attached query parameters and redacts credentials in logged errors', () => {
    const capture = new LogCapture();
    const logger = createLogger('info', capture);
    const error = Object.assign(new Error('duplicate key'), { params: ['hunter2-secret'], query: 'insert ... hunter2-secret' });
    logger.error({ err: error, req: { headers: { authorization: 'Bearer hunter2-token', cookie: 'tessera_session=hunter2-cookie' } }, body: { password: 'hunter2-pw' } });
    assert.ok(capture.text.includes('duplicate key'));
    assert.ok(!capture.text.includes('hunter2'), capture.text);
  });

  it("writes a request's lines through a child made on the first one, redacted and with its request id", () => {
    const capture = new LogCapture();
    const parent = createLogger('warn', capture);
    let children = 0;
    // Counted on the parent only; pino children inherit `child`, so `this` stays whichever logger is asked.
    const makeChild = parent.child;
    parent.child = function (this: typeof parent, ...args: Parameters<typeof parent.child>) {
      if (this === parent) children++;
      return makeChild.apply(this, args);
    } as typeof parent.child;
    const request = lazyChildLogger(parent, { reqId: 'req-1' }, {});
    request.info('below the level');
    assert.equal(capture.text, '', 'a level that is off writes nothing');
    assert.equal(children, 0, 'and makes no child logger');
    assert.equal(request.level, 'warn');
    request.warn({ req: { headers: { authorization: 'Bearer hunter2-token' } } }, 'refused');
    assert.equal(children, 1, 'the first line makes it');
    request.child({ step: 'inner' }).error('failed');
    request.level = 'debug';
    request.debug('once its own level is lower');
    const lines = capture.lines.map((line) => JSON.parse(line) as { reqId?: string; msg?: string; step?: string });
    assert.deepEqual(lines.map((line) => [line.reqId, line.msg, line.step]), [['req-1', 'refused', undefined], ['req-1', 'failed', 'inner'], ['req-1', 'once its own level is lower', undefined]]);
    assert.ok(!capture.text.includes('hunter2'), capture.text);
  });
});
