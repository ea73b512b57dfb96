import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { formatToken, generateSecret, generateTokenId, matchesEndpoint, parseEndpointPatterns } from '@tessera/rules';
import { buildActor } from '../../src/core/auth.js';
import { bootstrapInstance } from '../../src/core/bootstrap.js';
import type { ActorContext } from '../../src/core/context.js';
import { createDirectoryService } from '../../src/core/directory/index.js';
import { TesseraError } from '../../src/core/errors.js';
import type { Preset, Principal } from '../../src/core/model.js';
import { defaultPolicy, type Policy } from '../../src/core/policy.js';
import { systemRandom } from '../../src/core/ports.js';
import type { AuthMethod } from '../../src/core/rights.js';
import type { Store } from '../../src/core/store.js';
import { createTokenService, type TokenInput } from '../../src/core/tokens/index.js';
import { createUsageRecorder } from '../../src/core/usage.js';
import { databaseTargets, type TestDatabase } from '../support/databases.js';
import { TestClock } from '../support/server.js';

const vectors = (name: string) => JSON.parse(readFileSync(new URL(`../../../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
const scopeVectors = vectors('scope-match.json') as {
  cases: { patterns: string[]; method: string; path: string; allow: boolean }[];
  invalid_patterns: string[];
};
const ipVectors = vectors('ip-allowlist.json') as { valid: { entry: string; allows: string[]; denies: string[] }[]; invalid: string[] };

const password = 'a long enough password';
const scimPreset: Preset = {
  id: 'preset_scim',
  orgId: null,
  name: 'scim',
  description: 'SCIM provisioning',
  endpoints: ['/scim/v2/*'],
  mode: 'direct',
  scopeLocked: true,
  defaultLifetimeSeconds: 30 * 86_400,
};

/** Refusals are TesseraErrors with this code (and field); anything else fails the test. */
async function refused(work: Promise<unknown>, code: string, field?: string): Promise<TesseraError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof TesseraError, `expected a TesseraError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/**
 * The API tokens service on a real Store, with an injected clock: the verification primitive
 * (verifyApiToken), the shared vectors through it, restricted sessions and delegation at the
 * core level, and property tests of the inputs it validates.
 */
for (const target of databaseTargets) {
  describe(`token service on ${target.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
    const secretKey = Buffer.alloc(32, 3);
    let usage: ReturnType<typeof createUsageRecorder>;
    let tokens: ReturnType<typeof createTokenService>;
    let directory: ReturnType<typeof createDirectoryService>;
    let admin: ActorContext;
    let robot: Principal;
    let names = 0;

    const ctxOf = async (principal: Principal, method: AuthMethod = 'pwd'): Promise<ActorContext> => ({
      actor: await buildActor(store, principal, { method, tokenId: method === 'pwd' ? null : 'AAAAAAAAAAAA', sessionId: null }),
      clientIp: '127.0.0.1',
      userAgent: 'test',
      requestId: 'req',
    });
    const user = async (username: string, roles: string[], kind: 'user' | 'service_account' = 'user') => {
      const created = await directory.createPrincipal(admin, kind, { username, roles, ...(kind === 'user' && { password }) });
      return (await store.principals.get(created.orgId, created.id)) as Principal;
    };
    /** Creates a token for the robot service account (the admin creates it for them). */
    const forRobot = (input: Omit<TokenInput, 'owner'>) => tokens.create(admin, { name: `t${++names}`, owner: 'robot', ...input });
    const setPolicy = (changes: Partial<Policy>) =>
      tokens.setPolicy(admin, { ...defaultPolicy, maxTokensPerUser: 10_000, maxTokensPerServiceAccount: 10_000, ...changes });
    const verify = (token: string, clientIp = '127.0.0.1') => tokens.verify(token, { clientIp, now: clock.now() });

    before(async () => {
      database = await target.create();
      store = database.storage.store;
      const deps = { store, clock, random: systemRandom };
      await bootstrapInstance(deps, 'the admin password');
      directory = createDirectoryService(deps);
      usage = createUsageRecorder({ store, flushMs: 60_000, onError: (error) => assert.fail(String(error)) });
      tokens = createTokenService({ ...deps, secretKey, tokenPrefix: 'tsr', configPresets: [scimPreset], usage });
      admin = await ctxOf((await store.principals.getByUsername('org_default', 'admin')) as Principal);
      robot = await user('robot', ['member'], 'service_account');
      await user('vera', ['member', 'auditor']);
      await setPolicy({});
    });
    after(async () => database.dispose());

    describe('shared vectors (../shared/vectors)', () => {
      it('runs every scope-match case through a custom token\'s stored scope', async () => {
        for (const [index, vector] of scopeVectors.cases.entries()) {
          const where = `case ${index}: ${vector.patterns.join(' | ')} ${vector.method} ${vector.path}`;
          if (vector.patterns.length === 0) {
            // A custom scope needs at least one pattern: nothing to match, nothing allowed.
            await refused(forRobot({ scope: { kind: 'custom', endpoints: vector.patterns } }), 'VALIDATION_FAILED', '/scope/endpoints');
            assert.equal(vector.allow, false, where);
            continue;
          }
          const { secret } = await forRobot({ scope: { kind: 'custom', endpoints: vector.patterns } });
          const verdict = await verify(secret);
          assert.ok(verdict.active, where);
          // The scope as stored and handed to access tokens matches exactly as the patterns written.
          assert.deepEqual(parseEndpointPatterns(verdict.token.endpoints), parseEndpointPatterns(vector.patterns), where);
          assert.equal(matchesEndpoint(parseEndpointPatterns(verdict.token.endpoints), vector.method, vector.path), vector.allow, where);
        }
      });

      it('refuses every invalid endpoint pattern, naming the field', async () => {
        for (const pattern of scopeVectors.invalid_patterns) {
          const error = await refused(forRobot({ scope: { kind: 'custom', endpoints: [pattern] } }), 'VALIDATION_FAILED', '/scope/endpoints');
          assert.ok(error.message.length > 20, `a useful message for ${JSON.stringify(pattern)}`);
        }
      });

      it('runs every ip-allowlist case through verification, on the token, principal and organization lists', async () => {
        const { secret: open } = await forRobot({ scope: { kind: 'all' } });
        for (const vector of ipVectors.valid) {
          const check = async (token: string, where: string) => {
            for (const address of vector.allows) assert.equal((await verify(token, address)).active, true, `${where} ${vector.entry} allows ${address}`);
            for (const address of vector.denies) {
              const verdict = await verify(token, address);
              assert.ok(!verdict.active && verdict.reason === 'ip_not_allowed', `${where} ${vector.entry} denies ${address}`);
            }
          };
          await check((await forRobot({ scope: { kind: 'all' }, ipAllowlist: [vector.entry] })).secret, 'token');
          await directory.updatePrincipal(admin, 'service_account', robot.id, { ipAllowlist: [vector.entry] });
          await check(open, 'principal');
          await directory.updatePrincipal(admin, 'service_account', robot.id, { ipAllowlist: [] });
          await setPolicy({ ipAllowlist: [vector.entry] });
          await check(open, 'organization');
          await setPolicy({});
        }
      });

      it('hands access tokens one allowlist admitting exactly what the token, principal and organization lists all admit', async () => {
        const { secret, token } = await forRobot({ scope: { kind: 'all' }, ipAllowlist: ['10.1.2.0/24', '192.168.0.1'] });
        await directory.updatePrincipal(admin, 'service_account', robot.id, { ipAllowlist: ['10.0.0.0/8', '192.168.0.0/16'] });
        await setPolicy({ ipAllowlist: ['10.1.0.0/16'] });
        const verdict = await verify(secret, '10.1.2.3');
        assert.ok(verdict.active);
        assert.deepEqual(verdict.token.ipAllowlist, ['10.1.2.0 - 10.1.2.255'], '192.168.0.1 is outside the organization list');
        assert.deepEqual((await tokens.exchangeable(await tokens.get(admin, token.id))).ipAllowlist, ['10.1.2.0 - 10.1.2.255'], 'the first access token too');
        await directory.updatePrincipal(admin, 'service_account', robot.id, { ipAllowlist: [] });
        await setPolicy({});
        assert.ok((await verify(secret, '192.168.0.1')).active);
        const alone = await verify(secret, '10.1.2.3');
        assert.ok(alone.active);
        assert.deepEqual(alone.token.ipAllowlist, ['10.1.2.0/24', '192.168.0.1'], 'a single list is carried as written');
      });

      it('refuses every invalid allowlist entry, naming the field', async () => {
        for (const entry of ipVectors.invalid) {
          await refused(forRobot({ scope: { kind: 'all' }, ipAllowlist: [entry] }), 'VALIDATION_FAILED', '/ip_allowlist');
          await refused(setPolicy({ ipAllowlist: [entry] }), 'VALIDATION_FAILED', '/ip_allowlist');
        }
      });
    });

    describe('verifyApiToken', () => {
      it('refuses malformed, mistyped and foreign-prefix tokens without a storage lookup', async () => {
        let lookups = 0;
        const spied: Store = { ...store, tokens: { ...store.tokens, getForVerify: (id) => (lookups++, store.tokens.getForVerify(id)) } };
        const spiedTokens = createTokenService({ store: spied, clock, random: systemRandom, secretKey, tokenPrefix: 'tsr', configPresets: [], usage });
        const { secret } = await forRobot({ scope: { kind: 'all' } });
        const typo = secret.slice(0, 20) + (secret[20] === 'a' ? 'b' : 'a') + secret.slice(21);
        for (const presented of ['', 'garbage', typo, secret.replace(/^tsr_/, 'xyz_'), secret + 'x', `${secret.slice(0, -6)}000000`]) {
          const verdict = await spiedTokens.verify(presented, { clientIp: '127.0.0.1', now: clock.now() });
          assert.ok(!verdict.active && verdict.reason === 'malformed', presented);
        }
        assert.equal(lookups, 0);
        assert.equal((await spiedTokens.verify(secret, { clientIp: '127.0.0.1', now: clock.now() })).active, true);
        assert.equal(lookups, 1);
      });

      it('refuses an unknown id and a wrong secret for a real id', async () => {
        const unknown = await verify(formatToken('tsr', generateTokenId(), generateSecret()));
        assert.ok(!unknown.active && unknown.reason === 'unknown');
        const { token } = await forRobot({ scope: { kind: 'all' } });
        const wrong = await verify(formatToken('tsr', token.id, generateSecret()));
        assert.ok(!wrong.active && wrong.reason === 'bad_secret' && wrong.tokenId === token.id);
      });

      it('answers an active token with its effective roles, recomputed at each use', async () => {
        const owner = await user('shifting', ['member', 'auditor']);
        const { secret, token } = await tokens.create(await ctxOf(owner), { scope: { kind: 'custom', endpoints: ['/plans'] } });
        assert.deepEqual([...token.roles].sort(), ['auditor', 'member'], 'all of the owner\'s roles by default');
        const first = await verify(secret);
        assert.ok(first.active);
        assert.deepEqual([...first.token.roles].sort(), ['auditor', 'member']);
        assert.equal(first.token.ownerId, owner.id);
        assert.equal(first.secretGeneration, 'current');
        await directory.updatePrincipal(admin, 'user', owner.id, { roles: ['member'] });
        const later = await verify(secret);
        assert.ok(later.active);
        assert.deepEqual(later.token.roles, ['member'], 'token roles ∩ the owner\'s current roles');
      });

      it('turns expired, idle, revoked and disabled-owner tokens down, each with its reason', async () => {
        const expiring = await forRobot({ scope: { kind: 'all' }, expires: '1h' });
        clock.advance(3599);
        assert.equal((await verify(expiring.secret)).active, true);
        clock.advance(1);
        const expired = await verify(expiring.secret);
        assert.ok(!expired.active && expired.reason === 'expired');

        await setPolicy({ idleTimeoutSeconds: 86_400 });
        const unused = await forRobot({ scope: { kind: 'all' } });
        const used = await forRobot({ scope: { kind: 'all' } });
        clock.advance(86_000);
        usage.recordUse(used.token.id, '127.0.0.1', clock.now());
        assert.equal((await store.tokens.get(used.token.orgId, used.token.id))?.lastUsedAt, null, 'use is not written per request');
        await usage.flush();
        assert.equal((await store.tokens.get(used.token.orgId, used.token.id))?.lastUsedAt?.getTime(), clock.now().getTime());
        clock.advance(400);
        const idle = await verify(unused.secret);
        assert.ok(!idle.active && idle.reason === 'idle');
        assert.equal((await verify(used.secret)).active, true, 'a token in use does not go idle');
        assert.equal((await tokens.get(admin, unused.token.id)).status, 'idle');
        await setPolicy({});

        const revoking = await forRobot({ scope: { kind: 'all' } });
        await tokens.revoke(admin, revoking.token.id, 'test');
        const revoked = await verify(revoking.secret);
        assert.ok(!revoked.active && revoked.reason === 'revoked');

        const owner = await user('leaving', ['member']);
        const theirs = await tokens.create(await ctxOf(owner), { scope: { kind: 'all' } });
        assert.equal((await verify(theirs.secret)).active, true);
        await directory.updatePrincipal(admin, 'user', owner.id, { status: 'disabled' });
        const disabled = await verify(theirs.secret);
        assert.ok(!disabled.active && disabled.reason === 'owner_disabled');
      });

      it('keeps the old secret valid through a rotation grace and not a second after (injected clock)', async () => {
        const { secret: old, token } = await forRobot({ scope: { kind: 'all' } });
        const { secret: rotated } = await tokens.rotate(admin, token.id, '1h');
        const during = await verify(old);
        assert.ok(during.active && during.secretGeneration === 'grace');
        assert.ok((await verify(rotated)).active);
        clock.advance(3599);
        assert.equal((await verify(old)).active, true);
        clock.advance(1);
        const afterGrace = await verify(old);
        assert.ok(!afterGrace.active && afterGrace.reason === 'bad_secret');
        const current = await verify(rotated);
        assert.ok(current.active && current.secretGeneration === 'current');
        const { secret: again } = await tokens.rotate(admin, token.id, undefined);
        assert.equal((await verify(rotated)).active, false, 'without a grace the previous secret stops at once');
        assert.equal((await verify(again)).active, true);
      });

      it('stays irreversible once revoked: a second revoke keeps the first state, nothing revives it', async () => {
        const { secret, token } = await forRobot({ scope: { kind: 'all' } });
        const first = await tokens.revoke(admin, token.id, 'first');
        clock.advance(60);
        const second = await tokens.revoke(admin, token.id, 'second');
        assert.equal(second.revokedAt?.getTime(), first.revokedAt?.getTime());
        assert.equal(second.revokeReason, 'first');
        await refused(tokens.update(admin, token.id, { expires: '30D' }), 'CONFLICT');
        await refused(tokens.rotate(admin, token.id, undefined), 'CONFLICT');
        assert.equal((await verify(secret)).active, false);
        const audit = await store.audit.list({ orgId: token.orgId, limit: 10, targetId: token.id, action: 'token.revoked' });
        assert.equal(audit.items.length, 1);
      });
    });

    describe('rights at the core', () => {
      it('refuses a token-derived caller every token change and other principals\' tokens, audited with the token id', async () => {
        const owner = await user('through-token', ['admin']);
        const { token } = await tokens.create(await ctxOf(owner), { scope: { kind: 'all' } });
        const viaToken = await ctxOf(owner, 'token');
        await refused(tokens.create(viaToken, { scope: { kind: 'all' } }), 'RESTRICTED_SESSION');
        await refused(tokens.create(viaToken, { owner: 'robot', scope: { kind: 'all' } }), 'RESTRICTED_SESSION');
        await refused(tokens.update(viaToken, token.id, { name: 'renamed' }), 'RESTRICTED_SESSION');
        await refused(tokens.rotate(viaToken, token.id, undefined), 'RESTRICTED_SESSION');
        await refused(tokens.revoke(viaToken, token.id, undefined), 'RESTRICTED_SESSION');
        await refused(tokens.list(viaToken, { all: true, sort: 'created_at', descending: false, limit: 10 }), 'RESTRICTED_SESSION');
        const robots = await tokens.list(admin, { all: true, owner: 'robot', sort: 'created_at', descending: false, limit: 1 });
        await refused(tokens.get(viaToken, robots.items[0]?.id as string), 'RESTRICTED_SESSION');
        await refused(tokens.setPolicy(viaToken, defaultPolicy), 'RESTRICTED_SESSION');
        // It keeps read access to its own tokens.
        assert.equal((await tokens.list(viaToken, { all: false, sort: 'created_at', descending: false, limit: 10 })).items.length, 1);
        assert.equal((await tokens.get(viaToken, token.id)).id, token.id);
        const denied = await store.audit.list({ orgId: owner.orgId, limit: 20, actorPrincipalId: owner.id });
        const restricted = denied.items.filter((event) => event.outcome === 'denied');
        assert.equal(restricted.length, 8, 'every refusal is audited');
        for (const event of restricted) {
          assert.equal(event.details['reason'], 'restricted_session');
          assert.equal(event.actorTokenId, 'AAAAAAAAAAAA', 'with the token the caller acted through');
        }
      });

      it('never hands a caller a secret that carries rights it lacks', async () => {
        const boss = await user('boss', ['org-owner', 'member']);
        const manager = await ctxOf(await user('manager', ['admin']));
        const error = await refused(tokens.create(manager, { owner: 'boss', scope: { kind: 'all' } }), 'FORBIDDEN');
        assert.match(error.message, /policy\.manage/);
        // A narrower token does not help: the owner outranks the manager (issue 12's one rule,
        // outranks() in core/rights.ts), so no token of theirs is made or changed by it.
        const narrowed = await refused(tokens.create(manager, { owner: 'boss', roles: ['member'], scope: { kind: 'all' } }), 'FORBIDDEN');
        assert.match(narrowed.message, /boss holds rights you lack/);
        const own = await tokens.create(await ctxOf(boss), { name: 'boss-own', scope: { kind: 'all' } });
        await refused(tokens.rotate(manager, own.token.id, undefined), 'FORBIDDEN');
        await tokens.revoke(manager, own.token.id, 'tokens.all may revoke');
        const member = await ctxOf(await user('plain', ['member']));
        await refused(tokens.create(member, { owner: 'robot', scope: { kind: 'all' } }), 'FORBIDDEN');
      });
    });

    describe('lifecycle rules', () => {
      it('gives presets their mode: a direct scim token gets the preset lifetime and a locked scope', async () => {
        const { token } = await forRobot({ scope: { kind: 'scim' } });
        assert.equal(token.mode, 'direct');
        assert.deepEqual(token.endpoints, ['/scim/v2/*']);
        assert.equal(token.expiresAt?.getTime(), clock.now().getTime() + 30 * 86_400_000);
        await refused(tokens.update(admin, token.id, { scope: { kind: 'all' } }), 'CONFLICT', '/scope');
        const extended = await tokens.update(admin, token.id, { expires: '60D' });
        assert.equal(extended.expiresAt?.getTime(), clock.now().getTime() + 60 * 86_400_000, 'its expiry can change');
        await setPolicy({ allowDirectTokens: false });
        await refused(forRobot({ scope: { kind: 'scim' } }), 'VALIDATION_FAILED', '/scope/kind');
        await setPolicy({});
      });

      it('counts a revived token against the limit: extending an expired one is refused at the limit, audited', async () => {
        await user('limited', ['member'], 'service_account');
        await setPolicy({ maxTokensPerServiceAccount: 2 });
        const make = (name: string, expires?: string) => tokens.create(admin, { name, owner: 'limited', scope: { kind: 'all' }, expires });
        const lapsing = await make('lapsing', '1h');
        await make('second');
        clock.advance(3600);
        const third = await make('third');
        const error = await refused(tokens.update(admin, lapsing.token.id, { expires: '30D' }), 'TOKEN_LIMIT_REACHED');
        assert.match(error.message, /limit of 2 .*revoke a token first/);
        assert.equal((await tokens.get(admin, lapsing.token.id)).status, 'expired', 'nothing changed');
        await refused(make('fourth'), 'TOKEN_LIMIT_REACHED');
        const denials = await store.audit.list({ orgId: admin.actor.orgId, limit: 10, action: 'token.*' });
        const limits = denials.items.filter((event) => event.outcome === 'denied' && event.details['reason'] === 'limit');
        assert.deepEqual(limits.map((event) => event.action).sort(), ['token.create', 'token.update']);
        assert.ok(limits.every((event) => event.details['limit'] === 2));
        await tokens.revoke(admin, third.token.id, undefined);
        assert.equal((await tokens.update(admin, lapsing.token.id, { expires: '30D' })).status, 'active');
        assert.equal((await tokens.update(admin, lapsing.token.id, { name: 'renamed' })).name, 'renamed', 'other edits never count');
        await setPolicy({});
      });

      it('defaults the renewable-until of refreshable tokens to 90 days and names the maximum when refusing', async () => {
        const { token } = await forRobot({ scope: { kind: 'all' } });
        assert.equal(token.mode, 'refreshable');
        assert.equal(token.expiresAt?.getTime(), clock.now().getTime() + 90 * 86_400_000);
        await setPolicy({ maxTokenLifetimeSeconds: 30 * 86_400 });
        const error = await refused(forRobot({ scope: { kind: 'all' }, expires: '31D' }), 'EXPIRY_TOO_LONG', '/expires');
        assert.match(error.message, /30D/);
        assert.equal((await forRobot({ scope: { kind: 'all' } })).token.expiresAt?.getTime(), clock.now().getTime() + 30 * 86_400_000, 'the default never exceeds the maximum');
        await refused(forRobot({ scope: { kind: 'all' }, expires: null }), 'VALIDATION_FAILED', '/expires');
        await setPolicy({ allowNoExpiry: true });
        assert.equal((await forRobot({ scope: { kind: 'all' }, expires: null })).token.expiresAt, null);
        await setPolicy({});
      });
    });

    describe('properties', () => {
      const onlyValidationErrors = (error: unknown) => error instanceof TesseraError && ['VALIDATION_FAILED', 'EXPIRY_TOO_LONG'].includes(error.code) && typeof error.field === 'string';

      it('refuses random expiry, endpoint and allowlist input only with a validation error naming the field', async () => {
        const text = fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[0-9]{1,4}[YMwWdDhHmsSxy]$/), fc.stringMatching(/^(GET |POST,PUT )?\/[a-z0-9/*.%]{0,12}$/), fc.stringMatching(/^[0-9.:a-f/ –-]{1,30}$/));
        await fc.assert(
          fc.asyncProperty(fc.option(text, { nil: undefined }), fc.array(text, { maxLength: 3 }), fc.array(text, { maxLength: 3 }), async (expires, endpoints, ipAllowlist) => {
            try {
              const { token } = await forRobot({ expires, scope: { kind: 'custom', endpoints }, ipAllowlist });
              // What was accepted is stored in a form the rules read back.
              parseEndpointPatterns(token.endpoints);
              assert.ok(token.endpoints.length > 0);
            } catch (error) {
              if (!onlyValidationErrors(error)) throw error;
            }
          }),
          { numRuns: 150, seed: 11 },
        );
      });

      it('gives a status that agrees with verification at any instant (property)', async () => {
        const { secret, token } = await forRobot({ scope: { kind: 'all' }, expires: '10D' });
        await setPolicy({ idleTimeoutSeconds: 5 * 86_400 });
        const start = clock.now().getTime();
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: 12 * 86_400 }), async (offset) => {
            const now = new Date(start + offset * 1000);
            const verdict = await tokens.verify(secret, { clientIp: '127.0.0.1', now });
            const page = await store.tokens.list({ orgId: token.orgId, ownerId: robot.id, status: 'active', sort: 'created_at', descending: false, limit: 10_000, now, idleTimeoutSeconds: 5 * 86_400 });
            assert.equal(verdict.active, page.items.some((t) => t.id === token.id));
          }),
          { numRuns: 40, seed: 5 },
        );
        await setPolicy({});
      });
    });
  });
}
