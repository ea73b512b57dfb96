import type { TokenStatus } from '../model.js';
import type { TokenSortColumn, TokenView } from '../store.js';

// The inputs and outputs of the token use cases.

export interface TokenInput {
  readonly name?: string | undefined;
  /** Username or id of the owner; default the caller. */
  readonly owner?: string | undefined;
  /** Relative (`180D`) or ISO 8601; `null` for no expiry (where policy allows); absent for the default. */
  readonly expires?: string | null | undefined;
  readonly scope: { readonly kind: string; readonly endpoints?: readonly string[] | undefined };
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly roles?: readonly string[] | undefined;
}

export interface TokenChanges {
  readonly name?: string | undefined;
  readonly expires?: string | null | undefined;
  readonly scope?: { readonly kind: string; readonly endpoints?: readonly string[] | undefined } | undefined;
  readonly ipAllowlist?: readonly string[] | undefined;
  readonly roles?: readonly string[] | undefined;
}

/** A token as callers see it: metadata, computed status, display prefix. Never the secret. */
export interface TokenDetails extends TokenView {
  readonly status: TokenStatus;
  readonly displayPrefix: string;
}

export interface TokenListFilters {
  readonly all: boolean;
  readonly owner?: string | undefined;
  readonly status?: TokenStatus | undefined;
  readonly kind?: string | undefined;
  readonly q?: string | undefined;
  readonly usage?: 'never_used' | undefined;
  readonly unusedDays?: number | undefined;
  readonly usedSince?: Date | undefined;
  readonly sort: TokenSortColumn;
  readonly descending: boolean;
  readonly limit: number;
  readonly cursor?: string | undefined;
}
