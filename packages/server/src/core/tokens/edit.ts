import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid, notFound } from '../errors.js';
import type { Preset, TokenMode } from '../model.js';
import { enforceLimit, type TokenContext } from './context.js';
import { checkedAllowlist, createTokenInputs, resolveExpiresAt } from './inputs.js';
import { tokenStatus } from './status.js';
import type { TokenChanges, TokenDetails } from './types.js';

/** Editing a token's name, expiry, scope, roles and allowlist. */
export function createTokenEditing(t: TokenContext) {
  const { store, clock, policyOf, presetsOf, details, withLimitAudit, loadForChange } = t;
  const { resolveScope, resolveRoles } = createTokenInputs(t);
  return {
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
  };
}
