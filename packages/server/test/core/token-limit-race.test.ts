import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildActor } from '../../src/core/auth.js';
import { bootstrapInstance } from '../../src/core/bootstrap.js';
import type { ActorContext } from '../../src/core/context.js';
import { createDirectoryService } from '../../src/core/directory/index.js';
import { TesseraError } from '../../src/core/errors.js';
import type { Principal } from '../../src/core/model.js';
import { systemClock, systemRandom } from '../../src/core/ports.js';
import type { Store } from '../../src/core/store.js';
import { createTokenService } from '../../src/core/tokens/index.js';
import { createUsageRecorder } from '../../src/core/usage.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

/**
 * Acceptance: 50 concurrent creates for a user who holds 4 tokens under a limit of 5 leave
 * exactly 5 active tokens, 20 times over; the 49 refusals name the limit. Through the token
 * service on each Store: on PostgreSQL its pool runs the creates on several connections at once
 * (checked), so only the owner's row lock keeps the count and the insert together.
 */
for (const target of databaseTargets) {
  describe(`the token limit under 50 concurrent creates on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    let tokens: ReturnType<typeof createTokenService>;
    let directory: ReturnType<typeof createDirectoryService>;
    let admin: ActorContext;

    before(async () => {
      database = await target.create();
      store = database.storage.store;
      const deps = { store, clock: systemClock, random: systemRandom };
      await bootstrapInstance(deps, 'the admin password');
      directory = createDirectoryService(deps);
      const usage = createUsageRecorder({ store, flushMs: 1000, onError: (error) => assert.fail(String(error)) });
      tokens = createTokenService({ ...deps, secretKey: Buffer.alloc(32, 5), tokenPrefix: 'tsr', configPresets: [], usage });
      const owner = (await store.principals.getByUsername('org_default', 'admin')) as Principal;
      admin = { actor: await buildActor(store, owner, { method: 'pwd', tokenId: null, sessionId: null }), clientIp: '127.0.0.1', userAgent: 'test', requestId: null };
    });
    after(async () => database.dispose());

    it('leaves exactly 5 active tokens and names the limit in the 49 refusals, 20 rounds in a row', async () => {
      for (let round = 0; round < 20; round++) {
        const created = await directory.createPrincipal(admin, 'user', { username: `racer-${round}`, password: 'a long enough password', roles: ['member'] });
        const principal = (await store.principals.get(created.orgId, created.id)) as Principal;
        const ctx: ActorContext = { actor: await buildActor(store, principal, { method: 'pwd', tokenId: null, sessionId: null }), clientIp: '127.0.0.1', userAgent: 'test', requestId: `round-${round}` };
        for (let i = 0; i < 4; i++) await tokens.create(ctx, { name: `held-${i}`, scope: { kind: 'all' } });

        const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => tokens.create(ctx, { name: `race-${i}`, scope: { kind: 'all' } })));

        const won = results.filter((result) => result.status === 'fulfilled');
        const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
        assert.equal(won.length, 1, `round ${round}: one create wins`);
        assert.equal(lost.length, 49);
        for (const { reason } of lost) {
          assert.ok(reason instanceof TesseraError, String(reason));
          assert.equal(reason.code, 'TOKEN_LIMIT_REACHED');
          assert.match(reason.message, /the limit of 5 for users: revoke a token first/);
        }
        const active = await tokens.list(ctx, { all: false, status: 'active', sort: 'created_at', descending: false, limit: 100 });
        assert.equal(active.items.length, 5, `round ${round}: exactly 5 active tokens`);
        assert.equal((await tokens.list(ctx, { all: false, sort: 'created_at', descending: false, limit: 100 })).items.length, 5, 'and nothing else was written');
      }
    });

    if (target.name === 'postgres') {
      it('ran the creates on several connections at once', async () => {
        // The pool keeps connections idle for a while after the race: more than one means the
        // creates really ran in parallel transactions, not one after another on one connection.
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
          assert.ok(Number(rows[0]?.n) > 1, `${rows[0]?.n} connection(s) from the store's pool`);
        } finally {
          await client.end();
        }
      });
    }
  });
}
