import { formatToken, generateSecret, generateTokenId } from '@tessera/rules';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid } from '../errors.js';
import type { ApiToken } from '../model.js';
import { hashSecret } from '../secrets.js';
import { enforceLimit, type TokenContext } from './context.js';
import { checkedAllowlist, createTokenInputs, resolveExpiresAt } from './inputs.js';
import { defaultTokenName, nextDefaultTokenName, retryDefaultName } from './names.js';
import type { TokenDetails, TokenInput } from './types.js';

/** Creating a token (SPEC 3): for oneself or, with the right, for another principal. */
export function createTokenCreation(t: TokenContext) {
  const { deps, store, clock, secretKey, tokenPrefix, randomBytes, ownerStanding, policyOf, details, guardDelegation, withLimitAudit } = t;
  const { resolveOwner, resolveScope, resolveRoles } = createTokenInputs(t);
  return {
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
  };
}
