import type { ApiToken, TokenStatus } from '../model.js';

/** Status from stored fields and the clock (SPEC 3.1): revoked, then expired, then idle. */
export function tokenStatus(token: Pick<ApiToken, 'revokedAt' | 'expiresAt' | 'lastUsedAt' | 'createdAt'>, now: Date, idleTimeoutSeconds: number | null): TokenStatus {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (idleTimeoutSeconds !== null && (token.lastUsedAt ?? token.createdAt).getTime() + idleTimeoutSeconds * 1000 <= now.getTime()) return 'idle';
  return 'active';
}
