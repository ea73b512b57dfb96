import { isIpAllowed, matchesEndpoint, resolveClientAddress, type IpRange } from '@tessera/rules';
import type { Checked } from './claims.js';
import type { RequestLike } from './request.js';
import type { RevocationFeed } from './revocation-feed.js';
import { refuse, type Verdict } from './verdict.js';

export interface DecisionOptions {
  readonly realm: string;
  readonly feed: RevocationFeed | undefined;
  readonly trustedProxies: readonly IpRange[];
  readonly enforceScope: boolean;
  readonly caseInsensitivePaths: boolean;
  /** The answer for a token that is revoked or refused its client address. */
  readonly notValid: () => Verdict;
  /** Drops a revoked credential from the verifier's cache. */
  readonly forget: (cacheKey: string) => void;
}

/** Revocation, client address and scope: everything after the credential itself is known good. */
export function decision(options: DecisionOptions): (request: RequestLike, cacheKey: string, checked: Checked) => Verdict {
  const { realm, feed, trustedProxies, notValid } = options;
  const matchOptions = { caseInsensitive: options.caseInsensitivePaths };
  return (request, cacheKey, checked) => {
    if (feed?.isRevoked(checked.revocationClaims)) {
      options.forget(cacheKey);
      return notValid();
    }
    // The client address is resolved only when an allowlist needs it.
    if (checked.allowlist.length > 0) {
      const clientIp = resolveClientAddress(request.remoteAddress ?? '', request.header('x-forwarded-for'), trustedProxies);
      if (!isIpAllowed(checked.allowlist, clientIp)) return notValid();
    }
    if (options.enforceScope && checked.endpoints !== null) {
      let byUrl = checked.decisions.get(request.method);
      if (byUrl === undefined) checked.decisions.set(request.method, (byUrl = new Map()));
      let allowed = byUrl.get(request.url);
      if (allowed === undefined) {
        allowed = matchesEndpoint(checked.endpoints, request.method, request.url, matchOptions);
        // Bounded: a client walking many distinct URLs with one token must not grow memory.
        if (byUrl.size < 256 && checked.decisions.size < 16) byUrl.set(request.url, allowed);
      }
      if (!allowed) return refuse(realm, 403, 'insufficient_scope', `The token's scope does not include ${request.method} ${request.url.split('?')[0]}`);
    }
    return checked.success;
  };
}
