import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Policy } from '../../src/core/policy.js';
import { defaultPolicy } from '../../src/core/policy.js';
import type { Store } from '../../src/core/store.js';
import { withReadCache } from '../../src/storage/cached-store.js';
import { changeChannel, createChangeHub } from '../../src/storage/changes.js';

/**
 * The read cache's own mechanics, against an inner Store that counts its reads: the contract
 * and integration suites show answers stay right through the cache; these show it caches at
 * all, and where it must not. (Policies stand in for every cached read: one code path.)
 */
function countingStore() {
  const rows = new Map<string, Policy>();
  const published: string[] = [];
  let reads = 0;
  let gate: Promise<void> | undefined;
  // Repositories these tests do not touch: the cache wraps their methods, calling one fails.
  const unused = (name: string) => new Proxy({}, { get: (_target, method) => () => assert.fail(`${name}.${String(method)} was not expected`) });
  const make = (inTransaction: boolean): Store =>
    ({
      ...Object.fromEntries(['tokens', 'principals', 'groups', 'roles', 'apps', 'revocations'].map((name) => [name, unused(name)])),
      policies: {
        async get(orgId: string) {
          reads++;
          const value = rows.get(orgId);
          await gate;
          return value;
        },
        async put(orgId: string, policy: Policy) {
          rows.set(orgId, policy);
        },
      },
      changes: {
        async publish(topic: string, key: string) {
          published.push(`${topic}:${key}${inTransaction ? ' (in transaction)' : ''}`);
        },
      },
      transaction: <T>(work: (tx: Store) => Promise<T>) => work(make(true)),
    }) as unknown as Store;
  return {
    inner: make(false),
    rows,
    published,
    reads: () => reads,
    /** Holds reads until the returned function is called. */
    holdReads(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const policy = (maxTokensPerUser: number): Policy => ({ ...defaultPolicy, maxTokensPerUser });
const notify = (topic: string, key: string) => JSON.stringify({ t: topic, k: key });

describe('storage read cache', () => {
  it('answers a repeated read from memory, and a read after a write through it from the database', async () => {
    const fake = countingStore();
    const { store, close } = withReadCache(fake.inner, createChangeHub());
    fake.rows.set('org_a', policy(1));
    await store.policies.get('org_a');
    await store.policies.get('org_a');
    assert.equal(fake.reads(), 1, 'the second read was served from memory');
    await store.policies.put('org_a', policy(2), new Date());
    assert.deepEqual(fake.published, ['policies:org_a'], 'the write was announced to the other instances');
    assert.equal((await store.policies.get('org_a'))?.maxTokensPerUser, 2);
    assert.equal(fake.reads(), 2);
    close();
  });

  it('drops an entry when another instance announces a change, and everything when changes may have been missed', async () => {
    const fake = countingStore();
    const hub = createChangeHub();
    const { store, close } = withReadCache(fake.inner, hub);
    fake.rows.set('org_a', policy(1));
    fake.rows.set('org_b', policy(1));
    await store.policies.get('org_a');
    await store.policies.get('org_b');
    fake.rows.set('org_a', policy(5)); // written by another instance
    hub.deliver(notify('policies', 'org_a'));
    assert.equal((await store.policies.get('org_a'))?.maxTokensPerUser, 5);
    assert.equal(fake.reads(), 3, 'org_a was read again');
    await store.policies.get('org_b');
    assert.equal(fake.reads(), 3, 'org_b was not dropped');
    hub.deliver(`not ours on ${changeChannel}`);
    hub.reconnected();
    await store.policies.get('org_b');
    assert.equal(fake.reads(), 4, 'a reconnect drops everything');
    close();
  });

  it('never keeps what a read returned if the entry was dropped while the read was under way', async () => {
    const fake = countingStore();
    const hub = createChangeHub();
    const { store, close } = withReadCache(fake.inner, hub);
    fake.rows.set('org_a', policy(1));
    const release = fake.holdReads();
    const slow = store.policies.get('org_a'); // reads the old row, answers later
    fake.rows.set('org_a', policy(9));
    hub.deliver(notify('policies', 'org_a'));
    release();
    assert.equal((await slow)?.maxTokensPerUser, 1);
    assert.equal((await store.policies.get('org_a'))?.maxTokensPerUser, 9, 'the stale answer was not cached');
    close();
  });

  it('reads inside a transaction go to the transaction, and its writes are announced from inside it', async () => {
    const fake = countingStore();
    const { store, close } = withReadCache(fake.inner, createChangeHub());
    fake.rows.set('org_a', policy(1));
    await store.policies.get('org_a');
    await store.transaction(async (tx) => {
      await tx.policies.get('org_a');
      await tx.policies.get('org_a');
      await tx.policies.put('org_a', policy(3), new Date());
    });
    assert.equal(fake.reads(), 3, 'both reads in the transaction reached the database');
    assert.deepEqual(fake.published, ['policies:org_a (in transaction)'], 'announced in the transaction, so heard at its commit');
    assert.equal((await store.policies.get('org_a'))?.maxTokensPerUser, 3, 'dropped at commit');
    close();
  });

  it('stops following changes once closed', async () => {
    const fake = countingStore();
    const hub = createChangeHub();
    const { store, close } = withReadCache(fake.inner, hub);
    fake.rows.set('org_a', policy(1));
    await store.policies.get('org_a');
    close();
    hub.deliver(notify('policies', 'org_a'));
    await store.policies.get('org_a');
    assert.equal(fake.reads(), 1, 'a closed cache no longer listens');
  });
  it('keeps nothing while change notices cannot arrive (the listening connection is down), and caches again once they can', async () => {
    const fake = countingStore();
    let live = false;
    const { store, close } = withReadCache(fake.inner, createChangeHub(), { live: () => live });
    fake.rows.set('org_a', policy(1));
    await store.policies.get('org_a');
    await store.policies.get('org_a');
    assert.equal(fake.reads(), 2, 'an entry filled now could miss its invalidation: every read goes to the database');
    live = true;
    await store.policies.get('org_a');
    await store.policies.get('org_a');
    assert.equal(fake.reads(), 3);
    close();
  });

  it('drops expired entries on a timer, not only when they are read again', async () => {
    const fake = countingStore();
    const { store, sizes, close } = withReadCache(fake.inner, createChangeHub(), { ttlMs: 50 });
    for (const org of ['org_a', 'org_b', 'org_c']) {
      fake.rows.set(org, policy(1));
      await store.policies.get(org);
    }
    assert.equal(sizes()['policies'], 3);
    await new Promise((resolve) => setTimeout(resolve, 160));
    assert.equal(sizes()['policies'], 0, 'entries nobody reads again leave memory within a lifetime or two');
    close();
  });
});
