import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The Python and Go SDK suites inside `npm test`: each runs its shared vectors, the conformance
 * corpus and a live Tessera of its own (the built CLI). In CI a missing toolchain fails, never skips.
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ci = process.env['CI'] === 'true';

function available(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // The test runner marks its children with NODE_TEST_CONTEXT; a Tessera the suites start
    // with node must not inherit it, or it runs as a test file instead of serving.
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const child = spawn(command, args, { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('language SDKs', () => {
  const pytest = available('python3', ['-c', 'import pytest, jwt']);
  it('sdks/python: pytest passes', { skip: !pytest && !ci && 'python3 with pytest and PyJWT is not installed (required in CI: .ci/deps.d/40-sdks.sh)', timeout: 600_000 }, async () => {
    assert.ok(pytest, 'python3 with pytest and PyJWT is missing; .ci/deps.d/40-sdks.sh installs them');
    const { code, output } = await run('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], here('./python'));
    assert.equal(code, 0, output);
  });

  const go = available('go', ['version']);
  it('sdks/go: go test passes', { skip: !go && !ci && 'go is not installed (required in CI)', timeout: 600_000 }, async () => {
    assert.ok(go, 'go is missing; install Go 1.25 or later');
    const { code, output } = await run('go', ['test', '-count=1', './...'], here('./go'));
    assert.equal(code, 0, output);
  });
});
