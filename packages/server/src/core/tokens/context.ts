import { tokenDisplayPrefix } from '@tessera/rules';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, notFound } from '../errors.js';
import type { Preset, Principal } from '../model.js';
import { defaultPolicy, type Policy } from '../policy.js';
import type { Clock, Random } from '../ports.js';
import type { Store, TokenView } from '../store.js';
import { createTargetGuard } from '../target-guard.js';
import type { UsageRecorder } from '../usage.js';
import { tokenStatus } from './status.js';
import type { TokenDetails } from './types.js';

/** What the token service is built from (app/container.ts wires it). */
export interface TokenDeps {
  store: Store;
  clock: Clock;
  random: Random;
  secretKey: Uint8Array;
  tokenPrefix: string;
  /** Presets from the operator's configuration file, offered to every organization. */
  configPresets: readonly Preset[];
  usage: UsageRecorder;
}

/**
 * What the token use cases share: the dependencies, and the lookups and checks that more than
 * one of them makes. Each use-case file takes this and returns its methods; index.ts composes them.
 */
export function createTokenContext(deps: TokenDeps) {
  const { store, clock, random, secretKey, tokenPrefix } = deps;
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

  /**
   * A secret for another principal (created or rotated for them) lets the caller act with the
   * token's roles: refused when those carry rights the caller lacks (SPEC 2: never a right the
   * caller lacks), so an admin cannot mint an org-owner's powers for itself.
   */
  async function guardDelegation(ctx: ActorContext, roles: readonly string[], auditAction: string, targetId: string | null): Promise<void> {
    const rights = (await store.roles.list(ctx.actor.orgId)).filter((role) => roles.includes(role.name)).flatMap((role) => role.rights);
    await authorize(deps, ctx, { kind: 'delegate_rights', rights: [...new Set(rights)] }, { action: auditAction, targetType: 'token', targetId });
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

  async function loadForChange(ctx: ActorContext, id: string, auditAction: string): Promise<TokenView> {
    const token = await store.tokens.get(ctx.actor.orgId, id);
    const own = token?.ownerId === ctx.actor.principalId;
    const owner = token && !own ? await ownerStanding(ctx.actor.orgId, token.ownerId) : undefined;
    await authorize(deps, ctx, { kind: 'write_tokens', own: token ? own : true, owner, revoke: auditAction === 'token.revoke' }, { action: auditAction, targetType: 'token', targetId: id });
    if (!token) throw notFound('token', id);
    return token;
  }

  return { deps, store, clock, random, secretKey, tokenPrefix, ownerStanding, randomBytes, policyOf, presetsOf, details, guardDelegation, withLimitAudit, loadForChange };
}

export type TokenContext = ReturnType<typeof createTokenContext>;

/**
 * SPEC 3.7: locks the owner's row (held until `tx` ends), then counts, so the insert or
 * revival that follows in `tx` cannot overshoot the limit on any number of instances.
 */
export async function enforceLimit(tx: Store, owner: Principal, policy: Policy, now: Date): Promise<void> {
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
