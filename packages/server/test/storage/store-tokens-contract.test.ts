import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { TesseraError } from '../../src/core/errors.js';
import type { ApiToken, TokenStatus } from '../../src/core/model.js';
import { defaultPolicy } from '../../src/core/policy.js';
import { tokenSortColumns, type Store, type TokenListQuery, type TokenView } from '../../src/core/store.js';
import { tokenStatus } from '../../src/core/tokens/index.js';
import { maxOwnersById } from '../../src/storage/sql-token-list.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';

const day = 86_400_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * day);

/**
 * The Store contract for API tokens, policies, presets and saved searches (STYLE 6): one suite,
 * run on PGlite always and PostgreSQL when TESSERA_TEST_DATABASE_URL is set.
 */
for (const target of databaseTargets) {
  describe(`Store contract for tokens on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    let seq = 0;

    const principal = (id: string, orgId: string, username: string, kind: 'user' | 'service_account' = 'user') =>
      store.principals.create({ id, orgId, kind, username, displayName: username, email: null, passwordHash: null, instanceAdmin: false, ipAllowlist: [], createdAt: t0 });

    /** A token with every field given, defaults for the rest; ids are 12 characters like real ones. */
    const token = (fields: Partial<ApiToken> & { ownerId: string; orgId?: string }): ApiToken => {
      seq += 1;
      return {
        id: `tok${String(seq).padStart(9, '0')}`,
        orgId: 'org_a',
        createdBy: fields.ownerId,
        name: `token${String(seq).padStart(4, '0')}`,
        mode: 'refreshable',
        scopeKind: 'all',
        endpoints: [],
        roles: ['member'],
        ipAllowlist: [],
        expiresAt: null,
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: null,
        revokedBy: null,
        revokeReason: null,
        createdAt: t0,
        updatedAt: t0,
        ...fields,
      };
    };
    /** Creates a token, then brings it to the given state the way the service does: recorded use, revocation. */
    const insert = async (fields: Partial<ApiToken> & { ownerId: string }, hash = Buffer.alloc(32, seq % 256)) => {
      const t = token(fields);
      await store.tokens.create(t, hash);
      if (t.lastUsedAt) await store.tokens.recordUsage([{ id: t.id, at: t.lastUsedAt, ip: '192.0.2.1' }]);
      if (t.revokedAt) await store.tokens.revoke(t.orgId, t.id, t.revokedBy ?? t.ownerId, null, t.revokedAt);
      return t;
    };
    const query = (fields: Partial<TokenListQuery> = {}): TokenListQuery => ({
      orgId: 'org_a',
      sort: 'created_at',
      descending: false,
      limit: 1000,
      now: at(100),
      idleTimeoutSeconds: null,
      ...fields,
    });
    /** Every page of a query, `limit` at a time, through the cursors. */
    const allPages = async (q: TokenListQuery, limit: number) => {
      const items: TokenView[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.tokens.list({ ...q, limit, cursor });
        items.push(...page.items);
        if (!page.nextCursor) return items;
        cursor = page.nextCursor;
      }
      throw new Error('the cursor never ended');
    };

    before(async () => {
      database = await target.create();
      store = database.storage.store;
      await store.orgs.create({ id: 'org_a', name: 'a', displayName: 'A', createdAt: t0 });
      await store.orgs.create({ id: 'org_b', name: 'b', displayName: 'B', createdAt: t0 });
      await principal('usr_alice', 'org_a', 'alice');
      await principal('usr_bob', 'org_a', 'Bob');
      await principal('sva_robot', 'org_a', 'robot', 'service_account');
      await principal('usr_eve', 'org_b', 'eve');
    });
    after(async () => database.dispose());

    it('stores a token and finds it only in its organization, keeping secrets out of metadata reads', async () => {
      const created = await insert({ ownerId: 'usr_alice', name: 'ci', scopeKind: 'custom', endpoints: ['/plans', 'GET /clients'], ipAllowlist: ['10.0.0.0/8'], expiresAt: at(90) }, Buffer.alloc(32, 9));
      const shown = await store.tokens.get('org_a', created.id);
      assert.ok(shown);
      assert.equal(shown.ownerUsername, 'alice');
      assert.deepEqual(shown.endpoints, ['/plans', 'GET /clients']);
      assert.deepEqual(shown.ipAllowlist, ['10.0.0.0/8']);
      assert.equal(shown.expiresAt?.getTime(), at(90).getTime());
      assert.ok(!JSON.stringify(shown).includes('secret'), 'no hash in metadata');
      assert.equal(await store.tokens.get('org_b', created.id), undefined, 'another organization sees nothing');
      const forVerify = await store.tokens.getForVerify(created.id);
      assert.ok(forVerify && Buffer.isBuffer(forVerify.secrets.secretHash));
      assert.deepEqual(forVerify.secrets.secretHash, Buffer.alloc(32, 9));
      assert.equal(forVerify.secrets.previousSecretHash, null);
      const listed = await store.tokens.list(query({ ownerId: 'usr_alice' }));
      assert.ok(!JSON.stringify(listed).includes('secret'));
    });

    it('keeps names unique per owner among tokens that are not revoked', async () => {
      const first = await insert({ ownerId: 'usr_alice', name: 'dup' });
      await assert.rejects(insert({ ownerId: 'usr_alice', name: 'dup' }), (error: unknown) => error instanceof TesseraError && error.code === 'CONFLICT' && error.field === '/name');
      const other = await insert({ ownerId: 'usr_alice', name: 'other' });
      await assert.rejects(store.tokens.update('org_a', other.id, { name: 'dup', updatedAt: at(1) }), (error: unknown) => error instanceof TesseraError && error.code === 'CONFLICT', 'a rename too');
      await insert({ ownerId: 'usr_bob', name: 'dup' });
      await store.tokens.revoke('org_a', first.id, 'usr_alice', null, at(1));
      await insert({ ownerId: 'usr_alice', name: 'dup' });
    });

    it('counts only active tokens under the owner lock, in a transaction', async () => {
      await principal('usr_counted', 'org_a', 'counted');
      await insert({ ownerId: 'usr_counted' });
      await insert({ ownerId: 'usr_counted', expiresAt: at(200) });
      await insert({ ownerId: 'usr_counted', expiresAt: at(50) }); // expired at day 100
      await insert({ ownerId: 'usr_counted', revokedAt: at(10), revokedBy: 'usr_counted' });
      await insert({ ownerId: 'usr_counted', createdAt: at(95) }); // recent: not idle
      await insert({ ownerId: 'usr_counted', lastUsedAt: at(99) });
      const count = (idle: number | null) =>
        store.transaction(async (tx) => {
          await tx.tokens.lockOwner('usr_counted');
          return tx.tokens.countActive('usr_counted', at(100), idle);
        });
      assert.equal(await count(null), 4);
      assert.equal(await count(10 * 86_400), 2, 'tokens without use for 10 days are idle');
    });

    it('pages every sort column both ways through keyset cursors without gaps or repeats', async () => {
      await principal('usr_pager', 'org_a', 'pager');
      // Ties on every column, NULLs where allowed, so the id tiebreak and the sentinels matter.
      for (let i = 0; i < 23; i++) {
        await insert({
          ownerId: i % 3 === 0 ? 'usr_pager' : 'usr_bob',
          name: `page${String(i % 7).padStart(2, '0')}x${i}`,
          createdAt: at(i % 4),
          expiresAt: i % 5 === 0 ? null : at(100 + (i % 3)),
          lastUsedAt: i % 4 === 0 ? null : at(90 + (i % 2)),
          revokedAt: i % 6 === 0 ? at(50) : null,
          revokedBy: i % 6 === 0 ? 'usr_bob' : null,
        });
      }
      const scope = { q: 'page' };
      for (const sort of tokenSortColumns) {
        for (const descending of [false, true]) {
          const whole = (await store.tokens.list(query({ ...scope, sort, descending, idleTimeoutSeconds: 30 * 86_400 }))).items.map((t) => t.id);
          assert.equal(whole.length, 23);
          const paged = (await allPages(query({ ...scope, sort, descending, idleTimeoutSeconds: 30 * 86_400 }), 4)).map((t) => t.id);
          assert.deepEqual(paged, whole, `${sort} ${descending ? 'desc' : 'asc'}`);
        }
      }
      const byExpiry = (await store.tokens.list(query({ ...scope, sort: 'expires_at' }))).items.map((t) => t.expiresAt?.getTime() ?? Infinity);
      assert.deepEqual(byExpiry, [...byExpiry].sort((a, b) => a - b), 'never-expiring tokens sort last');
      const byUse = (await store.tokens.list(query({ ...scope, sort: 'last_used_at', descending: true }))).items.map((t) => t.lastUsedAt?.getTime() ?? -Infinity);
      assert.deepEqual(byUse, [...byUse].sort((a, b) => b - a), 'never-used tokens sort first ascending, last descending');
      const byStatus = (await store.tokens.list(query({ ...scope, sort: 'status' }))).items.map((t) => tokenStatus(t, at(100), null));
      assert.deepEqual(byStatus, [...byStatus].sort());
      await assert.rejects(store.tokens.list(query({ cursor: 'bogus' })), /Invalid cursor/);
    });

    it('filters by owner, kind, search and usage', async () => {
      await principal('usr_filter', 'org_a', 'Filtered_Owner');
      const custom = await insert({ ownerId: 'usr_filter', name: 'Deploy-Prod', scopeKind: 'custom', endpoints: ['/x'] });
      const used = await insert({ ownerId: 'usr_filter', name: 'used-recently', lastUsedAt: at(98) });
      const stale = await insert({ ownerId: 'usr_filter', name: '100%-stale', lastUsedAt: at(20) });
      const ids = (items: readonly TokenView[]) => items.map((t) => t.id).sort();
      const mine = query({ ownerId: 'usr_filter' });
      assert.deepEqual(ids((await store.tokens.list(mine)).items), [custom.id, used.id, stale.id].sort());
      assert.deepEqual(ids((await store.tokens.list({ ...mine, kind: 'custom' })).items), [custom.id]);
      assert.deepEqual(ids((await store.tokens.list(query({ q: 'deploy-PROD' }))).items), [custom.id], 'search ignores case');
      assert.deepEqual(ids((await store.tokens.list(query({ q: 'filtered_owner' }))).items).length, 3, 'search finds the owner');
      assert.deepEqual(ids((await store.tokens.list(query({ q: '100%' }))).items), [stale.id], '% is literal');
      assert.deepEqual((await store.tokens.list(query({ q: '_%_' }))).items, []);
      // Shorter than a trigram: a whole name or owner username, not a substring (no index serves that).
      await principal('usr_short', 'org_a', 'zq');
      const short = await insert({ ownerId: 'usr_short', name: 'q7' });
      assert.deepEqual(ids((await store.tokens.list(query({ q: 'q7' }))).items), [short.id], 'a two-character term matches a whole name');
      assert.deepEqual((await store.tokens.list(query({ q: 'pr' }))).items, [], 'and not a part of one (Deploy-Prod)');
      assert.deepEqual(ids((await store.tokens.list(query({ q: 'Pro' }))).items), [custom.id], 'three characters are a substring again');
      assert.deepEqual(ids((await store.tokens.list(query({ q: 'zq' }))).items), [short.id], 'or a whole owner username');
      assert.deepEqual(ids((await store.tokens.list({ ...mine, neverUsed: true })).items), [custom.id]);
      assert.deepEqual(ids((await store.tokens.list({ ...mine, usedSince: at(90) })).items), [used.id]);
      assert.deepEqual(ids((await store.tokens.list({ ...mine, unusedDays: 30 })).items), [custom.id, stale.id].sort(), 'never used counts as unused');
      assert.deepEqual((await store.tokens.list(query({ orgId: 'org_b' }))).items, []);
    });

    it('finds the same tokens by owner whether few owners match or more than it looks up by id', async () => {
      // Up to maxOwnersById owners are matched through the principals, beyond through owner_username.
      const many = maxOwnersById + 1;
      for (let i = 0; i < many; i++) {
        await principal(`usr_crowd${i}`, 'org_a', `crowd-member-${i}`);
        await insert({ ownerId: `usr_crowd${i}`, name: `crowd-token-${i}` });
      }
      await principal('usr_crowd_other', 'org_b', 'crowd-member-elsewhere');
      const count = async (q: string) => (await allPages(query({ q }), 50)).length;
      assert.equal(await count('crowd-member'), many, 'every owner, none of another organization');
      assert.equal(await count('crowd-member-7'), 1 + 10, 'crowd-member-7 and -70 to -79');
      assert.equal(await count('CROWD-MEMBER-100'), 1, 'ignoring case');
      assert.equal(await count('crowd-token-100'), 1, 'by name too');
    });

    it('filters by status exactly as tokenStatus computes it, for any clock and idle timeout (property)', async () => {
      await principal('usr_status', 'org_a', 'status');
      const instant = fc.integer({ min: 0, max: 200 }).map((d) => at(d));
      const tokens = fc.sample(
        fc.record({
          createdAt: instant,
          expiresAt: fc.option(instant, { nil: null }),
          lastUsedAt: fc.option(instant, { nil: null }),
          revokedAt: fc.option(instant, { nil: null, freq: 4 }),
        }),
        { numRuns: 60, seed: 3 },
      );
      const stored: ApiToken[] = [];
      for (const fields of tokens) stored.push(await insert({ ownerId: 'usr_status', ...fields, revokedBy: fields.revokedAt ? 'usr_status' : null }));
      const statuses: TokenStatus[] = ['active', 'expired', 'idle', 'revoked'];
      const settings = fc.sample(fc.tuple(fc.integer({ min: 0, max: 220 }), fc.option(fc.integer({ min: 0, max: 120 }), { nil: null })), { numRuns: 12, seed: 4 });
      for (const [nowDay, idleDays] of settings) {
        const now = at(nowDay);
        const idle = idleDays === null ? null : idleDays * 86_400;
        for (const status of statuses) {
          const found = (await store.tokens.list(query({ ownerId: 'usr_status', status, now, idleTimeoutSeconds: idle }))).items.map((t) => t.id).sort();
          const expected = stored.filter((t) => tokenStatus(t, now, idle) === status).map((t) => t.id).sort();
          assert.deepEqual(found, expected, `${status} at day ${nowDay}, idle ${idleDays}`);
        }
        const active = await store.transaction(async (tx) => tx.tokens.countActive('usr_status', now, idle));
        assert.equal(active, stored.filter((t) => tokenStatus(t, now, idle) === 'active').length, 'the limit counts what the list calls active');
      }
    });

    it('updates, replaces secrets compare-and-swap, and revokes once', async () => {
      const t = await insert({ ownerId: 'usr_alice', name: 'lifecycle' }, Buffer.alloc(32, 1));
      const updated = await store.tokens.update('org_a', t.id, { name: 'renamed', expiresAt: at(30), scopeKind: 'custom', endpoints: ['/a'], roles: [], ipAllowlist: ['::1'], updatedAt: at(1) });
      assert.equal(updated?.name, 'renamed');
      assert.deepEqual(updated?.endpoints, ['/a']);
      assert.equal(await store.tokens.update('org_b', t.id, { name: 'x', updatedAt: at(1) }), undefined);

      const swap = (expected?: Buffer) =>
        store.tokens.replaceSecret(t.id, { secretHash: Buffer.alloc(32, 2), previousSecretHash: Buffer.alloc(32, 1), previousValidUntil: at(2), previousFromRefresh: false, updatedAt: at(1) }, expected);
      assert.equal(await swap(Buffer.alloc(32, 7)), false, 'a stale expected hash changes nothing');
      assert.equal(await swap(Buffer.alloc(32, 1)), true);
      const secrets = (await store.tokens.getForVerify(t.id))?.secrets;
      assert.deepEqual(secrets?.secretHash, Buffer.alloc(32, 2));
      assert.deepEqual(secrets?.previousSecretHash, Buffer.alloc(32, 1));
      assert.equal(secrets?.previousValidUntil?.getTime(), at(2).getTime());
      assert.deepEqual(secrets?.retiredRefreshHashes, [], 'a rotation that retires nothing leaves the refresh history empty');

      // Refresh rotation (RFC 9700 §4.14.2): each retired secret joins the history, which keeps the last 32.
      let current = Buffer.alloc(32, 2);
      for (let generation = 0; generation < 35; generation++) {
        const next = Buffer.alloc(32, 100 + generation);
        const swapped = await store.tokens.replaceSecret(t.id, { secretHash: next, previousSecretHash: current, previousValidUntil: at(1), previousFromRefresh: true, updatedAt: at(1), retire: current }, current);
        assert.equal(swapped, true);
        current = next;
      }
      const history = (await store.tokens.getForVerify(t.id, { fresh: true }))?.secrets.retiredRefreshHashes;
      assert.equal(history?.length, 32);
      assert.deepEqual(history?.[0], Buffer.alloc(32, 100 + 2), 'the oldest three have left');
      assert.deepEqual(history?.[31], Buffer.alloc(32, 100 + 33), 'newest last: the secret just replaced');

      const first = await store.tokens.revoke('org_a', t.id, 'usr_alice', 'leaked', at(3));
      assert.equal(first?.changed, true);
      const second = await store.tokens.revoke('org_a', t.id, 'usr_bob', 'again', at(4));
      assert.equal(second?.changed, false);
      assert.equal(second?.token.revokedAt?.getTime(), at(3).getTime(), 'the first revocation stands');
      assert.equal(second?.token.revokeReason, 'leaked');
      assert.equal(await store.tokens.revoke('org_b', t.id, 'usr_eve', null, at(5)), undefined);
      assert.equal(await store.tokens.update('org_a', t.id, { name: 'revived', updatedAt: at(5) }), undefined, 'a revoked token is not edited');
      assert.equal(await swap(), false, 'nor rotated');
    });

    it('records usage in batches without moving last use backwards', async () => {
      const a = await insert({ ownerId: 'usr_alice' });
      const b = await insert({ ownerId: 'usr_bob' });
      await store.tokens.recordUsage([
        { id: a.id, at: at(5), ip: '10.0.0.1' },
        { id: b.id, at: at(6), ip: '2001:db8::1' },
      ]);
      await store.tokens.recordUsage([{ id: a.id, at: at(4), ip: '10.0.0.9' }]);
      const shownA = await store.tokens.get('org_a', a.id);
      assert.equal(shownA?.lastUsedAt?.getTime(), at(5).getTime());
      assert.equal(shownA?.lastUsedIp, '10.0.0.1');
      assert.equal((await store.tokens.get('org_a', b.id))?.lastUsedIp, '2001:db8::1');
      await store.tokens.recordUsage([]);
    });

    it('stores policies, presets and saved searches per organization', async () => {
      assert.equal(await store.policies.get('org_a'), undefined);
      await store.policies.put('org_a', { ...defaultPolicy, maxTokensPerUser: 3, ipAllowlist: ['10.0.0.0/8'] }, t0);
      assert.equal((await store.policies.get('org_a'))?.maxTokensPerUser, 3);
      assert.deepEqual((await store.policies.get('org_a'))?.ipAllowlist, ['10.0.0.0/8']);
      assert.equal(await store.policies.get('org_b'), undefined);

      const preset = { id: 'pre_scim', orgId: 'org_a', name: 'scim', description: 'SCIM', endpoints: ['/scim/v2/*'], mode: 'direct' as const, scopeLocked: true, defaultLifetimeSeconds: 86_400, createdAt: t0 };
      await store.presets.create(preset);
      await assert.rejects(store.presets.create({ ...preset, id: 'pre_scim2' }), (error: unknown) => error instanceof TesseraError && error.code === 'CONFLICT' && error.field === '/name', 'a name is unique in its organization');
      await store.presets.create({ ...preset, id: 'pre_scim_b', orgId: 'org_b' });
      assert.deepEqual((await store.presets.getByName('org_a', 'scim'))?.endpoints, ['/scim/v2/*']);
      assert.deepEqual((await store.presets.list('org_a')).map((p) => p.id), ['pre_scim']);
      const changed = await store.presets.update('org_a', 'pre_scim', { endpoints: ['/scim/v2/Users'], scopeLocked: false, defaultLifetimeSeconds: null });
      assert.deepEqual([changed?.endpoints, changed?.scopeLocked, changed?.defaultLifetimeSeconds, changed?.mode], [['/scim/v2/Users'], false, null, 'direct']);
      assert.equal(await store.presets.update('org_b', 'pre_scim', { description: 'x' }), undefined);
      assert.equal(await store.presets.remove('org_b', 'pre_scim'), false);
      assert.equal(await store.presets.remove('org_a', 'pre_scim'), true);

      const search = (id: string, orgId: string, ownerId: string, name: string, shared: boolean) => ({ id, orgId, ownerId, name, query: { status: 'active' }, shared, createdAt: t0 });
      await store.savedSearches.create(search('s1', 'org_a', 'usr_alice', 'mine', false));
      await store.savedSearches.create(search('s2', 'org_a', 'usr_bob', 'shared', true));
      await store.savedSearches.create(search('s3', 'org_a', 'usr_bob', 'private', false));
      await store.savedSearches.create(search('s4', 'org_b', 'usr_eve', 'elsewhere', true));
      await assert.rejects(store.savedSearches.create(search('s5', 'org_a', 'usr_alice', 'mine', true)), /already have a saved search/);
      assert.deepEqual((await store.savedSearches.listVisible('org_a', 'usr_alice')).map((s) => s.id).sort(), ['s1', 's2']);
      assert.equal((await store.savedSearches.update('org_a', 's1', { shared: true, query: { q: 'ci' } }))?.shared, true);
      assert.equal(await store.savedSearches.get('org_b', 's1'), undefined);
      assert.equal(await store.savedSearches.remove('org_b', 's1'), false);
      assert.equal(await store.savedSearches.remove('org_a', 's1'), true);
    });

    it('revokes, in one statement, the unrevoked tokens of an organization or an owner created before a cutoff (SPEC 9)', async () => {
      await principal('usr_carol', 'org_a', 'carol');
      await principal('usr_dave', 'org_a', 'dave');
      const old = await insert({ ownerId: 'usr_carol', createdAt: at(1) });
      const alreadyRevoked = await insert({ ownerId: 'usr_carol', createdAt: at(1), revokedAt: at(2) });
      const newer = await insert({ ownerId: 'usr_carol', createdAt: at(5) });
      const othersOld = await insert({ ownerId: 'usr_dave', createdAt: at(1) });
      const foreign = await insert({ ownerId: 'usr_eve', orgId: 'org_b', createdAt: at(1) });
      const revoked = await store.tokens.revokeCreatedBefore('org_a', 'usr_carol', at(5), 'usr_admin', 'cutoff', at(6));
      assert.deepEqual(revoked, [{ id: old.id, ownerId: 'usr_carol' }], 'only the owner\'s, only unrevoked, strictly before the cutoff');
      const shown = await store.tokens.get('org_a', old.id);
      assert.deepEqual([shown?.revokedAt, shown?.revokedBy, shown?.revokeReason], [at(6), 'usr_admin', 'cutoff']);
      assert.equal((await store.tokens.get('org_a', alreadyRevoked.id))?.revokedAt?.getTime(), at(2).getTime(), 'an earlier revocation stays as it was');
      assert.equal((await store.tokens.get('org_a', newer.id))?.revokedAt, null);
      const orgWide = await store.tokens.revokeCreatedBefore('org_a', null, at(2), 'usr_admin', null, at(6));
      assert.ok(orgWide.some((t) => t.id === othersOld.id) && !orgWide.some((t) => t.id === newer.id || t.id === foreign.id));
      assert.equal((await store.tokens.get('org_b', foreign.id))?.revokedAt, null, 'another organization is untouched');
    });

    it('keeps the last 5 distinct addresses of each token, newest first, across batches (SPEC 9)', async () => {
      const t = await insert({ ownerId: 'usr_alice' });
      assert.deepEqual((await store.tokens.get('org_a', t.id))?.recentIps, []);
      const hour = (h: number) => new Date(at(10).getTime() + h * 3_600_000);
      await store.tokens.recordUsage([{ id: t.id, at: hour(3), ip: '10.0.0.3', recentIps: [{ ip: '10.0.0.1', at: hour(1) }, { ip: '10.0.0.2', at: hour(2) }, { ip: '10.0.0.3', at: hour(3) }] }]);
      await store.tokens.recordUsage([{ id: t.id, at: hour(5), ip: '10.0.0.1', recentIps: [{ ip: '10.0.0.4', at: hour(4) }, { ip: '10.0.0.1', at: hour(5) }] }]);
      await store.tokens.recordUsage([{ id: t.id, at: hour(6), ip: '10.0.0.6' }, { id: t.id, at: hour(7), ip: '10.0.0.7' }]);
      const view = await store.tokens.get('org_a', t.id);
      assert.deepEqual(view?.recentIps.map((r) => [r.ip, r.lastSeenAt.getTime()]), [
        ['10.0.0.7', hour(7).getTime()],
        ['10.0.0.6', hour(6).getTime()],
        ['10.0.0.1', hour(5).getTime()],
        ['10.0.0.4', hour(4).getTime()],
        ['10.0.0.3', hour(3).getTime()],
      ]);
      assert.deepEqual([view?.lastUsedIp, view?.lastUsedAt?.getTime()], ['10.0.0.7', hour(7).getTime()], 'the latest use of a batch sets last_used');
      // An old use arriving late does not push a newer address out.
      await store.tokens.recordUsage([{ id: t.id, at: hour(0), ip: '10.0.0.9' }]);
      assert.ok(!(await store.tokens.get('org_a', t.id))?.recentIps.some((r) => r.ip === '10.0.0.9'));
    });
  });
}
