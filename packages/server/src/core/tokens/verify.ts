import { isIpAllowed, parseIpAllowlist, parseToken } from '@tessera/rules';
import { intersectAllowlists } from '../allowlist.js';
import type { ApiToken, TokenSecrets } from '../model.js';
import type { ExchangeableToken, GateVerdict } from '../oauth/index.js';
import { hashSecret, hashesEqual } from '../secrets.js';
import type { TokenContext } from './context.js';
import { tokenStatus } from './status.js';
import type { TokenDetails } from './types.js';

/** Checking a presented token, and what the OAuth service exchanges it for. */
export function createTokenVerification({ store, secretKey, tokenPrefix, policyOf }: TokenContext) {
  return {
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
  };
}
