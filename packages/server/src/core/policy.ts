import { formatDuration } from '@tessera/rules';
import { invalid } from './errors.js';
import { checkIpAllowlist } from './allowlist.js';

/** Per-organization limits and defaults (SPEC 4). Durations are in seconds; null means "none". */
export interface Policy {
  /** Lifetime of access tokens minted from API tokens and for apps without their own. */
  readonly accessTokenTtlSeconds: number;
  /**
   * How long a refreshable token stays renewable when its creator names no expiry; null: "none",
   * tokens do not expire unless an expiry is given (the seeds' CLI and Cloud Director). Allowed
   * only where tokens without expiry are, or where a maximum then becomes the default.
   */
  readonly renewablePeriodSeconds: number | null;
  /** Longest lifetime a token may be given; null: no maximum. */
  readonly maxTokenLifetimeSeconds: number | null;
  /** Lifetime of a direct token when its creator names none; null: the renewable period (so "none" when that is). */
  readonly defaultTokenLifetimeSeconds: number | null;
  /** Users' password expiry; when set and no maximum is, also the default and maximum token lifetime (the seeds' CLI rule). */
  readonly passwordExpirySeconds: number | null;
  /** A token unused this long becomes idle and stops working; null: never. */
  readonly idleTimeoutSeconds: number | null;
  readonly maxTokensPerUser: number;
  readonly maxTokensPerServiceAccount: number;
  readonly allowNoExpiry: boolean;
  readonly allowDirectTokens: boolean;
  /** Each refresh returns a new secret and the old one stops working (RFC 9700 §4.14.2). */
  readonly refreshTokenRotation: boolean;
  /** Every token of the organization is usable only from these addresses; empty: any. */
  readonly ipAllowlist: readonly string[];
  /** Users log in with a TOTP code as well as their password (the Cloud Director seed); token exchanges never ask for one. */
  readonly requireSecondFactor: boolean;
}

/** Longest access-token lifetime a policy or an app may set: 30 days (SPEC 4). */
export const maxAccessTokenTtlSeconds = 30 * 86_400;

/** Documented defaults: each is what a careful operator would pick before thinking about it. */
export const defaultPolicy: Policy = {
  accessTokenTtlSeconds: 1800,
  renewablePeriodSeconds: 90 * 86_400,
  maxTokenLifetimeSeconds: null,
  defaultTokenLifetimeSeconds: null,
  passwordExpirySeconds: null,
  idleTimeoutSeconds: null,
  maxTokensPerUser: 5,
  maxTokensPerServiceAccount: 20,
  // Tokens that never expire are the ones found years later in a leaked repository.
  allowNoExpiry: false,
  allowDirectTokens: true,
  refreshTokenRotation: false,
  ipAllowlist: [],
  requireSecondFactor: false,
};

/** The maximum lifetime in force: the explicit maximum, else the password expiry. */
export function maxLifetime(policy: Policy): number | null {
  return policy.maxTokenLifetimeSeconds ?? policy.passwordExpirySeconds;
}

/**
 * Default lifetime of a token of the given mode when the creator names none; null: no expiry.
 * A maximum in force caps the default and stands in for a "none" default: the seeds' CLI makes
 * the password expiry both the default and the maximum, and without one tokens do not expire.
 */
export function defaultLifetime(policy: Policy, mode: 'refreshable' | 'direct', presetDefault: number | null): number | null {
  const wanted =
    mode === 'refreshable'
      ? policy.renewablePeriodSeconds
      : (presetDefault ?? policy.defaultTokenLifetimeSeconds ?? policy.passwordExpirySeconds ?? policy.renewablePeriodSeconds);
  const max = maxLifetime(policy);
  if (wanted === null) return max;
  return max === null ? wanted : Math.min(wanted, max);
}

/** Each duration of a policy with its accepted range in seconds; checkPolicy enforces them, the API documents them. */
export const policyDurationRanges = [
  // 30 days: the Cloud Director seed answers expires_in 2592000. The signing-key retention
  // window in app/container.ts follows this maximum.
  ['accessTokenTtlSeconds', 60, maxAccessTokenTtlSeconds],
  ['renewablePeriodSeconds', 60, 100 * 365 * 86_400],
  ['maxTokenLifetimeSeconds', 60, 100 * 365 * 86_400],
  ['defaultTokenLifetimeSeconds', 60, 100 * 365 * 86_400],
  ['passwordExpirySeconds', 86_400, 10 * 365 * 86_400],
  ['idleTimeoutSeconds', 60, 10 * 365 * 86_400],
] as const;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Validates a whole policy; errors name the wire field and the accepted range. */
export function checkPolicy(policy: Policy): Policy {
  for (const [field, min, max] of policyDurationRanges) {
    const value = policy[field];
    if (value === null && field !== 'accessTokenTtlSeconds') continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalid(`/${snake(field)}`, `${snake(field)} must be a whole number of seconds from ${min} (${formatDuration(min)}) to ${max} (${formatDuration(max)})`);
    }
  }
  const maximum = maxLifetime(policy);
  if (policy.renewablePeriodSeconds === null && maximum === null && !policy.allowNoExpiry) {
    throw invalid('/renewable_period_seconds', 'A renewable period of "none" makes tokens never expire by default; allow tokens without expiry (allow_no_expiry) first, or give a period such as 90D');
  }
  if (maximum !== null && policy.defaultTokenLifetimeSeconds !== null && policy.defaultTokenLifetimeSeconds > maximum) {
    throw invalid('/default_token_lifetime_seconds', `The default token lifetime cannot exceed the maximum of ${formatDuration(maximum)}`);
  }
  for (const field of ['maxTokensPerUser', 'maxTokensPerServiceAccount'] as const) {
    if (!Number.isInteger(policy[field]) || policy[field] < 1 || policy[field] > 10_000) {
      throw invalid(`/${snake(field)}`, `${snake(field)} must be a whole number from 1 to 10000`);
    }
  }
  checkIpAllowlist(policy.ipAllowlist, '/ip_allowlist');
  return policy;
}
