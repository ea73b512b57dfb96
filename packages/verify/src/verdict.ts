/**
 * What a verified request may do, exposed to the handler (`verdict.auth`, `request.auth` with
 * Fastify, `res.locals.auth` with Express, `c.get('auth')` with Hono).
 *
 * @example
 * ```ts
 * app.get('/plans', async (request) => {
 *   const auth: Auth = request.auth;   // { sub, org, roles, tokenId, scope, amr, expiresAt }
 *   if (!auth.roles.includes('admin')) return listPlansOf(auth.org, auth.sub);
 *   return listAllPlans(auth.org);
 * });
 * ```
 */
export interface Auth {
  /** The principal (user or service account id) or, for apps, the client id. */
  readonly sub: string;
  readonly org: string;
  readonly roles: readonly string[];
  /** The API token the access token was minted from; null for app tokens. */
  readonly tokenId: string | null;
  /** Scope kind (`all`, `custom` or a preset name) and, unless `all`, its endpoint patterns. */
  readonly scope: { readonly kind: string; readonly endpoints: readonly string[] };
  /** How the subject authenticated: `token`, `pwd` or `client`. */
  readonly amr: readonly string[];
  /** Seconds since the epoch when the credential stops being valid, if it does. */
  readonly expiresAt: number | null;
}

/**
 * RFC 6750 §3.1 error codes (`invalid_request` 400, `invalid_token` 401, `insufficient_scope`
 * 403), plus `temporarily_unavailable` (503) when revocation state is too old to trust or
 * Tessera cannot be reached for introspection.
 *
 * @example
 * ```ts
 * if (!verdict.ok && verdict.error === 'insufficient_scope') metrics.scopeDenials.inc();
 * ```
 */
export type VerifyError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/**
 * The result of verifying a request. Expected refusals are values, not exceptions.
 * `wwwAuthenticate` is the header an adapter sends with 401 and 403 (RFC 6750 §3).
 *
 * @example
 * ```ts
 * const verdict = await verifier.verify(fromNodeRequest(req));
 * if (verdict.ok) {
 *   handle(req, res, verdict.auth);
 * } else {
 *   // e.g. { status: 401, error: 'invalid_token', description: 'The access token is not valid',
 *   //        wwwAuthenticate: 'Bearer realm="api", error="invalid_token", error_description="..."' }
 *   sendRefusal(res, verdict);
 * }
 * ```
 */
export type Verdict =
  | { readonly ok: true; readonly auth: Auth }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 403 | 503;
      /** Absent when the request simply carried no credentials (RFC 6750 §3.1). */
      readonly error: VerifyError | undefined;
      readonly description: string;
      readonly wwwAuthenticate: string | undefined;
    };

const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * Builds a refusal with its RFC 6750 WWW-Authenticate header (sent with 401 and 403 only; no
 * error code when `error` is undefined, as for a request without credentials).
 *
 * @param realm - the realm named in the header, as in {@link VerifierOptions.realm}
 * @example
 * ```ts
 * // Refuse with the SDK's own shape when your handler finds a rule of its own broken.
 * if (!auth.roles.includes('billing')) return sendRefusal(res, refuse('api', 403, 'insufficient_scope', 'Needs the billing role'));
 * ```
 */
export function refuse(realm: string, status: 400 | 401 | 403 | 503, error: VerifyError | undefined, description: string): Verdict {
  const parts = [`Bearer realm=${quote(realm)}`];
  if (error && error !== 'temporarily_unavailable') parts.push(`error=${quote(error)}`, `error_description=${quote(description)}`);
  return { ok: false, status, error, description, wwwAuthenticate: status === 401 || status === 403 ? parts.join(', ') : undefined };
}

/**
 * The JSON body adapters send with a refusal: `{ error, error_description }`, with `error`
 * `unauthorized` when the request carried no credentials.
 *
 * @example
 * ```ts
 * if (!verdict.ok) return reply.code(verdict.status).send(refusalBody(verdict));
 * // → { "error": "invalid_token", "error_description": "The access token is not valid" }
 * ```
 */
export function refusalBody(verdict: Extract<Verdict, { ok: false }>): { error: string; error_description: string } {
  return { error: verdict.error ?? 'unauthorized', error_description: verdict.description };
}
