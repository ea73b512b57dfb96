import { formatDuration, formatToken, generateSecret, isRuleError, parseRelativeExpiry, parseToken } from '@tessera/rules';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError, invalid, notFound } from '../errors.js';
import type { NewAuditEvent } from '../model.js';
import { hashSecret } from '../secrets.js';
import type { TokenView } from '../store.js';
import type { TokenContext } from './context.js';
import type { TokenDetails } from './types.js';

const maxGraceSeconds = 7 * 86_400;

/** New secrets: rotation by a principal (with a grace period) and refresh-token rotation by the OAuth token endpoint. */
export function createTokenRotation({ deps, store, clock, secretKey, tokenPrefix, randomBytes, ownerStanding, policyOf, details, guardDelegation, loadForChange }: TokenContext) {
  return {
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
  };
}
