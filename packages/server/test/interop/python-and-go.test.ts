import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { algorithms, provision, requireTool, type Provisioned } from './provision.js';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const has = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
// Locally a machine without python3 or go skips these; with CI=true it fails (HELPERS: never skip silently in CI).
const python = requireTool(has('python3', ['-c', 'import jwt, authlib']), 'python3 with PyJWT and Authlib', '.ci/deps.d/20-interop-python.sh');
const go = requireTool(has('go', ['version']), 'go', '.ci/deps.d/21-interop-go.sh');

interface Outcome {
  ok: boolean;
  alg?: string;
  client_id?: string;
  error?: string;
  detail?: string;
}

/**
 * PyJWT (PyJWKClient), Authlib's RFC 9068 validator and golang-jwt v5 with keyfunc v3 against a
 * real server, for each signing algorithm. Versions: test/interop/python/requirements.txt and
 * test/interop/go/go.mod.
 */
for (const algorithm of algorithms) {
  describe(`Python and Go libraries against a server signing ${algorithm}`, () => {
    let p: Provisioned;
    before(async () => {
      p = await provision(algorithm);
    });
    after(async () => p.close());

    it('PyJWT PyJWKClient and Authlib JWTBearerTokenValidator verify the access token', { skip: !python && 'python3 with PyJWT and Authlib is not installed' }, async () => {
      const token = await p.accessToken();
      const { stdout } = await run('python3', [`${here}python/verify_tokens.py`, p.issuer, algorithm, token], { timeout: 60_000 });
      const results = JSON.parse(stdout) as { pyjwt: Outcome; authlib: Outcome };
      assert.deepEqual(results.pyjwt, { ok: true, client_id: p.worker.clientId, alg: algorithm }, JSON.stringify(results.pyjwt));
      if (algorithm === 'EdDSA') {
        // By design: Authlib's validator decodes with joserfc, which accepts only its
        // "recommended" algorithms (HS256, RS256, ES256) unless told otherwise; EdDSA is refused.
        assert.equal(results.authlib.ok, false, 'Authlib refuses EdDSA by default');
        assert.equal(results.authlib.error, 'InvalidTokenError');
      } else {
        assert.deepEqual(results.authlib, { ok: true, client_id: p.worker.clientId, alg: algorithm }, JSON.stringify(results.authlib));
      }
    });

    it('golang-jwt v5 with keyfunc v3 verifies the access token', { skip: !go && 'go is not installed' }, async () => {
      const token = await p.accessToken();
      const result = await run('go', ['test', '-count=1', './...'], {
        cwd: `${here}go`,
        timeout: 300_000,
        env: { ...process.env, TESSERA_ISSUER: p.issuer, TESSERA_ALG: algorithm, TESSERA_ACCESS_TOKEN: token },
      }).catch((error: { stdout?: string; stderr?: string }) => assert.fail(`go test failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`));
      assert.match(result.stdout, /^ok\s/m);
    });
  });
}
