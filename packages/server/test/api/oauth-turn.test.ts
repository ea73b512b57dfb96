import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endOfTurn } from '../../src/http/oauth/turn.js';

describe('the OAuth routes’ end-of-turn gate', () => {
  it('gives every caller of a turn one promise, settled after the turn’s I/O callbacks, and the next turn its own', async () => {
    const order: string[] = [];
    const first = endOfTurn();
    assert.equal(endOfTurn(), first, 'callers of one turn share the promise');
    const waiters = [first.then(() => order.push('gate a')), endOfTurn().then(() => order.push('gate b'))];
    // A microtask queued now runs before the gate opens: the gate waits for the turn to end.
    queueMicrotask(() => order.push('microtask'));
    await Promise.all(waiters);
    assert.deepEqual(order, ['microtask', 'gate a', 'gate b']);
    const next = endOfTurn();
    assert.notEqual(next, first, 'a later turn waits on a gate of its own');
    await next;
  });
});
