import { formatDuration, formatEndpointPattern, isRuleError, parseEndpointPatterns, resolveExpiry } from '@tessera/rules';
import type { ActorContext } from '../context.js';
import { checkIpAllowlist } from '../allowlist.js';
import { TesseraError, invalid } from '../errors.js';
import type { Preset, Principal, TokenMode } from '../model.js';
import { defaultLifetime, maxLifetime, type Policy } from '../policy.js';
import type { TokenContext } from './context.js';
import type { TokenInput } from './types.js';

/** Resolves what a create or an edit asks for (owner, scope, roles) against the directory and the presets. */
export function createTokenInputs({ store, presetsOf }: TokenContext) {
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

  async function resolveRoles(owner: Principal, requested: readonly string[] | undefined): Promise<string[]> {
    const ownerRoles = (await store.principals.effectiveRoles(owner.orgId, owner.id)).map((r) => r.name);
    if (requested === undefined) return ownerRoles;
    for (const [index, role] of requested.entries()) {
      if (!ownerRoles.includes(role)) throw invalid(`/roles/${index}`, `The owner does not hold the role "${role}"; a token's roles are a subset of its owner's (${ownerRoles.join(', ') || 'none'})`);
    }
    return [...new Set(requested)];
  }

  return { resolveOwner, resolveScope, resolveRoles };
}

/** Turns the `expires` input into an instant under the policy's default and maximum. */
export function resolveExpiresAt(input: string | null | undefined, mode: TokenMode, policy: Policy, preset: Preset | undefined, now: Date): Date | null {
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

export function checkedAllowlist(entries: readonly string[] | undefined): string[] {
  return [...checkIpAllowlist(entries ?? [], '/ip_allowlist')].map((e) => e.trim());
}
