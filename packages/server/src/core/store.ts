import type { ApiToken, App, AuditEvent, Group, KeyedAuditEvent, NewApp, NewAuditEvent, Org, Page, Preset, Principal, PrincipalKind, PrincipalStatus, Role, SavedSearch, Session, TokenSecrets, TokenStatus } from './model.js';
import type { ChangePublisher } from './changes.js';
import type { Policy } from './policy.js';
import type { SigningKeyRepository } from './keyring.js';
import type { RevocationEventRepository, RevocationRepository } from './revocations.js';
import type { Right } from './rights.js';
import type { WebhookRepository } from './webhook-model.js';
import type { SecondFactorRepository } from './second-factor-model.js';

export interface ListQuery {
  readonly limit: number;
  readonly cursor?: string | undefined;
  /** Case-insensitive substring search. */
  readonly q?: string | undefined;
}

export interface PrincipalPatch {
  readonly displayName?: string;
  readonly email?: string | null;
  readonly status?: PrincipalStatus;
  readonly ipAllowlist?: readonly string[];
  readonly passwordHash?: string;
  readonly passwordChangedAt?: Date;
  readonly updatedAt: Date;
}

/** A principal as first written: its identity and settings, the password hash, no history yet. */
export interface NewPrincipal extends Pick<Principal, 'id' | 'orgId' | 'kind' | 'username' | 'displayName' | 'email' | 'instanceAdmin' | 'ipAllowlist' | 'createdAt'> {
  readonly passwordHash: string | null;
}

export interface AuditQuery extends ListQuery {
  readonly orgId: string;
  readonly action?: string | undefined;
  readonly actorPrincipalId?: string | undefined;
  readonly targetId?: string | undefined;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}

/** Token-endpoint use of one API token in one minute with one outcome (issue 17: a rollup, not an audit row per exchange). */
export interface UsageCount {
  readonly orgId: string;
  readonly tokenId: string;
  /** The start of the minute (UTC). */
  readonly minute: Date;
  readonly outcome: 'success' | 'denied';
  readonly count: number;
}

/** A login-failure counter keyed by account or client address. */
export interface ThrottleState {
  readonly failures: number;
  readonly windowStart: Date;
}

/** Storage of apps (part of the Store port). */
export interface AppRepository {
  create(app: NewApp, roleIds: readonly string[]): Promise<void>;
  get(orgId: string, id: string): Promise<App | undefined>;
  /** Looks up by public client_id across organizations, with the secret hash for verification. */
  getByClientId(clientId: string): Promise<{ app: App; secretHash: Buffer } | undefined>;
  list(orgId: string, query: ListQuery): Promise<Page<App>>;
  update(
    orgId: string,
    id: string,
    patch: { name?: string; description?: string; accessTokenTtlSeconds?: number | null; canIntrospect?: boolean; roleIds?: readonly string[]; updatedAt: Date },
  ): Promise<App | undefined>;
  setSecret(orgId: string, id: string, secretHash: Buffer, at: Date): Promise<boolean>;
  remove(orgId: string, id: string, at: Date): Promise<boolean>;
}

/** A token with its owner's username, as lists and shows present it. */
export interface TokenView extends ApiToken {
  readonly ownerUsername: string;
  /** The last 5 distinct client addresses it was used from, newest first (SPEC 9). */
  readonly recentIps: readonly { readonly ip: string; readonly lastSeenAt: Date }[];
}

export const tokenSortColumns = ['created_at', 'name', 'expires_at', 'last_used_at', 'owner', 'status'] as const;
export type TokenSortColumn = (typeof tokenSortColumns)[number];

/** What a token list filters and sorts by: the service's filters and the Store's query alike. */
export interface TokenListCriteria {
  readonly status?: TokenStatus | undefined;
  readonly kind?: string | undefined;
  /** Case-insensitive search in the token name and the owner's username. */
  readonly q?: string | undefined;
  /** Not used within this many days (never-used tokens included). */
  readonly unusedDays?: number | undefined;
  readonly usedSince?: Date | undefined;
  readonly sort: TokenSortColumn;
  readonly descending: boolean;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface TokenListQuery extends TokenListCriteria {
  readonly orgId: string;
  readonly ownerId?: string | undefined;
  readonly neverUsed?: boolean | undefined;
  /** Status is computed against this instant and the organization's idle timeout. */
  readonly now: Date;
  readonly idleTimeoutSeconds: number | null;
}

export interface TokenRepository {
  create(token: ApiToken, secretHash: Buffer): Promise<void>;
  get(orgId: string, id: string): Promise<TokenView | undefined>;
  /**
   * By public id across organizations, with the secret hashes, for verification only. With
   * `fresh`, read past any cache: for confirming a refusal a cached record would cause.
   */
  getForVerify(id: string, options?: { readonly fresh?: boolean }): Promise<{ token: ApiToken; secrets: TokenSecrets } | undefined>;
  /**
   * Locks the owner's principal row until the transaction ends (SELECT … FOR UPDATE), so
   * concurrent creations for one owner count and insert one at a time on every instance.
   */
  lockOwner(ownerId: string): Promise<void>;
  /** Tokens of the owner that are neither revoked, expired nor idle. */
  countActive(ownerId: string, now: Date, idleTimeoutSeconds: number | null): Promise<number>;
  list(query: TokenListQuery): Promise<Page<TokenView>>;
  update(
    orgId: string,
    id: string,
    patch: { name?: string; expiresAt?: Date | null; scopeKind?: string; endpoints?: readonly string[]; roles?: readonly string[]; ipAllowlist?: readonly string[]; updatedAt: Date },
  ): Promise<TokenView | undefined>;
  /**
   * Replaces the secret. With `expectedCurrent`, only if the stored hash still equals it, so of
   * two refreshes presenting the same secret exactly one wins. `retire` (refresh rotation)
   * joins the token's history of replaced secrets, which keeps the last
   * `refreshHistoryLength`. Returns whether it replaced.
   */
  replaceSecret(
    id: string,
    next: { secretHash: Buffer; previousSecretHash: Buffer | null; previousValidUntil: Date | null; previousFromRefresh: boolean; updatedAt: Date; retire?: Buffer },
    expectedCurrent?: Buffer,
  ): Promise<boolean>;
  /** Revokes if not yet revoked; returns the token either way (undefined if unknown). */
  revoke(orgId: string, id: string, by: string, reason: string | null, at: Date): Promise<{ token: TokenView; changed: boolean } | undefined>;
  /**
   * Revokes every unrevoked token of the organization (or of one owner) created before
   * `before`, in one statement; returns those it revoked (SPEC 9, revoke before a cutoff).
   */
  revokeCreatedBefore(orgId: string, ownerId: string | null, before: Date, by: string, reason: string | null, at: Date): Promise<{ id: string; ownerId: string }[]>;
  /** Batched last-use bookkeeping: never written per request. */
  recordUsage(entries: readonly { id: string; at: Date; ip: string; /** Distinct addresses seen in the batch (SPEC 9); default just `ip`. */ recentIps?: readonly { ip: string; at: Date }[] }[]): Promise<void>;
  /**
   * Marks up to `limit` live tokens that have expired, or gone idle under their organization's
   * idle timeout, since the last sweep, and returns them; each token is marked (and so
   * reported) once. Changing a token's expiry clears its mark.
   */
  markLapsed(now: Date, limit: number): Promise<LapsedToken[]>;
}

/** A token the lapse sweep found expired or idle. */
export interface LapsedToken {
  readonly id: string;
  readonly orgId: string;
  readonly ownerId: string;
  readonly reason: 'expired' | 'idle';
}

export interface PolicyRepository {
  get(orgId: string): Promise<Partial<Policy> | undefined>;
  put(orgId: string, policy: Policy, at: Date): Promise<void>;
}

export interface PresetRepository {
  list(orgId: string): Promise<Preset[]>;
  getByName(orgId: string, name: string): Promise<Preset | undefined>;
  create(preset: Preset & { orgId: string; createdAt: Date }): Promise<void>;
  update(
    orgId: string,
    id: string,
    patch: { description?: string; endpoints?: readonly string[]; scopeLocked?: boolean; defaultLifetimeSeconds?: number | null },
  ): Promise<Preset | undefined>;
  remove(orgId: string, id: string): Promise<boolean>;
}

export interface SavedSearchRepository {
  /** The caller's own searches and those shared within the organization. */
  listVisible(orgId: string, ownerId: string): Promise<SavedSearch[]>;
  get(orgId: string, id: string): Promise<SavedSearch | undefined>;
  create(search: SavedSearch): Promise<void>;
  update(orgId: string, id: string, patch: { name?: string; query?: Readonly<Record<string, string>>; shared?: boolean }): Promise<SavedSearch | undefined>;
  remove(orgId: string, id: string): Promise<boolean>;
}

/**
 * The storage port the domain owns. One implementation (Kysely over PostgreSQL SQL) runs on
 * both PGlite and PostgreSQL; the contract suite in test/storage runs against both.
 * Every lookup that takes an id also takes the organization, so a foreign id is simply absent.
 */
export interface Store {
  /** Runs `work` in one transaction; audit events written through `tx` commit or roll back with it. */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  /** Cheap liveness query for /readyz. */
  ping(): Promise<void>;

  orgs: {
    create(org: Org): Promise<Org>;
    get(id: string): Promise<Org | undefined>;
    getByName(name: string): Promise<Org | undefined>;
    list(query: ListQuery): Promise<Page<Org>>;
    update(id: string, patch: { displayName: string }): Promise<Org | undefined>;
    count(): Promise<number>;
  };

  principals: {
    create(principal: NewPrincipal): Promise<Principal>;
    get(orgId: string, id: string): Promise<Principal | undefined>;
    getByUsername(orgId: string, username: string): Promise<Principal | undefined>;
    /** The stored password hash, read only for verification. */
    getPasswordHash(orgId: string, id: string): Promise<string | null>;
    list(orgId: string, kind: PrincipalKind, query: ListQuery): Promise<Page<Principal>>;
    update(orgId: string, id: string, patch: PrincipalPatch): Promise<Principal | undefined>;
    /** Soft delete: the row stays for the audit trail; the username becomes free again. */
    remove(orgId: string, id: string, at: Date): Promise<boolean>;
    /** Roles held directly (not through groups). */
    directRoles(orgId: string, id: string): Promise<Role[]>;
    setRoles(orgId: string, id: string, roleIds: readonly string[]): Promise<void>;
    /** Every right the principal holds, directly or through its groups. */
    effectiveRoles(orgId: string, id: string): Promise<Role[]>;
    /**
     * The active instance admins of every organization, their rows locked until the
     * transaction ends, so two requests cannot each remove one of the last two.
     */
    lockActiveInstanceAdmins(): Promise<{ id: string; orgId: string }[]>;
  };

  roles: {
    create(role: Role): Promise<Role>;
    /** Built-in roles and the organization's custom roles. */
    list(orgId: string): Promise<Role[]>;
    getByName(orgId: string, name: string): Promise<Role | undefined>;
    get(orgId: string, id: string): Promise<Role | undefined>;
    update(orgId: string, id: string, patch: { description?: string; rights?: readonly Right[] }): Promise<Role | undefined>;
    remove(orgId: string, id: string): Promise<boolean>;
    /** Ids of the organization's principals holding the role, directly or through a group. */
    holders(orgId: string, id: string): Promise<string[]>;
    /** Built-in roles are seeded by migration; this guarantees they match the code's catalog. */
    syncBuiltins(roles: readonly Role[]): Promise<void>;
  };

  groups: {
    create(group: Group): Promise<Group>;
    get(orgId: string, id: string): Promise<Group | undefined>;
    list(orgId: string, query: ListQuery): Promise<Page<Group>>;
    update(orgId: string, id: string, patch: { name?: string; description?: string }): Promise<Group | undefined>;
    remove(orgId: string, id: string): Promise<boolean>;
    members(orgId: string, id: string): Promise<Principal[]>;
    setMembers(orgId: string, id: string, principalIds: readonly string[]): Promise<void>;
    roles(orgId: string, id: string): Promise<Role[]>;
    setRoles(orgId: string, id: string, roleIds: readonly string[]): Promise<void>;
  };

  sessions: {
    create(session: Session): Promise<void>;
    get(id: string): Promise<Session | undefined>;
    touch(id: string, at: Date): Promise<void>;
    end(id: string, at: Date): Promise<void>;
    /** Ends every session of a principal (password change, disable). */
    endAllFor(principalId: string, at: Date, exceptId?: string): Promise<void>;
  };

  throttle: {
    get(key: string): Promise<ThrottleState | undefined>;
    /** Atomically counts one failure, starting a new window when the old one has passed. */
    recordFailure(key: string, now: Date, windowSeconds: number): Promise<ThrottleState>;
    clear(key: string): Promise<void>;
  };

  audit: {
    /**
     * Appends one event. A webhook event (see `webhookEventTypes`) also writes one outbox
     * message per subscribed endpoint of its organization, in the same statement.
     */
    append(event: NewAuditEvent): Promise<AuditEvent>;
    /**
     * Many events in as few statements as possible (the batched exchange and denial events).
     * An event whose `writeKey` is already stored is skipped, so a retried batch writes each once.
     */
    appendMany(events: readonly KeyedAuditEvent[]): Promise<void>;
    list(query: AuditQuery): Promise<Page<AuditEvent>>;
    /**
     * Retention: removes events older than `before`; returns how many. Whole time partitions
     * go at once, so events may outlive `before` by up to one partition's span (a day).
     */
    pruneBefore(before: Date): Promise<number>;
    /** Creates the time partitions that will hold events of `[from, until)` ahead of need; returns the names created. */
    preparePartitions(from: Date, until: Date): Promise<string[]>;
  };

  /** Per-token, per-minute counts of token-endpoint exchanges and denials (issue 17). */
  usage: {
    /**
     * Adds a batch of counts, keyed so a retry of a batch whose commit went through unanswered
     * adds nothing: false when `writeKey` was written before. Keys are kept for a day.
     */
    add(writeKey: string, counts: readonly UsageCount[]): Promise<boolean>;
    /** One token's counts in `[since, until)`, oldest minute first. */
    list(orgId: string, tokenId: string, since: Date, until: Date): Promise<UsageCount[]>;
    /** Deletes counts of minutes before `before`, and batch keys written before `keysBefore`; returns the counts deleted. */
    pruneBefore(before: Date | null, keysBefore: Date): Promise<number>;
  };

  jobs: {
    /**
     * Claims this period's run of a periodic job for the whole cluster: true for exactly one
     * caller among instances asking at once, and false for everyone until `everySeconds` have
     * passed since the claimed run.
     */
    claim(name: string, now: Date, everySeconds: number, runBy: string): Promise<boolean>;
  };

  tokens: TokenRepository;
  policies: PolicyRepository;
  presets: PresetRepository;
  savedSearches: SavedSearchRepository;
  apps: AppRepository;
  signingKeys: SigningKeyRepository;
  revocations: RevocationRepository;
  /** Appends must run inside a transaction (they hold a lock until commit). */
  revocationEvents: RevocationEventRepository;
  /** Webhook endpoints and their outbox; messages are written by `audit.append` (SPEC 9). */
  webhooks: WebhookRepository;
  /** Two-factor login (TOTP) of users. */
  secondFactors: SecondFactorRepository;
  /** Announces changes to every instance's in-memory state; through `tx`, at its commit. */
  changes: ChangePublisher;
}
