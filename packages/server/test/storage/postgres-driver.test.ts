import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TesseraError } from '../../src/core/errors.js';
import { isDatabaseUnavailable, openPostgres } from '../../src/storage/drivers/postgres.js';
import { toOAuthError, toProblem } from '../../src/http/error-mapper.js';
import { sql } from 'kysely';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

/**
 * Which database errors are an outage (503 with Retry-After) and which are a failed statement
 * (a bug: 500): the fault suite (test/faults) shows the outages end to end.
 */
describe('PostgreSQL driver: outages fail closed', () => {
  it('counts connection exceptions, shutdowns, our timeouts and socket errors as the database being unavailable', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '57014', '53300', '25P03']) assert.ok(isDatabaseUnavailable(withCode(code)), code);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']) assert.ok(isDatabaseUnavailable(withCode(code)), code);
    for (const message of ['Connection terminated unexpectedly', 'Connection terminated due to connection timeout', 'timeout exceeded when trying to connect', 'Query read timeout']) {
      assert.ok(isDatabaseUnavailable(new Error(message)), message);
    }
  });

  it('leaves statement errors alone: they are bugs, not outages', () => {
    for (const code of ['23505', '42P01', '22P02', '40001']) assert.equal(isDatabaseUnavailable(withCode(code)), false, code);
    assert.equal(isDatabaseUnavailable(new Error('boom')), false);
    assert.equal(isDatabaseUnavailable('08006'), false);
  });

  it('answers a refused connection within the connect timeout as UNAVAILABLE, mapped to 503 with Retry-After on both surfaces', async () => {
    const reported: unknown[] = [];
    // Port 1 on loopback: refused at once, as a stopped database is.
    const db = openPostgres('postgres://nobody@127.0.0.1:1/none', { connectTimeoutMs: 500, onConnectionError: (facts) => reported.push(facts) });
    try {
      const started = Date.now();
      const error = await sql`select 1`.execute(db).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(Date.now() - started < 2000);
      assert.ok(error instanceof TesseraError && error.code === 'UNAVAILABLE', String(error));
      assert.deepEqual(reported, [{ sqlstate: undefined, errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }]);
      const problem = toProblem(error, 'req-1');
      assert.equal(problem.status, 503);
      assert.equal(problem.headers['retry-after'], '1');
      assert.equal(problem.problem.code, 'UNAVAILABLE');
      const oauth = toOAuthError(error);
      assert.equal(oauth.status, 503);
      assert.equal(oauth.headers['retry-after'], '1');
      assert.equal(oauth.body.error, 'temporarily_unavailable');
    } finally {
      await db.destroy();
    }
  });
});
