import type { Right } from './rights.js';

export interface Org {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: Date;
}

export type PrincipalKind = 'user' | 'service_account';
export type PrincipalStatus = 'active' | 'disabled';

export interface Principal {
  readonly id: string;
  readonly orgId: string;
  readonly kind: PrincipalKind;
  readonly username: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly status: PrincipalStatus;
  readonly instanceAdmin: boolean;
  /** Entries as written by the operator; parsed by @tessera/rules where enforced. */
  readonly ipAllowlist: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly passwordChangedAt: Date | null;
}

export interface Role {
  readonly id: string;
  /** `null` for built-in roles, which every organization shares. */
  readonly orgId: string | null;
  readonly name: string;
  readonly description: string;
  readonly rights: readonly Right[];
  readonly builtin: boolean;
  readonly createdAt: Date;
}

export interface Group {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly description: string;
  readonly createdAt: Date;
}

export interface Session {
  readonly id: string;
  readonly orgId: string;
  readonly principalId: string;
  readonly secretHash: Buffer;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly endedAt: Date | null;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
}

export interface AuditEvent {
  readonly id: string;
  readonly orgId: string | null;
  readonly occurredAt: Date;
  /** Dotted verb such as `login.failure`, `user.created`, `token.revoked`. */
  readonly action: string;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly actorPrincipalId: string | null;
  /** The API token the actor was acting through (SPEC 6: refreshTokenId). */
  readonly actorTokenId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  /** Never holds a secret: callers pass field diffs and reasons only. */
  readonly details: Readonly<Record<string, unknown>>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

/** An audit event for a batch write; `writeKey` (core/usage.ts) makes writing it idempotent. */
export type KeyedAuditEvent = NewAuditEvent & { readonly writeKey?: string | undefined };

/** A page of a keyset-paginated list; `nextCursor` is opaque and `null` on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** A server-to-server OAuth client (SPEC 1): client_credentials with its roles and TTL. */
export interface App {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly description: string;
  readonly clientId: string;
  /** Role names. */
  readonly roles: readonly string[];
  /** Access-token lifetime; null uses the organization's. */
  readonly accessTokenTtlSeconds: number | null;
  /** May call /oauth/introspect. */
  readonly canIntrospect: boolean;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly secretRotatedAt: Date;
}

export interface NewApp extends Omit<App, 'roles'> {
  readonly secretHash: Buffer;
}

export type TokenMode = 'refreshable' | 'direct';
export type TokenStatus = 'active' | 'expired' | 'idle' | 'revoked';

/** An API token's metadata (SPEC 3.1). The secret is never part of it; only its keyed hash is stored. */
export interface ApiToken {
  /** Public id: part of the token string, shown in lists and logs. */
  readonly id: string;
  readonly orgId: string;
  readonly ownerId: string;
  readonly createdBy: string;
  readonly name: string;
  readonly mode: TokenMode;
  /** `all`, `custom`, or a preset name. */
  readonly scopeKind: string;
  /** Endpoint patterns as written (custom scopes and presets). */
  readonly endpoints: readonly string[];
  /** Role names: a subset of the owner's roles when created. */
  readonly roles: readonly string[];
  readonly ipAllowlist: readonly string[];
  /** Renewable-until for refreshable tokens, expiry for direct ones; null: never. */
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly lastUsedIp: string | null;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The stored secret hashes, read only to verify a presented token. */
export interface TokenSecrets {
  readonly secretHash: Buffer;
  readonly previousSecretHash: Buffer | null;
  /** The previous secret verifies until then (rotation grace); for refresh rotation it is the rotation instant. */
  readonly previousValidUntil: Date | null;
  readonly previousFromRefresh: boolean;
  /**
   * Hashes of the secrets refresh rotation replaced, oldest first, the last
   * `refreshHistoryLength` generations (RFC 9700 §4.14.2: presenting one is a reuse).
   */
  readonly retiredRefreshHashes: readonly Buffer[];
}

/** How many replaced refresh-token generations a token remembers, to detect the reuse of any of them. */
export const refreshHistoryLength = 32;

/** An operator-defined scope with lifecycle flags (SPEC 3.5). */
export interface Preset {
  readonly id: string;
  /** `null` for presets from the configuration file, shared by every organization. */
  readonly orgId: string | null;
  readonly name: string;
  readonly description: string;
  readonly endpoints: readonly string[];
  readonly mode: TokenMode;
  /** The scope of a token created from it cannot be changed. */
  readonly scopeLocked: boolean;
  readonly defaultLifetimeSeconds: number | null;
}

export interface SavedSearch {
  readonly id: string;
  readonly orgId: string;
  readonly ownerId: string;
  readonly name: string;
  readonly query: Readonly<Record<string, string>>;
  readonly shared: boolean;
  readonly createdAt: Date;
}
