import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TesseraError } from '../../src/core/errors.js';
import { defaultPolicy } from '../../src/core/policy.js';
import type { Store } from '../../src/core/store.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

/**
 * The Store contract: one suite, run against every driver (STYLE 6). Each target gets a fresh
 * migrated database of its own, dropped afterwards.
 */
for (const target of databaseTargets) {
  describe(`Store contract on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    const t0 = new Date('2026-01-01T00:00:00Z');

    before(async () => {
      database = await target.create();
      store = database.storage.store;
      await store.roles.syncBuiltins([
        { id: 'role_member', orgId: null, name: 'member', description: '', rights: ['tokens.own'], builtin: true, createdAt: t0 },
      ]);
      await store.orgs.create({ id: 'org_a', name: 'a', displayName: 'A', createdAt: t0 });
      await store.orgs.create({ id: 'org_b', name: 'b', displayName: 'B', createdAt: t0 });
    });
    after(async () => database.dispose());

    /** A unique index's refusal reaches the domain as CONFLICT naming the field (409, not 500). */
    const conflict = (field: string, message: RegExp) => (error: unknown) =>
      error instanceof TesseraError && error.code === 'CONFLICT' && error.field === field && message.test(error.message);

    const principal = (id: string, orgId: string, username: string) => ({
      id,
      orgId,
      kind: 'user' as const,
      username,
      displayName: username,
      email: null,
      passwordHash: 'scrypt$x',
      instanceAdmin: false,
      ipAllowlist: ['10.0.0.0/8'],
      createdAt: t0,
    });

    it('creates principals and finds them only within their organization', async () => {
      const created = await store.principals.create(principal('usr_1', 'org_a', 'alice'));
      assert.equal(created.username, 'alice');
      assert.deepEqual(created.ipAllowlist, ['10.0.0.0/8']);
      assert.equal((await store.principals.get('org_a', 'usr_1'))?.id, 'usr_1');
      assert.equal(await store.principals.get('org_b', 'usr_1'), undefined);
      assert.equal((await store.principals.getByUsername('org_a', 'alice'))?.id, 'usr_1');
      assert.equal(await store.principals.getPasswordHash('org_a', 'usr_1'), 'scrypt$x');
    });

    it('refuses a duplicate username in one organization but not across organizations', async () => {
      await assert.rejects(store.principals.create(principal('usr_dup', 'org_a', 'alice')), conflict('/username', /"alice" is taken/));
      const other = await store.principals.create(principal('usr_2', 'org_b', 'alice'));
      assert.equal(other.orgId, 'org_b');
    });

    it('answers CONFLICT naming the field when a unique name index refuses a write, inside a transaction too', async () => {
      await assert.rejects(store.orgs.create({ id: 'org_a2', name: 'a', displayName: 'A again', createdAt: t0 }), conflict('/name', /organization named "a"/));
      await store.roles.create({ id: 'role_twin', orgId: 'org_a', name: 'twin', description: '', rights: ['tokens.own'], builtin: false, createdAt: t0 });
      await assert.rejects(
        store.roles.create({ id: 'role_twin2', orgId: 'org_a', name: 'twin', description: '', rights: ['tokens.own'], builtin: false, createdAt: t0 }),
        conflict('/name', /role named "twin"/),
      );
      await store.groups.create({ id: 'grp_twin', orgId: 'org_a', name: 'twins', description: '', createdAt: t0 });
      await store.groups.create({ id: 'grp_other', orgId: 'org_a', name: 'others', description: '', createdAt: t0 });
      await assert.rejects(
        store.transaction((tx) => tx.groups.create({ id: 'grp_twin2', orgId: 'org_a', name: 'twins', description: '', createdAt: t0 })),
        conflict('/name', /group named "twins"/),
      );
      await assert.rejects(store.groups.update('org_a', 'grp_other', { name: 'twins' }), conflict('/name', /group named "twins"/), 'a rename too');
      assert.equal((await store.groups.get('org_a', 'grp_other'))?.name, 'others');
      await store.apps.create(
        { id: 'app_twin', orgId: 'org_a', name: 'twin-app', description: '', clientId: 'cli_twin1', secretHash: Buffer.alloc(32), accessTokenTtlSeconds: null, canIntrospect: false, createdBy: null, createdAt: t0, updatedAt: t0, secretRotatedAt: t0 },
        [],
      );
      await assert.rejects(
        store.apps.create(
          { id: 'app_twin2', orgId: 'org_a', name: 'twin-app', description: '', clientId: 'cli_twin2', secretHash: Buffer.alloc(32), accessTokenTtlSeconds: null, canIntrospect: false, createdBy: null, createdAt: t0, updatedAt: t0, secretRotatedAt: t0 },
          [],
        ),
        conflict('/name', /app named "twin-app"/),
      );
    });

    it('paginates principals by keyset with search', async () => {
      for (const name of ['carol', 'dave', 'erin', 'frank']) {
        await store.principals.create(principal(`usr_${name}`, 'org_a', name));
      }
      const first = await store.principals.list('org_a', 'user', { limit: 2 });
      assert.deepEqual(first.items.map((p) => p.username), ['alice', 'carol']);
      assert.ok(first.nextCursor);
      const second = await store.principals.list('org_a', 'user', { limit: 2, cursor: first.nextCursor });
      assert.deepEqual(second.items.map((p) => p.username), ['dave', 'erin']);
      const third = await store.principals.list('org_a', 'user', { limit: 2, cursor: second.nextCursor ?? undefined });
      assert.deepEqual(third.items.map((p) => p.username), ['frank']);
      assert.equal(third.nextCursor, null);
      const search = await store.principals.list('org_a', 'user', { limit: 10, q: 'RA' });
      assert.deepEqual(search.items.map((p) => p.username), ['frank']);
      const percent = await store.principals.list('org_a', 'user', { limit: 10, q: '%' });
      assert.deepEqual(percent.items, [], 'LIKE wildcards in a search are literal');
    });

    it('rejects a tampered cursor', async () => {
      await assert.rejects(store.principals.list('org_a', 'user', { limit: 2, cursor: 'not-a-cursor' }), /Invalid cursor/);
    });

    it('updates and soft-deletes principals, freeing the username', async () => {
      const updated = await store.principals.update('org_a', 'usr_carol', { status: 'disabled', updatedAt: t0 });
      assert.equal(updated?.status, 'disabled');
      assert.equal(await store.principals.update('org_b', 'usr_carol', { status: 'active', updatedAt: t0 }), undefined);
      assert.equal(await store.principals.remove('org_a', 'usr_carol', t0), true);
      assert.equal(await store.principals.get('org_a', 'usr_carol'), undefined);
      assert.equal(await store.principals.remove('org_a', 'usr_carol', t0), false);
      await store.principals.create(principal('usr_carol2', 'org_a', 'carol'));
    });

    it('computes effective roles from direct roles and groups', async () => {
      await store.roles.create({ id: 'rol_x', orgId: 'org_a', name: 'auditor-ish', description: '', rights: ['audit.read'], builtin: false, createdAt: t0 });
      await store.principals.setRoles('org_a', 'usr_1', ['role_member']);
      assert.deepEqual((await store.principals.effectiveRoles('org_a', 'usr_1')).map((r) => r.name), ['member']);
      await store.groups.create({ id: 'grp_1', orgId: 'org_a', name: 'ops', description: '', createdAt: t0 });
      await store.groups.setMembers('org_a', 'grp_1', ['usr_1']);
      await store.groups.setRoles('org_a', 'grp_1', ['rol_x']);
      const names = (await store.principals.effectiveRoles('org_a', 'usr_1')).map((r) => r.name).sort();
      assert.deepEqual(names, ['auditor-ish', 'member']);
      assert.deepEqual((await store.principals.directRoles('org_a', 'usr_1')).map((r) => r.name), ['member']);
      assert.deepEqual((await store.groups.members('org_a', 'grp_1')).map((p) => p.id), ['usr_1']);
      // A custom role of organization A is invisible from organization B.
      assert.equal(await store.roles.get('org_b', 'rol_x'), undefined);
      assert.equal((await store.roles.getByName('org_b', 'member'))?.id, 'role_member');
    });

    it('keeps built-in roles read-only through update and remove', async () => {
      assert.equal(await store.roles.update('org_a', 'role_member', { rights: ['policy.manage'] }), undefined);
      assert.equal(await store.roles.remove('org_a', 'role_member'), false);
      assert.equal(await store.roles.remove('org_a', 'rol_x'), true);
      assert.deepEqual((await store.principals.effectiveRoles('org_a', 'usr_1')).map((r) => r.name), ['member']);
    });

    it('stores sessions and ends them', async () => {
      const hash = Buffer.alloc(32, 1);
      await store.sessions.create({
        id: 'ses1', orgId: 'org_a', principalId: 'usr_1', secretHash: hash, createdAt: t0, lastSeenAt: t0,
        expiresAt: new Date(t0.getTime() + 3600_000), endedAt: null, clientIp: '127.0.0.1', userAgent: 'test',
      });
      const session = await store.sessions.get('ses1');
      assert.ok(session);
      assert.ok(Buffer.isBuffer(session.secretHash));
      assert.deepEqual(session.secretHash, hash);
      const later = new Date(t0.getTime() + 60_000);
      await store.sessions.touch('ses1', later);
      assert.equal((await store.sessions.get('ses1'))?.lastSeenAt.getTime(), later.getTime());
      await store.sessions.endAllFor('usr_1', later);
      assert.equal((await store.sessions.get('ses1'))?.endedAt?.getTime(), later.getTime());
    });

    it('counts login failures atomically and restarts the window', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => store.throttle.recordFailure('k', t0, 60)));
      assert.deepEqual(results.map((r) => r.failures).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const next = await store.throttle.recordFailure('k', new Date(t0.getTime() + 61_000), 60);
      assert.equal(next.failures, 1);
      await store.throttle.clear('k');
      assert.equal(await store.throttle.get('k'), undefined);
    });

    it('rolls back every write of a failed transaction, audit included', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.principals.create(principal('usr_rollback', 'org_a', 'rollback'));
          await tx.audit.append({
            orgId: 'org_a', occurredAt: t0, action: 'user.created', outcome: 'success', actorPrincipalId: null,
            actorTokenId: null, targetType: 'principal', targetId: 'usr_rollback', clientIp: null, userAgent: null,
            requestId: null, details: {},
          });
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.principals.get('org_a', 'usr_rollback'), undefined);
      const events = await store.audit.list({ orgId: 'org_a', limit: 10, targetId: 'usr_rollback' });
      assert.equal(events.items.length, 0);
    });

    it('serialises concurrent transactions', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.principals.create(principal(`usr_c${i}`, 'org_b', `concurrent${i}`));
            await tx.principals.setRoles('org_b', `usr_c${i}`, ['role_member']);
          }),
        ),
      );
      const page = await store.principals.list('org_b', 'user', { limit: 100, q: 'concurrent' });
      assert.equal(page.items.length, 20);
    });

    it('appends audit events and pages through them newest first with filters', async () => {
      for (let i = 0; i < 5; i++) {
        await store.audit.append({
          orgId: 'org_a', occurredAt: new Date(t0.getTime() + i * 1000), action: i % 2 ? 'login.failure' : 'login.success',
          outcome: 'success', actorPrincipalId: 'usr_1', actorTokenId: null, targetType: null, targetId: null,
          clientIp: '127.0.0.1', userAgent: null, requestId: `r${i}`, details: { n: i },
        });
      }
      const first = await store.audit.list({ orgId: 'org_a', limit: 2 });
      assert.deepEqual(first.items.map((e) => e.requestId), ['r4', 'r3']);
      const second = await store.audit.list({ orgId: 'org_a', limit: 2, cursor: first.nextCursor ?? undefined });
      assert.deepEqual(second.items.map((e) => e.requestId), ['r2', 'r1']);
      const failures = await store.audit.list({ orgId: 'org_a', limit: 10, action: 'login.failure' });
      assert.deepEqual(failures.items.map((e) => e.details['n']), [3, 1]);
      const family = await store.audit.list({ orgId: 'org_a', limit: 10, action: 'login.*' });
      assert.equal(family.items.length, 5);
      assert.equal((await store.audit.list({ orgId: 'org_b', limit: 10 })).items.length, 0);
    });

    it('prunes audit events older than the retention cut-off, and only those', async () => {
      const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
      // Appended as one batch, as the usage recorder writes exchange and denial events.
      await store.audit.appendMany(
        [10, 20, 30].map((day) => ({ orgId: 'org_b', occurredAt: at(day), action: 'retention.probe', outcome: 'success' as const, actorPrincipalId: null, actorTokenId: null, targetType: null, targetId: null, clientIp: null, userAgent: null, requestId: `d${day}`, details: { day } })),
      );
      assert.ok((await store.audit.pruneBefore(at(25))) >= 2);
      const left = await store.audit.list({ orgId: 'org_b', limit: 10, action: 'retention.probe' });
      assert.deepEqual(left.items.map((e) => [e.requestId, e.details['day']]), [['d30', 30]]);
      // A batch keeps its order: newest-first listing shows it reversed.
      await store.audit.appendMany(Array.from({ length: 50 }, (_, i) => ({ orgId: 'org_b', occurredAt: at(40), action: 'batch.probe', outcome: 'success' as const, actorPrincipalId: null, actorTokenId: null, targetType: null, targetId: null, clientIp: '10.0.0.1', userAgent: 'ua', requestId: `b${i}`, details: { i, nested: { ok: true } } })));
      const batch = await store.audit.list({ orgId: 'org_b', limit: 100, action: 'batch.probe' });
      assert.deepEqual(batch.items.map((e) => e.requestId), Array.from({ length: 50 }, (_, i) => `b${49 - i}`));
      assert.deepEqual(batch.items[0]?.details, { i: 49, nested: { ok: true } });
      assert.equal(batch.items[0]?.occurredAt.toISOString(), at(40).toISOString());
    });

    it('writes a batch event once however often its write is retried (write keys, issue 13)', async () => {
      const probe = (i: number, writeKey?: string) => ({
        orgId: 'org_b', occurredAt: t0, action: 'retry.probe', outcome: 'success' as const, actorPrincipalId: null, actorTokenId: null,
        targetType: null, targetId: `k${i}`, clientIp: null, userAgent: null, requestId: null, details: {}, writeKey,
      });
      await store.audit.appendMany([probe(1, 'w.1'), probe(2, 'w.2')]);
      // The retry of a batch whose commit went through unanswered, with a newer event behind it.
      await store.audit.appendMany([probe(1, 'w.1'), probe(2, 'w.2'), probe(3, 'w.3')]);
      // Events without a key (written in their change's transaction) are never taken for duplicates.
      await store.audit.appendMany([probe(4), probe(4)]);
      const written = await store.audit.list({ orgId: 'org_b', limit: 20, action: 'retry.probe' });
      assert.deepEqual(written.items.map((e) => e.targetId).reverse(), ['k1', 'k2', 'k3', 'k4', 'k4']);
    });

    it('answers every read after a write with the write, and never with a rolled-back one (read cache)', async () => {
      await store.orgs.create({ id: 'org_cache', name: 'cache', displayName: 'Cache', createdAt: t0 });
      assert.equal(await store.policies.get('org_cache'), undefined, 'absent, and now cached as absent');
      await store.policies.put('org_cache', { ...defaultPolicy, maxTokensPerUser: 1 }, t0);
      assert.deepEqual(await store.policies.get('org_cache'), { ...defaultPolicy, maxTokensPerUser: 1 });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.policies.put('org_cache', { ...defaultPolicy, maxTokensPerUser: 2 }, t0);
          assert.deepEqual(await tx.policies.get('org_cache'), { ...defaultPolicy, maxTokensPerUser: 2 }, 'a transaction reads its own write');
          // (Not read from outside here: PGlite has one connection, held by this transaction.)
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await store.policies.get('org_cache'), { ...defaultPolicy, maxTokensPerUser: 1 }, 'the rolled-back write is not served');
      await store.transaction((tx) => tx.policies.put('org_cache', { ...defaultPolicy, maxTokensPerUser: 3 }, t0));
      assert.deepEqual(await store.policies.get('org_cache'), { ...defaultPolicy, maxTokensPerUser: 3 }, 'the committed write is served at once');
    });

    it('lets exactly one of many concurrent claims run a periodic job per period', async () => {
      const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => store.jobs.claim('contract-job', t0, 60, `instance-${i}`)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal(await store.jobs.claim('contract-job', new Date(t0.getTime() + 59_000), 60, 'late'), false, 'not again within the period');
      assert.equal(await store.jobs.claim('contract-job', new Date(t0.getTime() + 60_000), 60, 'next'), true, 'due again after it');
      assert.equal(await store.jobs.claim('another-job', t0, 60, 'x'), true, 'jobs are claimed independently');
    });

    // Issue 17. Last in the suite: its retention run also clears the older events of the default partition.
    it('partitions the audit log by month: events move into a month created after them, pages cross months, retention drops whole months', async () => {
      await store.orgs.create({ id: 'org_p', name: 'p', displayName: 'P', createdAt: t0 });
      const ev = (iso: string, n: number, writeKey?: string) => ({
        orgId: 'org_p', occurredAt: new Date(iso), action: 'part.probe', outcome: 'success' as const, actorPrincipalId: null, actorTokenId: null,
        targetType: null, targetId: null, clientIp: null, userAgent: null, requestId: `p${n}`, details: { n }, writeKey,
      });
      // No partition for these months yet: the default partition takes them.
      await store.audit.appendMany([ev('2031-03-10T00:00:00Z', 1, 'pk.1'), ev('2031-04-10T00:00:00Z', 2, 'pk.2'), ev('2031-05-10T00:00:00Z', 3, 'pk.3')]);
      await store.audit.append(ev('2030-01-01T00:00:00Z', 5));
      const months = ['audit_events_203103', 'audit_events_203104', 'audit_events_203105'];
      assert.deepEqual(await store.audit.preparePartitions(new Date('2031-03-05T00:00:00Z'), new Date('2031-05-02T00:00:00Z')), months);
      assert.deepEqual(await store.audit.preparePartitions(new Date('2031-03-05T00:00:00Z'), new Date('2031-05-02T00:00:00Z')), [], 'each month once');
      // A retried batch meets its keys in the partitions they moved to.
      await store.audit.appendMany([ev('2031-03-10T00:00:00Z', 1, 'pk.1'), ev('2031-04-10T00:00:00Z', 2, 'pk.2')]);
      await store.audit.append(ev('2031-04-20T00:00:00Z', 4));
      const pages = async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.audit.list({ orgId: 'org_p', limit: 1, action: 'part.*', cursor });
          seen.push(...page.items.map((e) => e.requestId ?? ''));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return seen;
      };
      assert.deepEqual(await pages(), ['p3', 'p4', 'p2', 'p1', 'p5'], 'newest first, one page each, across partitions, no duplicate');
      const slice = await store.audit.list({ orgId: 'org_p', limit: 10, since: new Date('2031-04-01T00:00:00Z'), until: new Date('2031-05-01T00:00:00Z') });
      assert.deepEqual(slice.items.map((e) => e.requestId), ['p4', 'p2']);

      // March is wholly older than the cut-off: dropped. April straddles it: kept whole. The
      // default partition's older rows are deleted.
      const removed = await store.audit.pruneBefore(new Date('2031-04-15T00:00:00Z'));
      assert.ok(removed >= 2, `removed ${removed}`);
      assert.deepEqual(await pages(), ['p3', 'p4', 'p2']);
      assert.deepEqual(await store.audit.preparePartitions(new Date('2031-03-01T00:00:00Z'), new Date('2031-06-01T00:00:00Z')), ['audit_events_203103'], 'March was dropped, not emptied');
      assert.equal(await store.audit.pruneBefore(new Date('2031-04-15T00:00:00Z')), 0, 'nothing left to remove');
      // Partition changes are serialised: concurrent preparations create each month once.
      const made = await Promise.all([0, 1, 2].map(() => store.audit.preparePartitions(new Date('2031-07-01T00:00:00Z'), new Date('2031-08-01T00:00:00Z'))));
      assert.deepEqual(made.flat(), ['audit_events_203107']);
    });

    it('adds exchange counts per token, minute and outcome, a retried batch once, and prunes them (issue 17)', async () => {
      const m = (minute: number) => new Date(Date.UTC(2031, 0, 1, 0, minute));
      const count = (minute: number, outcome: 'success' | 'denied', n: number) => ({ orgId: 'org_a', tokenId: 'tok_u', minute: m(minute), outcome, count: n });
      const first = [count(0, 'success', 3), count(0, 'denied', 1), count(1, 'success', 2)];
      assert.equal(await store.usage.add('u.1', first), true);
      assert.equal(await store.usage.add('u.1', first), false, 'a retried batch adds nothing');
      assert.equal(await store.usage.add('u.2', [count(1, 'success', 5)]), true);
      const shown = (list: { minute: Date; outcome: string; count: number }[]) => list.map((c) => [c.minute.toISOString().slice(11, 16), c.outcome, c.count]);
      assert.deepEqual(shown(await store.usage.list('org_a', 'tok_u', m(0), m(2))), [['00:00', 'denied', 1], ['00:00', 'success', 3], ['00:01', 'success', 7]]);
      assert.deepEqual(shown(await store.usage.list('org_a', 'tok_u', m(1), m(2))), [['00:01', 'success', 7]]);
      assert.deepEqual(await store.usage.list('org_b', 'tok_u', m(0), m(2)), [], 'only within its organization');
      assert.equal(await store.usage.pruneBefore(m(1), m(0)), 2);
      assert.deepEqual(shown(await store.usage.list('org_a', 'tok_u', m(0), m(2))), [['00:01', 'success', 7]]);
      assert.equal(await store.usage.add('u.1', first), false, 'its key is still kept');
      assert.equal(await store.usage.pruneBefore(null, m(5)), 0);
      assert.equal(await store.usage.add('u.1', [count(1, 'success', 1)]), true, 'a key is forgotten after its time');
    });
  });
}
