import type { App, AuditEvent, Group, NewApp, NewAuditEvent, Org, Page, Principal, PrincipalKind, PrincipalStatus, Role, Session } from './model.js';
import type { SigningKeyRepository } from './keyring.js';
import type { RevocationEventRepository, RevocationRepository } from './revocations.js';
import type { Right } from './rights.js';

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

export interface NewPrincipal {
  readonly id: string;
  readonly orgId: string;
  readonly kind: PrincipalKind;
  readonly username: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly passwordHash: string | null;
  readonly instanceAdmin: boolean;
  readonly ipAllowlist: readonly string[];
  readonly createdAt: Date;
}

export interface AuditQuery extends ListQuery {
  readonly orgId: string;
  readonly action?: string | undefined;
  readonly actorPrincipalId?: string | undefined;
  readonly targetId?: string | undefined;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
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
  };

  roles: {
    create(role: Role): Promise<Role>;
    /** Built-in roles and the organization's custom roles. */
    list(orgId: string): Promise<Role[]>;
    getByName(orgId: string, name: string): Promise<Role | undefined>;
    get(orgId: string, id: string): Promise<Role | undefined>;
    update(orgId: string, id: string, patch: { description?: string; rights?: readonly Right[] }): Promise<Role | undefined>;
    remove(orgId: string, id: string): Promise<boolean>;
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
    append(event: NewAuditEvent): Promise<AuditEvent>;
    list(query: AuditQuery): Promise<Page<AuditEvent>>;
  };

  apps: AppRepository;
  signingKeys: SigningKeyRepository;
  revocations: RevocationRepository;
  /** Appends must run inside a transaction (they hold a lock until commit). */
  revocationEvents: RevocationEventRepository;
}
