/** RFC 6749 §5.2 error codes (and RFC 7009's unsupported_token_type). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'slow_down';

/**
 * A refusal at an OAuth endpoint, answered as an RFC 6749 §5.2 error body by the error mapper.
 * Every invalid_client is answered 401 with WWW-Authenticate, so `basic` no longer changes the
 * answer; it stays for callers that mark a client that tried HTTP Basic. The description must
 * name parameters, never quote their values (the mapper also reduces it to the §5.2 charset).
 */
export class OAuthError extends Error {
  readonly basic: boolean;
  readonly retryAfter: number | undefined;
  /** Overrides the status the mapper would choose (introspection refuses every unauthenticated caller with 401). */
  readonly status: number | undefined;
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    options: { basic?: boolean; retryAfter?: number; status?: number } = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.basic = options.basic ?? false;
    this.retryAfter = options.retryAfter;
    this.status = options.status;
  }
}
