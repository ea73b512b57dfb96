import type { App, NewAuditEvent } from '../model.js';
import type { RequestContext } from '../context.js';

export interface OAuthSettings {
  /** `iss` of every access token and the metadata's issuer (read at use: it may be known only once the server listens). */
  readonly issuer: () => string;
  /** `aud` of every access token: the customer's API. */
  readonly audience: string;
  /** Default access-token lifetime when policy gives none. */
  readonly defaultAccessTokenTtlSeconds: number;
  /** Answer `"refresh_token": null` when none is issued (the seeds' form) instead of omitting it. */
  readonly nullRefreshToken?: boolean;
}

/**
 * Who the client at an OAuth endpoint is (RFC 6749 §2.3): an app whose credentials were
 * verified, a public client naming itself by `client_id` alone, or nobody.
 */
export type ClientAuth = { readonly kind: 'app'; readonly app: App } | { readonly kind: 'public'; readonly clientId: string } | { readonly kind: 'none' };

/** A verified API token, as the tokens domain reports it. */
export interface ExchangeableToken {
  readonly id: string;
  readonly orgId: string;
  readonly ownerId: string;
  readonly mode: 'refreshable' | 'direct';
  readonly scopeKind: string;
  readonly endpoints: readonly string[];
  readonly ipAllowlist: readonly string[];
  readonly roles: readonly string[];
  readonly expiresAt: Date | null;
}

export type GateVerdict =
  | { readonly active: true; readonly token: ExchangeableToken; readonly secretGeneration: 'current' | 'grace' }
  | {
      readonly active: false;
      readonly reason: string;
      readonly tokenId?: string;
      readonly orgId?: string;
      /** A refresh secret replaced by rotation was presented (RFC 9700 §4.14.2): the token must be revoked. */
      readonly reused?: boolean;
      /** How many rotations ago that secret was replaced, for the audit trail. */
      readonly generationsBack?: number;
    };

/** What the OAuth service needs from the API tokens domain. */
export interface ApiTokenGate {
  verify(token: string, context: { clientIp: string; now: Date }): Promise<GateVerdict>;
  /** Whether an API token is still usable (not revoked, expired or idle; owner active). */
  isUsable(orgId: string, tokenId: string, now: Date): Promise<boolean>;
  /**
   * Replaces the secret if it is still `presentedSecret`, writing `audit` in the same
   * transaction (a state change and its audit event commit together); undefined when another
   * refresh won.
   */
  rotateSecret(tokenId: string, presentedSecret: string, now: Date, audit: NewAuditEvent): Promise<string | undefined>;
  /** Revokes the token, and so its whole refresh family and every access token minted from it. */
  revokeForReuse(tokenId: string, context: RequestContext, facts?: { generationsBack?: number | undefined }): Promise<void>;
  /** Revocation through RFC 7009 by a holder of the token. */
  revokeByHolder(tokenId: string, context: RequestContext): Promise<void>;
  policy(orgId: string): Promise<{ accessTokenTtlSeconds: number; refreshTokenRotation: boolean }>;
}

/**
 * RFC 6749 §5.1. `refresh_token` is present only when a new one is issued (rotation): the
 * member is optional and, when present, a string; strict clients refuse `null`. The seeds'
 * `null` is a setting (OAuthSettings.nullRefreshToken).
 */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string | null;
  readonly scope: string;
}

/** A grant handler (RFC 6749 §4, §6), keyed by its wire name in the dispatch map. */
export type Grant = (input: { param: (name: string) => string | undefined; client: ClientAuth; context: RequestContext & { clientIp: string } }) => Promise<TokenResponse>;
