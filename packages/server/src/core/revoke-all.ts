import { authorize } from './authorize.js';
import { auditOf, type ActorContext } from './context.js';
import { invalid } from './errors.js';
import { createTargetGuard } from './target-guard.js';
import type { Principal } from './model.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';

/** The revoke reason recorded when the caller gives none: the console and CLI show it. */
export const cutoffReason = 'cutoff';

export interface RevokeAllInput {
  /** Username or id; absent: the whole organization. */
  readonly owner?: string | undefined;
  /** Default: now. Never in the future. */
  readonly issuedBefore?: Date | undefined;
  readonly reason?: string | undefined;
}

/**
 * Revoke everything issued before a cutoff (SPEC 9), for one principal or the organization.
 *
 * The cutoff is a whole second, rounded up: access tokens carry `iat` in seconds (RFC 7519 §2,
 * NumericDate), and a cutoff inside a second could not tell the access tokens minted in that
 * second before it from those minted after. The API tokens created before the rounded cutoff
 * are revoked in one statement, and one `cutoff` event in the feed refuses every access token
 * minted from that organization's (or owner's) API tokens with `iat` before it: one event
 * however many tokens. The answer waits until the cutoff second has passed (under a second),
 * so a token created after the answer is never caught by it.
 */
export function createRevokeAllService(deps: { store: Store; clock: Clock; sleep?: (ms: number) => Promise<void> }) {
  const guard = createTargetGuard(deps);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function ownerOf(ctx: ActorContext, owner: string): Promise<Principal> {
    const orgId = ctx.actor.orgId;
    const found = (await deps.store.principals.get(orgId, owner)) ?? (await deps.store.principals.getByUsername(orgId, owner));
    if (!found) throw invalid('/owner', `No user or service account "${owner}" in this organization; give a username or id`);
    return found;
  }

  return {
    async revokeAll(ctx: ActorContext, input: RevokeAllInput): Promise<{ revoked: number; before: Date }> {
      const self = input.owner === undefined ? false : input.owner === ctx.actor.principalId || input.owner === ctx.actor.username;
      const audit = { action: 'token.revoke_all', targetType: input.owner === undefined ? 'org' : 'principal', targetId: input.owner ?? ctx.actor.orgId };
      await authorize(deps, ctx, { kind: 'write_tokens', own: self, revoke: true }, audit);
      const owner = input.owner === undefined ? null : await ownerOf(ctx, input.owner);
      // The same rule as revoking one token: tokens.all may revoke anyone's; users.manage only
      // the tokens of those it outranks; the whole organization's only tokens.all.
      if (!self) {
        const action = owner ? { owner: await guard.standingOfId(owner.orgId, owner.id) } : { anyOwner: true };
        await authorize(deps, ctx, { kind: 'write_tokens', own: false, revoke: true, ...action }, audit);
      }
      const now = deps.clock.now();
      const requested = input.issuedBefore ?? now;
      if (Number.isNaN(requested.getTime())) throw invalid('/issued_before', 'Give the cutoff as an ISO 8601 date-time, e.g. 2027-01-31T10:00:00Z');
      if (requested.getTime() > now.getTime()) throw invalid('/issued_before', 'The cutoff cannot be in the future; leave issued_before out to revoke everything issued until now');
      const before = new Date(Math.ceil(requested.getTime() / 1000) * 1000);
      const reason = input.reason ?? cutoffReason;
      const revoked = await deps.store.transaction(async (tx) => {
        const tokens = await tx.tokens.revokeCreatedBefore(ctx.actor.orgId, owner?.id ?? null, before, ctx.actor.principalId, reason, now);
        if (tokens.length === 0) return 0;
        await tx.revocationEvents.append({ orgId: ctx.actor.orgId, kind: 'cutoff', subjectId: owner?.id ?? '*', occurredAt: now, before });
        await tx.audit.appendMany(
          tokens.map((token) =>
            auditOf(ctx, now, { action: 'token.revoked', outcome: 'success', targetType: 'token', targetId: token.id, details: { reason, cutoff: before.toISOString() } }),
          ),
        );
        await tx.audit.append(
          auditOf(ctx, now, {
            action: 'token.revoked_all',
            outcome: 'success',
            targetType: owner ? 'principal' : 'org',
            targetId: owner?.id ?? ctx.actor.orgId,
            details: { owner: owner?.username ?? null, issued_before: before.toISOString(), revoked: tokens.length, reason },
          }),
        );
        return tokens.length;
      });
      const wait = before.getTime() - deps.clock.now().getTime();
      if (wait > 0) await sleep(Math.min(wait, 1000));
      return { revoked, before };
    },
  };
}

export type RevokeAllService = ReturnType<typeof createRevokeAllService>;
