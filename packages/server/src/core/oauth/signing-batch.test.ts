import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSigningBatch } from './signing-batch.js';

describe('signing batch', () => {
  it('signs every request of a turn in one deferred run, in order, each with its own answer', async () => {
    const runs: (() => void)[] = [];
    const signedInRun: string[][] = [];
    let current: string[] = [];
    const sign = createSigningBatch(
      (claims: string) => {
        current.push(claims);
        return `signed:${claims}`;
      },
      (run) =>
        runs.push(() => {
          current = [];
          run();
          signedInRun.push(current);
        }),
    );
    const answers = [sign('a'), sign('b'), sign('c')];
    assert.equal(runs.length, 1, 'one run scheduled for the turn');
    assert.deepEqual(signedInRun, [], 'nothing signed before the run');
    runs[0]?.();
    assert.deepEqual(await Promise.all(answers), ['signed:a', 'signed:b', 'signed:c']);
    assert.deepEqual(signedInRun, [['a', 'b', 'c']]);

    const later = sign('d');
    assert.equal(runs.length, 2, 'the next turn schedules its own run');
    runs[1]?.();
    assert.equal(await later, 'signed:d');
  });

  it('rejects only the request whose signature failed', async () => {
    const sign = createSigningBatch((claims: string) => {
      if (claims === 'bad') throw new Error('no key');
      return claims.toUpperCase();
    });
    const [good, bad, alsoGood] = [sign('one'), sign('bad'), sign('two')];
    assert.equal(await good, 'ONE');
    await assert.rejects(bad, /no key/);
    assert.equal(await alsoGood, 'TWO');
  });
});
