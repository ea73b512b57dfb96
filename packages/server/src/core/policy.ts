import { formatDuration } from '@tessera/rules';
import { invalid } from './errors.js';
import { checkIpAllowlist } from './allowlist.js';

/** Per-organization limits and defaults (SPEC 4). Durations are in seconds; null means "none". */
export interface Policy {
  /** Lifetime of access tokens minted from API tokens and for apps without their own. */
  readonly accessTokenTtlSeconds: number;
  /** How long a refreshable token stays renewable when its creator names no expiry. */
  readonly renewablePeriodSeconds: number;
  /** Longest lifetime a token may be given; null: no maximum. */
  readonly maxTokenLifetimeSeconds: number | null;
  /** Lifetime of a direct token when its creator names none; null: the renewable period. */
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
}

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
};

/** The maximum lifetime in force: the explicit maximum, else the password expiry. */
export function maxLifetime(policy: Policy): number | null {
  return policy.maxTokenLifetimeSeconds ?? policy.passwordExpirySeconds;
}

/** Default lifetime of a token of the given mode when the creator names none. */
export function defaultLifetime(policy: Policy, mode: 'refreshable' | 'direct', presetDefault: number | null): number {
  const wanted =
    mode === 'refreshable'
      ? policy.renewablePeriodSeconds
      : (presetDefault ?? policy.defaultTokenLifetimeSeconds ?? policy.passwordExpirySeconds ?? policy.renewablePeriodSeconds);
  const max = maxLifetime(policy);
  return max === null ? wanted : Math.min(wanted, max);
}

const durationFields = [
  ['accessTokenTtlSeconds', 60, 86_400],
  ['renewablePeriodSeconds', 60, 100 * 365 * 86_400],
  ['maxTokenLifetimeSeconds', 60, 100 * 365 * 86_400],
  ['defaultTokenLifetimeSeconds', 60, 100 * 365 * 86_400],
  ['passwordExpirySeconds', 86_400, 10 * 365 * 86_400],
  ['idleTimeoutSeconds', 60, 10 * 365 * 86_400],
] as const;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Validates a whole policy; errors name the wire field and the accepted range. */
export function checkPolicy(policy: Policy): Policy {
  for (const [field, min, max] of durationFields) {
    const value = policy[field];
    if (value === null && field !== 'accessTokenTtlSeconds' && field !== 'renewablePeriodSeconds') continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalid(`/${snake(field)}`, `${snake(field)} must be a whole number of seconds from ${min} (${formatDuration(min)}) to ${max} (${formatDuration(max)})`);
    }
  }
  const maximum = maxLifetime(policy);
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
