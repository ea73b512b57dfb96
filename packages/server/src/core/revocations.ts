/** Access tokens revoked before their expiry (RFC 7009), remembered until they would expire. */
export interface RevocationRepository {
  revokeAccessToken(entry: { jti: string; orgId: string; tokenId: string | null; revokedAt: Date; expiresAt: Date }): Promise<void>;
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /** Forgets revocations of tokens that have expired anyway. */
  pruneExpired(before: Date): Promise<void>;
  /**
   * Brings what this instance holds in memory up to every revocation committed so far, by any
   * instance (each is in the revocation feed). Called before a token is answered as usable,
   * so a revocation that has answered anywhere is refused here too, not only once its
   * notification arrives (issue 13). A no-op where nothing is cached.
   */
  catchUp(): Promise<void>;
}

/** One entry of the revocation feed (SPEC 5.4). */
export interface RevocationEvent {
  /** Position in the feed; clients resume after it. */
  readonly seq: string;
  readonly orgId: string;
  /**
   * `token`: an API token (and its access tokens); `access_token`: one jti; `principal`: a
   * disabled or deleted owner; `cutoff`: every access token minted from an API token of the
   * organization (subject `*`) or of one owner (subject: the owner's id) issued before `before`.
   */
  readonly kind: 'token' | 'access_token' | 'principal' | 'cutoff';
  readonly subjectId: string;
  readonly occurredAt: Date;
  /** For `cutoff` only. */
  readonly before?: Date | undefined;
}

/**
 * The feed's storage, appended in the same transaction as each revocation. An append also
 * announces itself on the change feed (topic `revocations`) when that transaction commits.
 */
export interface RevocationEventRepository {
  append(event: Omit<RevocationEvent, 'seq'>): Promise<void>;
  /** Events after `seq` (all organizations), oldest first, at most `limit`. */
  after(seq: string, limit: number): Promise<RevocationEvent[]>;
  /** The sequence of the newest event older than `before`, so a new follower starts from the retention window. */
  lastBefore(before: Date): Promise<string>;
  /** Forgets events older than `before` (past the window any follower can ask for). */
  pruneBefore(before: Date): Promise<void>;
}
