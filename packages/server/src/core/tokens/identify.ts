import { parseToken } from '@tessera/rules';
import { authorize } from '../authorize.js';
import { auditOf, type ActorContext } from '../context.js';
import { TesseraError } from '../errors.js';
import type { ApiToken } from '../model.js';
import type { Clock } from '../ports.js';
import { hashSecret, hashesEqual } from '../secrets.js';
import type { Store } from '../store.js';
import type { TokenDetails, TokenService } from './index.js';

/** Why a presented value is or is not one of ours; `malformed` is decided without storage. */
export type ValueVerdict =
  | { readonly found: true; readonly token: ApiToken }
  | { readonly found: false; readonly reason: 'malformed' | 'unknown' };

/**
 * Finds the token a full token value belongs to (SPEC 9, revoke by value). The checksum is
 * checked first (SPEC 3.2), so a mistyped or made-up value costs no database read; the secret
 * is compared in constant time with the current hash and, after a rotation, the previous one
 * and the refresh generations remembered: a leaked old secret still names its token.
 */
export async function findTokenByValue(deps: { store: Store; secretKey: Uint8Array; tokenPrefix: string }, value: string): Promise<ValueVerdict> {
  const parsed = parseToken(value, deps.tokenPrefix);
  if (!parsed.ok) return { found: false, reason: 'malformed' };
  const found = await deps.store.tokens.getForVerify(parsed.id, { fresh: true });
  if (!found) return { found: false, reason: 'unknown' };
  const hash = hashSecret(deps.secretKey, parsed.secret);
  const matches =
    hashesEqual(hash, found.secrets.secretHash) ||
    (found.secrets.previousSecretHash !== null && hashesEqual(hash, found.secrets.previousSecretHash)) ||
    found.secrets.retiredRefreshHashes.some((old) => hashesEqual(hash, old));
  return matches ? { found: true, token: found.token } : { found: false, reason: 'unknown' };
}

/** The one answer for a value that names no token of the caller's organization: it never echoes the value. */
const noSuchValue = () => new TesseraError('NOT_FOUND', 'No token of this organization has this value; check that it was copied whole');

/** Identify and revoke by value, for administrators holding `tokens.all` (SPEC 9). */
export function createTokenIdentifyService(deps: { store: Store; clock: Clock; secretKey: Uint8Array; tokenPrefix: string; tokens: TokenService }) {
  async function identify(ctx: ActorContext, value: string, auditAction: string): Promise<TokenDetails> {
    // Knowing a value lets one act on any principal's token: the right to change others' tokens.
    await authorize(deps, ctx, { kind: 'write_tokens', own: false, anyOwner: true }, { action: auditAction, targetType: 'token' });
    const verdict = await findTokenByValue(deps, value);
    if (!verdict.found || verdict.token.orgId !== ctx.actor.orgId) {
      await deps.store.audit.append(auditOf(ctx, deps.clock.now(), { action: auditAction, outcome: 'failure', targetType: 'token', details: { reason: verdict.found ? 'unknown' : verdict.reason } }));
      throw noSuchValue();
    }
    return deps.tokens.get(ctx, verdict.token.id);
  }

  return {
    /** The token's metadata (never its secret), or NOT_FOUND. */
    async identify(ctx: ActorContext, value: string): Promise<TokenDetails> {
      const token = await identify(ctx, value, 'token.identify');
      await deps.store.audit.append(auditOf(ctx, deps.clock.now(), { action: 'token.identified', outcome: 'success', targetType: 'token', targetId: token.id }));
      return token;
    },

    /** Revokes the token the value belongs to; idempotent like revoke by id. */
    async revokeByValue(ctx: ActorContext, value: string, reason: string | undefined): Promise<TokenDetails> {
      const token = await identify(ctx, value, 'token.revoke');
      return deps.tokens.revoke(ctx, token.id, reason);
    },
  };
}

export type TokenIdentifyService = ReturnType<typeof createTokenIdentifyService>;
