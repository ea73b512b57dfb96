import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevocationEvent } from '../../src/core/revocations.js';
import type { Store } from '../../src/core/store.js';
import { withReadCache } from '../../src/storage/cached-store.js';
import { createChangeHub } from '../../src/storage/changes.js';

/**
 * `revocations.catchUp` of the read cache (issue 13 item 6), against an inner Store whose
 * revocation feed the test controls: the multi-instance test shows the outcome on PostgreSQL;
 * this shows the one subtle rule, that a caller never settles for a feed read that began
 * before it asked (a revocation could have committed in between).
 */
function feedStore() {
  const feed: RevocationEvent[] = [];
  let tokenReads = 0;
  let hold: Promise<void> | undefined;
  let feedReads = 0;
  // Repositories these tests do not touch: the cache wraps their methods, calling one fails.
  const unused = (name: string) => new Proxy({}, { get: (_target, method) => () => assert.fail(`${name}.${String(method)} was not expected`) });
  const store = {
    ...Object.fromEntries(['principals', 'groups', 'roles', 'apps', 'policies'].map((name) => [name, unused(name)])),
    tokens: {
      async getForVerify(id: string) {
        tokenReads++;
        return { token: { id }, secrets: {} };
      },
    },
    revocations: {},
    revocationEvents: {
      async lastBefore() {
        return String(feed.length);
      },
      async after(seq: string) {
        feedReads++;
        // The snapshot is taken when the query starts; the answer may come later.
        const seen = feed.filter((event) => BigInt(event.seq) > BigInt(seq));
        await hold;
        return seen;
      },
    },
    changes: { async publish() {} },
  } as unknown as Store;
  return {
    store,
    revoke: (subjectId: string) => feed.push({ seq: String(feed.length + 1), orgId: 'org', kind: 'token', subjectId, occurredAt: new Date() }),
    holdReads: () => {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
    tokenReads: () => tokenReads,
    feedReads: () => feedReads,
  };
}

describe('revocation catch-up of the read cache', () => {
  it('drops what a committed revocation names, and never lets a caller settle for a read that began before it asked', async () => {
    const inner = feedStore();
    const { store, close } = withReadCache(inner.store, createChangeHub());
    await store.revocations.catchUp(); // the first look: where the feed stands
    await store.tokens.getForVerify('tok_a');
    await store.tokens.getForVerify('tok_a');
    assert.equal(inner.tokenReads(), 1, 'cached');

    const release = inner.holdReads();
    const early = store.revocations.catchUp(); // its read starts now, before the revocation
    inner.revoke('tok_a'); // committed (and answered) on another instance
    const late = store.revocations.catchUp(); // asked after: must see it
    release();
    await early;
    await late;
    assert.equal(inner.feedReads(), 2, 'the late caller waited for a read of its own');
    await store.tokens.getForVerify('tok_a');
    assert.equal(inner.tokenReads(), 2, 'the revoked token is read again, not answered from the cache');
    close();
  });

  it('serves every caller that asked during one read with the next read: one query per round trip', async () => {
    const inner = feedStore();
    const { store, close } = withReadCache(inner.store, createChangeHub());
    await store.revocations.catchUp();
    const release = inner.holdReads();
    const first = store.revocations.catchUp();
    const waiting = Array.from({ length: 20 }, () => store.revocations.catchUp());
    release();
    await Promise.all([first, ...waiting]);
    assert.equal(inner.feedReads(), 2);
    close();
  });

  it('reads nothing when no other process writes to the database (PGlite)', async () => {
    const inner = feedStore();
    const { store, close } = withReadCache(inner.store, createChangeHub(), { sharedDatabase: false });
    await store.revocations.catchUp();
    assert.equal(inner.feedReads(), 0);
    close();
  });
});
