/**
 * @tessera/rules: the rules every part of Tessera agrees on, written once. Token format and
 * checksum, expiry input, scope patterns and path normalisation, IP allowlist entries and
 * matching, client-address resolution. No dependencies; runs in Node and the browser.
 *
 * @packageDocumentation
 */
export { isRuleError, RuleError, type RuleErrorCode } from './rule-error.js';
export {
  EXPIRY_INPUT_PATTERN,
  formatDuration,
  parseRelativeExpiry,
  RELATIVE_DURATION_PATTERN,
  resolveExpiry,
  type ResolveExpiryOptions,
} from './expiry.js';
export {
  ENDPOINT_PATTERN_LIMITS,
  ENDPOINT_PATTERN_SHAPE,
  formatEndpointPattern,
  matchesEndpoint,
  normalizePath,
  parseEndpointPattern,
  parseEndpointPatterns,
  type EndpointPattern,
  type MatchOptions,
} from './scope.js';
export {
  IP_ALLOWLIST_LIMITS,
  IP_ENTRY_SHAPE,
  isIpAllowed,
  parseIpAddress,
  parseIpAllowlist,
  parseIpEntry,
  resolveClientAddress,
  type IpAddress,
  type IpRange,
} from './ip-allowlist.js';
export {
  assertTokenPrefix,
  DEFAULT_TOKEN_PREFIX,
  formatToken,
  generateSecret,
  generateToken,
  generateTokenId,
  parseToken,
  tokenDisplayPrefix,
  type ParseTokenResult,
  type RandomBytes,
} from './token-format.js';
export {
  describeTextProblem,
  findJsonTextProblem,
  findTextProblem,
  textKindOf,
  type TextKind,
  type TextProblem,
} from './text.js';
