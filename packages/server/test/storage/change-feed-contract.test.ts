import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Change } from '../../src/core/changes.js';
import type { Store } from '../../src/core/store.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The change feed (SPEC 8): published through the Store, heard through Storage.changes, on both
 * drivers. Transactional: heard at commit, never after a rollback.
 */
for (const target of databaseTargets) {
  describe(`change feed on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    const heard: Change[] = [];
    let missed = 0;
    let unsubscribe: () => void;

    before(async () => {
      database = await target.create();
      store = database.storage.store;
      unsubscribe = database.storage.changes.subscribe({ change: (change) => heard.push(change), missed: () => missed++ });
    });
    after(async () => {
      unsubscribe();
      await database.dispose();
    });

    it('delivers a change published outside a transaction', async () => {
      heard.length = 0;
      await store.changes.publish('signing_keys', 'k1');
      await until(() => heard.length === 1, 2000);
      assert.deepEqual(heard, [{ topic: 'signing_keys', key: 'k1' }]);
    });

    it('delivers a change made in a transaction at its commit, and nothing of a rolled-back one', async () => {
      heard.length = 0;
      await store.transaction(async (tx) => {
        await tx.changes.publish('revocations', 'org_a');
        // Not before the commit: a listener reloading now would read the old state.
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(heard.length, 0, 'not heard before commit');
      });
      await until(() => heard.length === 1, 2000);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.changes.publish('revocations', 'rolled-back');
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await store.changes.publish('revocations', 'after');
      await until(() => heard.length === 2, 2000);
      assert.deepEqual(heard.map((change) => change.key), ['org_a', 'after']);
    });

    it('announces every revocation-feed append on the topic revocations', async () => {
      heard.length = 0;
      await store.transaction((tx) => tx.revocationEvents.append({ orgId: 'org_feed', kind: 'token', subjectId: 'tok_x', occurredAt: new Date() }));
      await until(() => heard.length === 1, 2000);
      assert.deepEqual(heard, [{ topic: 'revocations', key: 'org_feed' }]);
    });

    if (target.name === 'postgres') {
      it('reconnects after losing its connection and reports that changes may have been missed', async () => {
        heard.length = 0;
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          const { rows } = await admin.query(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tessera-changes'",
          );
          assert.equal(rows.length, 1, 'one listening connection');
          // Sent while nobody listens: lost, which is why `missed` follows the reconnect.
          await admin.query("SELECT pg_notify('tessera_changes', '{\"t\":\"signing_keys\",\"k\":\"lost\"}')");
        } finally {
          await admin.end();
        }
        const started = Date.now();
        await until(() => missed === 1, 5000);
        console.log(`# change listener reconnected ${Date.now() - started} ms after its connection was killed`);
        await store.changes.publish('signing_keys', 'k2');
        await until(() => heard.some((change) => change.key === 'k2'), 2000);
        assert.ok(!heard.some((change) => change.key === 'lost'));
      });

      it('ignores payloads on the channel that are not changes', async () => {
        heard.length = 0;
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          await admin.query("SELECT pg_notify('tessera_changes', 'not json'), pg_notify('tessera_changes', '{\"t\":\"nope\",\"k\":\"x\"}')");
        } finally {
          await admin.end();
        }
        await store.changes.publish('signing_keys', 'k3');
        await until(() => heard.length === 1, 2000);
        assert.deepEqual(heard, [{ topic: 'signing_keys', key: 'k3' }]);
      });
    }
  });
}
