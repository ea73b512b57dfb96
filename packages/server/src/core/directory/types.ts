import type { Group, Principal, PrincipalStatus } from '../model.js';
import type { Clock, Random } from '../ports.js';
import type { Store } from '../store.js';

export interface DirectoryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly random: Random;
}

export interface PrincipalInput {
  readonly username: string;
  readonly displayName?: string | undefined;
  readonly email?: string | null | undefined;
  readonly password?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
}

export interface PrincipalChanges {
  readonly displayName?: string | undefined;
  readonly email?: string | null | undefined;
  readonly status?: PrincipalStatus | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly password?: string | undefined;
}

/** A principal with the roles it holds directly. */
export interface PrincipalView extends Principal {
  readonly roles: readonly string[];
}

export interface GroupView extends Group {
  readonly members: readonly string[];
  readonly roles: readonly string[];
}
