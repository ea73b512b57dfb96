import { parseEndpointPatterns, type EndpointPattern } from '@tessera/rules';
import { OAuthError } from '../oauth-errors.js';

/**
 * Parses the optional `scope` parameter (RFC 6749 §3.3): space-delimited endpoint patterns,
 * written `METHOD:/path` or `/path` (the space of `GET /path` is the delimiter here).
 */
export function parseRequestedScope(scope: string): EndpointPattern[] {
  const lines = scope.split(' ').filter(Boolean).map((item) => item.replace(/^([A-Z,]+):\//, '$1 /'));
  try {
    return parseEndpointPatterns(lines);
  } catch {
    // The rule's message quotes the pattern; an error body never echoes client input (RFC 6749 §5.2 charset, and no reflection).
    throw new OAuthError('invalid_scope', 'The scope parameter is not valid: send space-separated endpoint patterns such as GET:/plans or /plans/*');
  }
}

/** Whether every request `inner` admits is also admitted by one pattern of `outer`. */
export function within(inner: EndpointPattern, outer: readonly EndpointPattern[] | null): boolean {
  if (outer === null) return true;
  return outer.some((pattern) => {
    const methodsOk = pattern.methods === null || (inner.methods !== null && inner.methods.every((m) => pattern.methods?.includes(m)));
    if (!methodsOk) return false;
    if (pattern.prefix) return inner.path.startsWith(pattern.path);
    const base = pattern.path.endsWith('/') ? pattern.path : `${pattern.path}/`;
    // A segment-bounded pattern covers its own path and everything below it, but not `/plansx`.
    if (inner.prefix) return inner.path.startsWith(base);
    return inner.path === pattern.path || inner.path.startsWith(base);
  });
}

export const formatScope = (kind: string, endpoints: readonly string[]) =>
  kind === 'all' ? 'all' : endpoints.map((e) => e.replace(/^([A-Z,]+) \//, '$1:/')).join(' ');
