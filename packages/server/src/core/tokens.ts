import {
  formatDuration,
  formatEndpointPattern,
  generateSecret,
  generateTokenId,
  formatToken,
  isIpAllowed,
  isRuleError,
  parseEndpointPatterns,
  parseIpAllowlist,
  parseRelativeExpiry,
  parseToken,
  resolveExpiry,
  tokenDisplayPrefix,
} from '@tessera/rules';
import { authorize } from './authorize.js';
import { auditOf, type ActorContext, type RequestContext } from './context.js';
import { checkIpAllowlist, intersectAllowlists } from './allowlist.js';
import { TesseraError, invalid, notFound } from './errors.js';
import type { ApiToken, NewAuditEvent, Page, Preset, Principal, SavedSearch, TokenMode, TokenSecrets, TokenStatus } from './model.js';
import type { ExchangeableToken, GateVerdict } from './oauth.js';
import { defaultTokenName, nextDefaultTokenName, retryDefaultName } from './token-names.js';
import { checkPolicy, defaultLifetime, defaultPolicy, maxLifetime, type Policy } from './policy.js';
import { newId, type Clock, type Random } from './ports.js';
import { hashSecret, hashesEqual } from './secrets.js';
import type { Store, TokenSortColumn, TokenView } from './store.js';
import type { UsageRecorder } from './usage.js';
import { createTargetGuard } from './target-guard.js';

/** Status from stored fields and the clock (SPEC 3.1): revoked, then expired, then idle. */
export function tokenStatus(token: Pick<ApiToken, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'createdAt'>, now: Date, idleTimeoutSeconds: number | null): TokenStatus {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (idleTimeoutSeconds !== null && (token.lastUsedAt ?? token.createdAt).getTime() + idleTimeoutSeconds * 1000 <= now.getTime()) return 'idle';
  return 'active';
}

export interface TokenInput {
  readonly name?: string | undefined;
  /** Username or id of the owner; default the caller. */
  readonly owner?: string | undefined;
  /** Relative (`180D`) or ISO 8601; `null` for no expiry (where policy allows); absent for the default. */
  readonly expires?: string | null | undefined;
  readonly scope: { readonly kind: string; readonly endpoints?: readonly string[] | undefined };
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly roles?: readonly string[] | undefined;
}

export interface TokenChanges {
  readonly name?: string | undefined;
  readonly expires?: string | null | undefined;
  readonly scope?: { readonly kind: string; readonly endpoints?: readonly string[] | undefined } | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly roles?: readonly string[] | undefined;
}

/** A token as callers see it: metadata, computed status, display prefix. Never the secret. */
export interface TokenDetails extends TokenView {
  readonly status: TokenStatus;
  readonly displayPrefix: string;
}

export interface TokenListFilters {
  readonly all: boolean;
  readonly owner?: string | undefined;
  readonly status?: TokenStatus | undefined;
  readonly kind?: string | undefined;
  readonly q?: string | undefined;
  readonly usage?: 'never_used' | undefined;
  readonly unusedDays?: number | undefined;
  readonly usedSince?: Date | undefined;
  readonly sort: TokenSortColumn;
  readonly descending: boolean;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

const maxGraceSeconds = 7 * 86_400;

/** API tokens: lifecycle, limits, policy, presets, saved searches and verification (SPEC 3, 4). */
export function createTokenService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  secretKey: Uint8Array;
  tokenPrefix: string;
  /** Presets from the operator's configuration file, offered to every organization. */
  configPresets: readonly Preset[];
  usage: UsageRecorder;
}) {
  const { store, clock, random, secretKey, tokenPrefix, usage } = deps;
  // SPEC 2: another principal's tokens are within reach only when the principal is (target-guard.ts).
  const ownerStanding = createTargetGuard(deps).standingOfId;
  const randomBytes = (n: number) => random.bytes(n);

  async function policyOf(orgId: string, tx: Store = store): Promise<Policy> {
    return { ...defaultPolicy, ...(await tx.policies.get(orgId)) };
  }

  async function presetsOf(orgId: string): Promise<Preset[]> {
    const own = await store.presets.list(orgId);
    const names = new Set(own.map((p) => p.name));
    return [...deps.configPresets.filter((p) => !names.has(p.name)), ...own];
  }

  const details = (token: TokenView, policy: Policy, now: Date): TokenDetails => ({
    ...token,
    status: tokenStatus(token, now, policy.idleTimeoutSeconds),
    displayPrefix: tokenDisplayPrefix(token.id, tokenPrefix),
  });

  async function resolveOwner(ctx: ActorContext, owner: string | undefined): Promise<Principal> {
    const orgId = ctx.actor.orgId;
    if (owner === undefined || owner === ctx.actor.principalId || owner === ctx.actor.username) {
      const self = await store.principals.get(orgId, ctx.actor.principalId);
      if (!self) throw new TesseraError('UNAUTHENTICATED', 'Your account no longer exists');
      return self;
    }
    const found = (await store.principals.get(orgId, owner)) ?? (await store.principals.getByUsername(orgId, owner));
    if (!found) throw invalid('/owner', `No user or service account "${owner}" in this organization`);
    return found;
  }

  /** Resolves the scope to its kind, endpoints (formatted canonically) and lifecycle mode. */
  async function resolveScope(orgId: string, scope: TokenInput['scope'], policy: Policy): Promise<{ kind: string; endpoints: string[]; mode: TokenMode; preset: Preset | undefined }> {
    const endpoints = scope.endpoints ?? [];
    if (scope.kind === 'all') {
      if (endpoints.length > 0) throw invalid('/scope/endpoints', 'A scope of kind "all" takes no endpoints; use kind "custom" to list them');
      return { kind: 'all', endpoints: [], mode: 'refreshable', preset: undefined };
    }
    if (scope.kind === 'custom') {
      let patterns: string[];
      try {
        patterns = parseEndpointPatterns(endpoints).map(formatEndpointPattern);
      } catch (error) {
        if (isRuleError(error)) throw invalid('/scope/endpoints', error.message);
        throw error;
      }
      // Counted after parsing: blank lines are skipped, so [""] is no pattern at all.
      if (patterns.length === 0) throw invalid('/scope/endpoints', 'A custom scope needs at least one endpoint pattern, such as /plans or GET /clients');
      return { kind: 'custom', endpoints: patterns, mode: 'refreshable', preset: undefined };
    }
    const preset = (await presetsOf(orgId)).find((p) => p.name === scope.kind);
    if (!preset) {
      const names = (await presetsOf(orgId)).map((p) => p.name);
      throw invalid('/scope/kind', `Unknown scope "${scope.kind}": use all, custom${names.length ? ` or a preset (${names.join(', ')})` : ''}`);
    }
    if (endpoints.length > 0) throw invalid('/scope/endpoints', `The preset "${preset.name}" fixes its endpoints; leave endpoints out`);
    if (preset.mode === 'direct' && !policy.allowDirectTokens) {
      throw invalid('/scope/kind', `This organization's policy does not allow direct tokens, so the preset "${preset.name}" cannot be used`);
    }
    return { kind: preset.name, endpoints: [...preset.endpoints], mode: preset.mode, preset };
  }

  /** Turns the `expires` input into an instant under the policy's default and maximum. */
  function resolveExpiresAt(input: string | null | undefined, mode: TokenMode, policy: Policy, preset: Preset | undefined, now: Date): Date | null {
    const max = maxLifetime(policy);
    if (input === null) {
      if (!policy.allowNoExpiry || max !== null) {
        throw invalid('/expires', `This organization requires tokens to expire${max !== null ? ` within ${formatDuration(max)}` : ''}; give an expiry such as 90D`);
      }
      return null;
    }
    if (input === undefined) {
      const lifetime = defaultLifetime(policy, mode, preset?.defaultLifetimeSeconds ?? null);
      return lifetime === null ? null : new Date(now.getTime() + lifetime * 1000);
    }
    try {
      return resolveExpiry(input, now, { maxSeconds: max });
    } catch (error) {
      if (isRuleError(error)) {
        if (error.code === 'EXPIRY_BEYOND_MAXIMUM') throw new TesseraError('EXPIRY_TOO_LONG', error.message, { field: '/expires', extra: { maximum_seconds: max } });
        throw invalid('/expires', error.message);
      }
      throw error;
    }
  }

  async function resolveRoles(owner: Principal, requested: readonly string[] | undefined): Promise<string[]> {
    const ownerRoles = (await store.principals.effectiveRoles(owner.orgId, owner.id)).map((r) => r.name);
    if (requested === undefined) return ownerRoles;
    for (const [index, role] of requested.entries()) {
      if (!ownerRoles.includes(role)) throw invalid(`/roles/${index}`, `The owner does not hold the role "${role}"; a token's roles are a subset of its owner's (${ownerRoles.join(', ') || 'none'})`);
    }
    return [...new Set(requested)];
  }

  function checkedAllowlist(entries: readonly string[] | undefined): string[] {
    return [...checkIpAllowlist(entries ?? [], '/ip_allowlist')].map((e) => e.trim());
  }

  /**
   * A secret for another principal (created or rotated for them) lets the caller act with the
   * token's roles: refused when those carry rights the caller lacks (SPEC 2: never a right the
   * caller lacks), so an admin cannot mint an org-owner's powers for itself.
   */
  async function guardDelegation(ctx: ActorContext, roles: readonly string[], auditAction: string, targetId: string | null): Promise<void> {
    const rights = (await store.roles.list(ctx.actor.orgId)).filter((role) => roles.includes(role.name)).flatMap((role) => role.rights);
    await authorize(deps, ctx, { kind: 'delegate_rights', rights: [...new Set(rights)] }, { action: auditAction, targetType: 'token', targetId });
  }

  /**
   * SPEC 3.7: locks the owner's row (held until `tx` ends), then counts, so the insert or
   * revival that follows in `tx` cannot overshoot the limit on any number of instances.
   */
  async function enforceLimit(tx: Store, owner: Principal, policy: Policy, now: Date): Promise<void> {
    const limit = owner.kind === 'user' ? policy.maxTokensPerUser : policy.maxTokensPerServiceAccount;
    await tx.tokens.lockOwner(owner.id);
    const active = await tx.tokens.countActive(owner.id, now, policy.idleTimeoutSeconds);
    if (active >= limit) {
      const setting = owner.kind === 'user' ? 'max_tokens_per_user' : 'max_tokens_per_service_account';
      throw new TesseraError(
        'TOKEN_LIMIT_REACHED',
        `${owner.username} already has ${active} active tokens, the limit of ${limit} for ${owner.kind === 'user' ? 'users' : 'service accounts'}: revoke a token first, or ask an administrator to raise ${setting}`,
        { extra: { limit } },
      );
    }
  }

  /** A limit refusal is a security decision (SPEC 6): audited once its transaction has rolled back. */
  async function withLimitAudit<T>(ctx: ActorContext, action: string, targetId: string | null, owner: Principal, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof TesseraError && error.code === 'TOKEN_LIMIT_REACHED') {
        await store.audit.append(
          auditOf(ctx, clock.now(), { action, outcome: 'denied', targetType: 'token', targetId, details: { reason: 'limit', owner: owner.username, limit: error.extra?.['limit'] ?? null } }),
        );
      }
      throw error;
    }
  }

  function presetEndpoints(input: readonly string[]): string[] {
    let endpoints: string[];
    try {
      endpoints = parseEndpointPatterns(input).map(formatEndpointPattern);
    } catch (error) {
      if (isRuleError(error)) throw invalid('/endpoints', error.message);
      throw error;
    }
    if (endpoints.length === 0) throw invalid('/endpoints', 'A preset needs at least one endpoint pattern, such as /scim/v2/*');
    return endpoints;
  }

  function presetLifetime(input: string): number {
    try {
      return parseRelativeExpiry(input);
    } catch (error) {
      if (isRuleError(error)) throw invalid('/default_lifetime', error.message);
      throw error;
    }
  }

  async function loadForChange(ctx: ActorContext, id: string, auditAction: string): Promise<TokenView> {
    const token = await store.tokens.get(ctx.actor.orgId, id);
    const own = token?.ownerId === ctx.actor.principalId;
    const owner = token && !own ? await ownerStanding(ctx.actor.orgId, token.ownerId) : undefined;
    await authorize(deps, ctx, { kind: 'write_tokens', own: token ? own : true, owner, revoke: auditAction === 'token.revoke' }, { action: auditAction, targetType: 'token', targetId: id });
    if (!token) throw notFound('token', id);
    return token;
  }

  const service = {
    policyOf,
    presetsOf,

    async create(ctx: ActorContext, input: TokenInput): Promise<{ token: TokenDetails; secret: string }> {
      const now = clock.now();
      const forOthers = input.owner !== undefined && input.owner !== ctx.actor.principalId && input.owner !== ctx.actor.username;
      await authorize(deps, ctx, forOthers ? { kind: 'create_token_for_others' } : { kind: 'write_tokens', own: true }, { action: 'token.create', targetType: 'token' });
      const owner = await resolveOwner(ctx, input.owner);
      if (owner.status !== 'active') throw invalid('/owner', `The owner "${owner.username}" is disabled; enable it first`);
      const policy = await policyOf(ctx.actor.orgId);
      const scope = await resolveScope(ctx.actor.orgId, input.scope, policy);
      const expiresAt = resolveExpiresAt(input.expires, scope.mode, policy, scope.preset, now);
      const roles = await resolveRoles(owner, input.roles);
      if (owner.id !== ctx.actor.principalId) {
        await authorize(deps, ctx, { kind: 'create_token_for_others', owner: await ownerStanding(owner.orgId, owner.id) }, { action: 'token.create', targetType: 'token' });
        await guardDelegation(ctx, roles, 'token.create', null);
      }
      const ipAllowlist = checkedAllowlist(input.ipAllowlist);
      const name = input.name ?? defaultTokenName(owner.username);
      const id = generateTokenId(randomBytes);
      const secret = generateSecret(randomBytes);
      const token: ApiToken = {
        id,
        orgId: ctx.actor.orgId,
        ownerId: owner.id,
        createdBy: ctx.actor.principalId,
        name,
        mode: scope.mode,
        scopeKind: scope.kind,
        endpoints: scope.endpoints,
        roles,
        ipAllowlist,
        expiresAt,
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: null,
        revokedBy: null,
        revokeReason: null,
        createdAt: now,
        updatedAt: now,
      };
      const attempt = () => store.transaction(async (tx) => {
        await enforceLimit(tx, owner, policy, now);
        // A default name takes the next free number; a given one must be free.
        const name = input.name === undefined ? await nextDefaultTokenName(tx, ctx.actor.orgId, owner.id, owner.username, now) : token.name;
        const existing = await tx.tokens.list({ orgId: ctx.actor.orgId, ownerId: owner.id, q: name, sort: 'name', descending: false, limit: 100, now, idleTimeoutSeconds: null });
        if (existing.items.some((t) => t.name === name && !t.revokedAt)) {
          throw new TesseraError('CONFLICT', `${owner.username} already has a token named "${name}"; choose another name`, { field: '/name' });
        }
        await tx.tokens.create({ ...token, name }, hashSecret(secretKey, secret));
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'token.created',
            outcome: 'success',
            targetType: 'token',
            targetId: id,
            details: { name, owner: owner.username, scope: scope.kind, endpoints: scope.endpoints, roles, ip_allowlist: ipAllowlist, expires_at: expiresAt?.toISOString() ?? null, mode: scope.mode },
          }),
        );
        return tx.tokens.get(ctx.actor.orgId, id);
      });
      const created = await withLimitAudit(ctx, 'token.create', null, owner, () => retryDefaultName(input.name === undefined, attempt));
      if (!created) throw new Error('created token not found');
      return { token: details(created, policy, now), secret: formatToken(tokenPrefix, id, secret) };
    },

    async list(ctx: ActorContext, filters: TokenListFilters): Promise<Page<TokenDetails>> {
      // The directory is readable by every caller, so resolving the owner first reveals nothing.
      const owner = filters.owner === undefined ? undefined : (await store.principals.get(ctx.actor.orgId, filters.owner)) ?? (await store.principals.getByUsername(ctx.actor.orgId, filters.owner));
      const standing = filters.all && owner && owner.id !== ctx.actor.principalId ? await ownerStanding(owner.orgId, owner.id) : undefined;
      await authorize(deps, ctx, { kind: 'read_tokens', own: !filters.all || owner?.id === ctx.actor.principalId, owner: standing }, { action: 'token.list', targetType: 'token' });
      const now = clock.now();
      const policy = await policyOf(ctx.actor.orgId);
      let ownerId: string | undefined = filters.all ? undefined : ctx.actor.principalId;
      if (filters.owner !== undefined) {
        if (!filters.all && owner?.id !== ctx.actor.principalId) throw invalid('owner', 'Listing another principal\'s tokens needs all=true and the tokens.all right');
        if (!owner) return { items: [], nextCursor: null };
        ownerId = owner.id;
      }
      const page = await store.tokens.list({
        orgId: ctx.actor.orgId,
        ownerId,
        status: filters.status,
        kind: filters.kind,
        q: filters.q,
        neverUsed: filters.usage === 'never_used',
        unusedDays: filters.unusedDays,
        usedSince: filters.usedSince,
        sort: filters.sort,
        descending: filters.descending,
        limit: filters.limit,
        cursor: filters.cursor,
        now,
        idleTimeoutSeconds: policy.idleTimeoutSeconds,
      });
      return { items: page.items.map((t) => details(t, policy, now)), nextCursor: page.nextCursor };
    },

    async get(ctx: ActorContext, id: string): Promise<TokenDetails> {
      const token = await store.tokens.get(ctx.actor.orgId, id);
      const own = token?.ownerId === ctx.actor.principalId;
      const owner = token && !own ? await ownerStanding(ctx.actor.orgId, token.ownerId) : undefined;
      await authorize(deps, ctx, { kind: 'read_tokens', own: token ? own : true, owner }, { action: 'token.read', targetType: 'token', targetId: id });
      if (!token) throw notFound('token', id);
      return details(token, await policyOf(ctx.actor.orgId), clock.now());
    },

    async update(ctx: ActorContext, id: string, changes: TokenChanges): Promise<TokenDetails> {
      const token = await loadForChange(ctx, id, 'token.update');
      if (token.revokedAt) throw new TesseraError('CONFLICT', 'A revoked token cannot be edited');
      const now = clock.now();
      const policy = await policyOf(ctx.actor.orgId);
      const owner = await store.principals.get(ctx.actor.orgId, token.ownerId);
      if (!owner) throw notFound('token', id);
      let scope: { kind: string; endpoints: string[]; mode: TokenMode; preset: Preset | undefined } | undefined;
      if (changes.scope !== undefined) {
        const currentPreset = (await presetsOf(ctx.actor.orgId)).find((p) => p.name === token.scopeKind);
        if (token.mode === 'direct') throw new TesseraError('CONFLICT', 'The scope of a direct token cannot be changed; create a new token instead', { field: '/scope' });
        if (currentPreset?.scopeLocked) throw new TesseraError('CONFLICT', `The preset "${currentPreset.name}" locks the scope of its tokens`, { field: '/scope' });
        scope = await resolveScope(ctx.actor.orgId, changes.scope, policy);
        if (scope.mode !== 'refreshable') throw invalid('/scope/kind', 'A refreshable token can only change to another refreshable scope');
      }
      const expiresAt = changes.expires === undefined ? undefined : resolveExpiresAt(changes.expires, token.mode, policy, undefined, now);
      const roles = changes.roles && (await resolveRoles(owner, changes.roles));
      const ipAllowlist = changes.ipAllowlist && checkedAllowlist(changes.ipAllowlist);
      // Extending an expired token makes it active again: it must fit under the limit like a new one.
      const revives =
        expiresAt !== undefined &&
        tokenStatus(token, now, policy.idleTimeoutSeconds) !== 'active' &&
        tokenStatus({ ...token, expiresAt }, now, policy.idleTimeoutSeconds) === 'active';
      return withLimitAudit(ctx, 'token.update', id, owner, () => store.transaction(async (tx) => {
        if (revives) await enforceLimit(tx, owner, policy, now);
        if (changes.name !== undefined && changes.name !== token.name) {
          const clash = await tx.tokens.list({ orgId: ctx.actor.orgId, ownerId: token.ownerId, q: changes.name, sort: 'name', descending: false, limit: 100, now, idleTimeoutSeconds: null });
          if (clash.items.some((t) => t.name === changes.name && !t.revokedAt)) {
            throw new TesseraError('CONFLICT', `${token.ownerUsername} already has a token named "${changes.name}"; choose another name`, { field: '/name' });
          }
        }
        const updated = await tx.tokens.update(ctx.actor.orgId, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(expiresAt !== undefined && { expiresAt }),
          ...(scope !== undefined && { scopeKind: scope.kind, endpoints: scope.endpoints }),
          ...(roles !== undefined && { roles }),
          ...(ipAllowlist !== undefined && { ipAllowlist }),
          updatedAt: now,
        });
        if (!updated) throw notFound('token', id);
        const before = { name: token.name, expires_at: token.expiresAt?.toISOString() ?? null, scope: token.scopeKind, endpoints: token.endpoints, roles: token.roles, ip_allowlist: token.ipAllowlist };
        const after = { name: updated.name, expires_at: updated.expiresAt?.toISOString() ?? null, scope: updated.scopeKind, endpoints: updated.endpoints, roles: updated.roles, ip_allowlist: updated.ipAllowlist };
        const diff: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of Object.keys(after) as (keyof typeof after)[]) {
          if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = { from: before[key], to: after[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'token.updated', outcome: 'success', targetType: 'token', targetId: id, details: { changes: diff } }));
        return details(updated, policy, now);
      }));
    },

    /** New secret, shown once; the old one keeps working for the grace period, if any. */
    async rotate(ctx: ActorContext, id: string, grace: string | undefined): Promise<{ token: TokenDetails; secret: string }> {
      const token = await loadForChange(ctx, id, 'token.rotate');
      if (token.ownerId !== ctx.actor.principalId) {
        // Rotating another's token hands the caller its new secret: the same trust as creating one for them.
        await authorize(deps, ctx, { kind: 'create_token_for_others', owner: await ownerStanding(ctx.actor.orgId, token.ownerId) }, { action: 'token.rotate', targetType: 'token', targetId: id });
        await guardDelegation(ctx, token.roles, 'token.rotate', id);
      }
      if (token.revokedAt) throw new TesseraError('CONFLICT', 'A revoked token cannot be rotated; create a new one');
      let graceSeconds = 0;
      if (grace !== undefined) {
        try {
          graceSeconds = parseRelativeExpiry(grace);
        } catch (error) {
          if (isRuleError(error)) throw invalid('/grace', error.message.replace('expiry', 'grace period'));
          throw error;
        }
        if (graceSeconds > maxGraceSeconds) throw invalid('/grace', `The grace period can be at most ${formatDuration(maxGraceSeconds)}`);
      }
      const now = clock.now();
      const secret = generateSecret(randomBytes);
      const current = await store.tokens.getForVerify(id);
      if (!current) throw notFound('token', id);
      await store.transaction(async (tx) => {
        const replaced = await tx.tokens.replaceSecret(id, {
          secretHash: hashSecret(secretKey, secret),
          previousSecretHash: graceSeconds > 0 ? current.secrets.secretHash : null,
          previousValidUntil: graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null,
          previousFromRefresh: false,
          updatedAt: now,
        });
        if (!replaced) throw new TesseraError('CONFLICT', 'The token changed while rotating; try again');
        await tx.audit.append(auditOf(ctx, now, { action: 'token.rotated', outcome: 'success', targetType: 'token', targetId: id, details: { grace_seconds: graceSeconds } }));
      });
      const policy = await policyOf(ctx.actor.orgId);
      return { token: details((await store.tokens.get(ctx.actor.orgId, id)) as TokenView, policy, now), secret: formatToken(tokenPrefix, id, secret) };
    },

    /** Irreversible and idempotent: revoking a revoked token answers its revoked state. */
    async revoke(ctx: ActorContext, id: string, reason: string | undefined): Promise<TokenDetails> {
      await loadForChange(ctx, id, 'token.revoke');
      const now = clock.now();
      const result = await store.transaction(async (tx) => {
        const revoked = await tx.tokens.revoke(ctx.actor.orgId, id, ctx.actor.principalId, reason ?? null, now);
        if (!revoked) throw notFound('token', id);
        if (revoked.changed) {
          await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'token', subjectId: id, occurredAt: now });
          await tx.audit.append(auditOf(ctx, now, { action: 'token.revoked', outcome: 'success', targetType: 'token', targetId: id, details: { reason: reason ?? null } }));
        }
        return revoked.token;
      });
      return details(result, await policyOf(ctx.actor.orgId), now);
    },

    /**
     * Checks a presented API token (SPEC 3.2, 3.6): format and checksum before any lookup, the
     * keyed hash in constant time, status, owner, and every allowlist that applies. Denials are
     * values with a reason for the audit log.
     */
    async verify(presented: string, context: { clientIp: string; now: Date }): Promise<GateVerdict> {
      const parsed = parseToken(presented, tokenPrefix);
      if (!parsed.ok) return { active: false, reason: 'malformed' };
      const hash = hashSecret(secretKey, parsed.secret);
      /** Which of the token's secrets was presented, or why none counts. */
      const secretOf = ({ secrets }: { token: ApiToken; secrets: TokenSecrets }): 'current' | 'grace' | 'reuse' | 'bad_secret' => {
        if (hashesEqual(hash, secrets.secretHash)) return 'current';
        // RFC 9700 §4.14.2: a refresh token replaced by rotation must never work again, however
        // many generations ago; its reuse means theft (the family is revoked). Each hash is
        // compared in constant time, and all of them, so timing tells nothing of which matched.
        let retired = false;
        for (const old of secrets.retiredRefreshHashes) retired = hashesEqual(hash, old) || retired;
        if (retired) return 'reuse';
        if (!secrets.previousSecretHash || !hashesEqual(hash, secrets.previousSecretHash)) return 'bad_secret';
        if (secrets.previousFromRefresh) return 'reuse';
        return secrets.previousValidUntil && secrets.previousValidUntil.getTime() > context.now.getTime() ? 'grace' : 'bad_secret';
      };
      /** For the audit trail: how many rotations ago the reused secret was replaced (1: the one just before). */
      const generationsBack = ({ secrets }: { secrets: TokenSecrets }): number => {
        const index = secrets.retiredRefreshHashes.findIndex((old) => hashesEqual(hash, old));
        return index === -1 ? 1 : secrets.retiredRefreshHashes.length - index;
      };
      let found = await store.tokens.getForVerify(parsed.id);
      if (!found) return { active: false, reason: 'unknown' };
      const policy = await policyOf(found.token.orgId);
      let generation = secretOf(found);
      let status = tokenStatus(found.token, context.now, policy.idleTimeoutSeconds);
      // The record may come from the read cache, a moment behind a rotation or a use made
      // through another instance. A refusal it would cause (wrong secret, replay, idle) is
      // confirmed against the database first; an acceptance needs no second look.
      if (generation === 'bad_secret' || generation === 'reuse' || status === 'idle') {
        found = await store.tokens.getForVerify(parsed.id, { fresh: true });
        if (!found) return { active: false, reason: 'unknown' };
        generation = secretOf(found);
        status = tokenStatus(found.token, context.now, policy.idleTimeoutSeconds);
      }
      const { token } = found;
      const denied = (reason: string, extra: { reused?: boolean; generationsBack?: number } = {}): GateVerdict => ({ active: false, reason, tokenId: token.id, orgId: token.orgId, ...extra });
      if (generation === 'reuse') return denied('reuse', { reused: !token.revokedAt, generationsBack: generationsBack(found) });
      if (generation === 'bad_secret') return denied('bad_secret');
      if (status !== 'active') return denied(status);
      const owner = await store.principals.get(token.orgId, token.ownerId);
      if (!owner || owner.status !== 'active') return denied('owner_disabled');
      for (const list of [token.ipAllowlist, owner.ipAllowlist, policy.ipAllowlist]) {
        if (list.length > 0 && !isIpAllowed(parseIpAllowlist(list), context.clientIp)) return denied('ip_not_allowed');
      }
      // SPEC 2: effective roles are recomputed at use: token roles ∩ the owner's current roles.
      const ownerRoles = new Set((await store.principals.effectiveRoles(owner.orgId, owner.id)).map((r) => r.name));
      const exchangeable: ExchangeableToken = {
        id: token.id,
        orgId: token.orgId,
        ownerId: owner.id,
        mode: token.mode,
        scopeKind: token.scopeKind,
        endpoints: token.endpoints,
        // SPEC 3.6: the SDK enforces every list that applies through the one list an access token carries.
        ipAllowlist: intersectAllowlists([token.ipAllowlist, owner.ipAllowlist, policy.ipAllowlist]),
        roles: token.roles.filter((role) => ownerRoles.has(role)),
        expiresAt: token.expiresAt,
      };
      return { active: true, token: exchangeable, secretGeneration: generation };
    },

    /** A token just created, as the OAuth service mints its first access token (allowlists combined as in `verify`). */
    async exchangeable(token: TokenDetails): Promise<ExchangeableToken> {
      const owner = await store.principals.get(token.orgId, token.ownerId);
      const policy = await policyOf(token.orgId);
      return {
        id: token.id,
        orgId: token.orgId,
        ownerId: token.ownerId,
        mode: token.mode,
        scopeKind: token.scopeKind,
        endpoints: token.endpoints,
        ipAllowlist: intersectAllowlists([token.ipAllowlist, owner?.ipAllowlist ?? [], policy.ipAllowlist]),
        roles: token.roles,
        expiresAt: token.expiresAt,
      };
    },

    /** Whether a token (by id) is still usable: for introspecting access tokens minted from it. */
    async isUsable(orgId: string, id: string, now: Date): Promise<boolean> {
      const found = await store.tokens.getForVerify(id);
      if (!found || found.token.orgId !== orgId) return false;
      const policy = await policyOf(orgId);
      if (tokenStatus(found.token, now, policy.idleTimeoutSeconds) !== 'active') return false;
      const owner = await store.principals.get(orgId, found.token.ownerId);
      return owner?.status === 'active';
    },

    /**
     * Refresh-token rotation: replaces the secret only if it is still the presented one, with
     * `audit` (the exchange) in the same transaction.
     */
    async rotateOnRefresh(id: string, presented: string, now: Date, audit: NewAuditEvent): Promise<string | undefined> {
      const parsed = parseToken(presented, tokenPrefix);
      if (!parsed.ok) return undefined;
      const presentedHash = hashSecret(secretKey, parsed.secret);
      const secret = generateSecret(randomBytes);
      const replaced = await store.transaction(async (tx) => {
        const won = await tx.tokens.replaceSecret(
          id,
          { secretHash: hashSecret(secretKey, secret), previousSecretHash: presentedHash, previousValidUntil: now, previousFromRefresh: true, updatedAt: now, retire: presentedHash },
          presentedHash,
        );
        if (won) await tx.audit.append(audit);
        return won;
      });
      return replaced ? formatToken(tokenPrefix, id, secret) : undefined;
    },

    /** Revokes without an acting principal: reuse detection, or RFC 7009 by the token's holder. */
    async revokeBySystem(id: string, reason: 'reuse' | 'holder', context: RequestContext, facts: { generationsBack?: number | undefined } = {}): Promise<void> {
      const found = await store.tokens.getForVerify(id);
      if (!found) return;
      const now = clock.now();
      await store.transaction(async (tx) => {
        const revoked = await tx.tokens.revoke(found.token.orgId, id, reason === 'reuse' ? 'system:reuse-detection' : 'holder', reason === 'reuse' ? 'refresh token reuse detected' : 'revoked by its holder (RFC 7009)', now);
        if (!revoked?.changed) return;
        await tx.revocationEvents.append({ orgId: found.token.orgId, kind: 'token', subjectId: id, occurredAt: now });
        await tx.audit.append(
          auditOf({ ...context, actor: null }, now, {
            orgId: found.token.orgId,
            action: reason === 'reuse' ? 'token.reuse_detected' : 'token.revoked',
            outcome: reason === 'reuse' ? 'denied' : 'success',
            targetType: 'token',
            targetId: id,
            details: reason === 'reuse' ? { reason: 'reuse', ...(facts.generationsBack !== undefined && { generations_back: facts.generationsBack }) } : { reason: 'holder' },
          }),
        );
      });
    },

    /**
     * The expiry and idle sweep (SPEC 8): audits each token that has expired or gone idle
     * since the last sweep, once, with the mark and the event in one transaction. Status is
     * computed at read time, so a token is refused the moment it lapses; the sweep only tells
     * the audit trail. Returns how many tokens lapsed, by reason.
     */
    async sweepLapsed(now: Date, batchSize = 500): Promise<{ expired: number; idle: number }> {
      const counts = { expired: 0, idle: 0 };
      for (;;) {
        const lapsed = await store.transaction(async (tx) => {
          const found = await tx.tokens.markLapsed(now, batchSize);
          for (const token of found) {
            await tx.audit.append(
              auditOf({ clientIp: null, userAgent: null, requestId: null, actor: null }, now, {
                orgId: token.orgId,
                action: token.reason === 'expired' ? 'token.expired' : 'token.idle',
                outcome: 'success',
                targetType: 'token',
                targetId: token.id,
                details: { owner_id: token.ownerId },
              }),
            );
          }
          return found;
        });
        for (const token of lapsed) counts[token.reason]++;
        if (lapsed.length < batchSize) return counts;
      }
    },

    // Policy -------------------------------------------------------------------------------

    async getPolicy(ctx: ActorContext): Promise<Policy> {
      return policyOf(ctx.actor.orgId);
    },

    async setPolicy(ctx: ActorContext, policy: Policy): Promise<Policy> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'policy.update', targetType: 'policy', targetId: ctx.actor.orgId });
      checkPolicy(policy);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const before = await policyOf(ctx.actor.orgId, tx);
        await tx.policies.put(ctx.actor.orgId, policy, now);
        const diff: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of Object.keys(policy) as (keyof Policy)[]) {
          if (JSON.stringify(before[key]) !== JSON.stringify(policy[key])) diff[key] = { from: before[key], to: policy[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'policy.updated', outcome: 'success', targetType: 'policy', targetId: ctx.actor.orgId, details: { changes: diff } }));
        return policy;
      });
    },

    // Presets ------------------------------------------------------------------------------

    async createPreset(ctx: ActorContext, input: Omit<Preset, 'id' | 'orgId' | 'defaultLifetimeSeconds'> & { defaultLifetime?: string | undefined }): Promise<Preset> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.create', targetType: 'preset' });
      const defaultLifetimeSeconds = input.defaultLifetime === undefined ? null : presetLifetime(input.defaultLifetime);
      if (['all', 'custom'].includes(input.name)) throw invalid('/name', '"all" and "custom" are built-in scope kinds; choose another name');
      const endpoints = presetEndpoints(input.endpoints);
      const now = clock.now();
      const preset: Preset = {
        name: input.name,
        description: input.description,
        mode: input.mode,
        scopeLocked: input.scopeLocked,
        defaultLifetimeSeconds,
        endpoints,
        id: newId(random, 'pre'),
        orgId: ctx.actor.orgId,
      };
      await store.transaction(async (tx) => {
        // Through `tx` only: PGlite has one connection, so a query on `store` here would wait for this transaction forever.
        if (deps.configPresets.some((p) => p.name === input.name) || (await tx.presets.getByName(ctx.actor.orgId, input.name))) {
          throw new TesseraError('CONFLICT', `A preset named "${input.name}" already exists; choose another name`, { field: '/name' });
        }
        await tx.presets.create({ ...preset, orgId: ctx.actor.orgId, createdAt: now });
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.created', outcome: 'success', targetType: 'preset', targetId: preset.id, details: { name: preset.name, endpoints, mode: preset.mode } }));
      });
      return preset;
    },

    /**
     * Changes an organization preset. Name and mode stay (delete and create instead); tokens keep
     * the endpoints they were created with, so an edit shapes the tokens created after it.
     */
    async updatePreset(
      ctx: ActorContext,
      id: string,
      changes: { description?: string | undefined; endpoints?: readonly string[] | undefined; scopeLocked?: boolean | undefined; defaultLifetime?: string | null | undefined },
    ): Promise<Preset> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.update', targetType: 'preset', targetId: id });
      const endpoints = changes.endpoints && presetEndpoints(changes.endpoints);
      const lifetime = changes.defaultLifetime === undefined ? undefined : changes.defaultLifetime === null ? null : presetLifetime(changes.defaultLifetime);
      const now = clock.now();
      return store.transaction(async (tx) => {
        const before = (await tx.presets.list(ctx.actor.orgId)).find((p) => p.id === id);
        if (!before) throw notFound('preset', id);
        const after = await tx.presets.update(ctx.actor.orgId, id, {
          ...(changes.description !== undefined && { description: changes.description }),
          ...(endpoints !== undefined && { endpoints }),
          ...(changes.scopeLocked !== undefined && { scopeLocked: changes.scopeLocked }),
          ...(lifetime !== undefined && { defaultLifetimeSeconds: lifetime }),
        });
        if (!after) throw notFound('preset', id);
        const diff: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ['description', 'endpoints', 'scopeLocked', 'defaultLifetimeSeconds'] as const) {
          if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = { from: before[key], to: after[key] };
        }
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.updated', outcome: 'success', targetType: 'preset', targetId: id, details: { name: after.name, changes: diff } }));
        return after;
      });
    },

    async deletePreset(ctx: ActorContext, id: string): Promise<void> {
      await authorize(deps, ctx, { kind: 'manage_policy' }, { action: 'preset.delete', targetType: 'preset', targetId: id });
      const now = clock.now();
      await store.transaction(async (tx) => {
        if (!(await tx.presets.remove(ctx.actor.orgId, id))) throw notFound('preset', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'preset.deleted', outcome: 'success', targetType: 'preset', targetId: id }));
      });
    },

    // Saved searches -----------------------------------------------------------------------

    listSavedSearches(ctx: ActorContext): Promise<SavedSearch[]> {
      return store.savedSearches.listVisible(ctx.actor.orgId, ctx.actor.principalId);
    },

    async createSavedSearch(ctx: ActorContext, input: { name: string; query: Record<string, string>; shared: boolean }): Promise<SavedSearch> {
      await authorize(deps, ctx, { kind: 'write_saved_search', own: true }, { action: 'saved_search.create', targetType: 'saved_search' });
      const now = clock.now();
      const search: SavedSearch = { id: newId(random, 'srch'), orgId: ctx.actor.orgId, ownerId: ctx.actor.principalId, name: input.name, query: input.query, shared: input.shared, createdAt: now };
      await store.transaction(async (tx) => {
        await tx.savedSearches.create(search);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.created', outcome: 'success', targetType: 'saved_search', targetId: search.id, details: { name: search.name, shared: search.shared } }));
      });
      return search;
    },

    async updateSavedSearch(ctx: ActorContext, id: string, changes: { name?: string | undefined; query?: Record<string, string> | undefined; shared?: boolean | undefined }): Promise<SavedSearch> {
      const existing = await store.savedSearches.get(ctx.actor.orgId, id);
      if (!existing || (existing.ownerId !== ctx.actor.principalId && !existing.shared)) throw notFound('saved search', id);
      await authorize(deps, ctx, { kind: 'write_saved_search', own: existing.ownerId === ctx.actor.principalId }, { action: 'saved_search.update', targetType: 'saved_search', targetId: id });
      const now = clock.now();
      return store.transaction(async (tx) => {
        const updated = await tx.savedSearches.update(ctx.actor.orgId, id, {
          ...(changes.name !== undefined && { name: changes.name }),
          ...(changes.query !== undefined && { query: changes.query }),
          ...(changes.shared !== undefined && { shared: changes.shared }),
        });
        if (!updated) throw notFound('saved search', id);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.updated', outcome: 'success', targetType: 'saved_search', targetId: id }));
        return updated;
      });
    },

    async deleteSavedSearch(ctx: ActorContext, id: string): Promise<void> {
      const existing = await store.savedSearches.get(ctx.actor.orgId, id);
      if (!existing || (existing.ownerId !== ctx.actor.principalId && !existing.shared)) throw notFound('saved search', id);
      await authorize(deps, ctx, { kind: 'write_saved_search', own: existing.ownerId === ctx.actor.principalId }, { action: 'saved_search.delete', targetType: 'saved_search', targetId: id });
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.savedSearches.remove(ctx.actor.orgId, id);
        await tx.audit.append(auditOf(ctx, now, { action: 'saved_search.deleted', outcome: 'success', targetType: 'saved_search', targetId: id }));
      });
    },

    usage,
  };
  return service;
}

export type TokenService = ReturnType<typeof createTokenService>;
