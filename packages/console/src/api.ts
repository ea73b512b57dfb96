/**
 * The console's only way to the server: the REST API under /api/v1 with the session cookie
 * (HttpOnly, SameSite=Strict, set by POST /api/v1/sessions). Every state-changing call carries
 * `x-tessera-csrf: 1`, without which the server refuses cookie-authenticated changes.
 */

/** An RFC 9457 problem as the server writes it; `field` names the input at fault. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code?: string;
  readonly field?: string;
  readonly errors?: readonly { field: string; message: string }[];
  readonly request_id?: string;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
    this.name = 'ApiError';
  }
  get status(): number {
    return this.problem.status;
  }
}

/** Any thrown value as a problem to show: API refusals as they are, anything else in words. */
export function problemOf(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return { title: 'Error', status: 0, detail: error instanceof Error ? error.message : String(error) };
}

const unsafe = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let onUnauthenticated: (() => void) | undefined;

/** Called when the server answers 401 to anything but a login: the session is gone. */
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (unsafe.has(method)) headers['x-tessera-csrf'] = '1';
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError({ title: 'Network error', status: 0, detail: 'Cannot reach the Tessera server. Check that it is running and that this computer is online, then try again.' });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem =
      parsed && typeof parsed === 'object' && typeof (parsed as Problem).detail === 'string'
        ? (parsed as Problem)
        : { title: response.statusText || 'Error', status: response.status, detail: `The server answered ${response.status} ${response.statusText}. Try again; if it persists, check the server's logs.` };
    if (response.status === 401 && path !== '/sessions') onUnauthenticated?.();
    throw new ApiError(problem);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  delete: (path: string) => request<void>('DELETE', path),
};

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

export interface Principal {
  readonly id: string;
  readonly kind: 'user' | 'service_account';
  readonly username: string;
  readonly display_name: string;
  readonly email: string | null;
  readonly status: 'active' | 'disabled';
  readonly instance_admin: boolean;
  readonly roles: string[];
  readonly ip_allowlist: string[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly password_changed_at: string | null;
  readonly org_id: string;
}

export interface Me {
  readonly principal: Principal;
  readonly rights: string[];
  readonly effective_roles: string[];
  readonly auth_method: 'pwd' | 'token' | 'client';
  readonly token_id: string | null;
}

export type TokenStatus = 'active' | 'expired' | 'idle' | 'revoked';

export interface Token {
  readonly id: string;
  readonly name: string;
  readonly display_prefix: string;
  readonly owner_id: string;
  readonly owner: string;
  readonly created_by: string;
  readonly mode: 'refreshable' | 'direct';
  readonly scope: { kind: string; endpoints: string[] };
  readonly roles: string[];
  readonly ip_allowlist: string[];
  readonly expires_at: string | null;
  readonly status: TokenStatus;
  readonly last_used_at: string | null;
  readonly last_used_ip: string | null;
  /** The last 5 distinct client addresses, newest first. */
  readonly recent_ips?: readonly { ip: string; last_seen_at: string }[];
  readonly revoked_at: string | null;
  readonly revoked_by: string | null;
  readonly revoke_reason: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface CreatedToken extends Token {
  readonly token: string;
  readonly access_token?: string;
  readonly expires_in?: number;
}

export interface Preset {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly endpoints: string[];
  readonly mode: 'refreshable' | 'direct';
  readonly scope_locked: boolean;
  readonly default_lifetime_seconds: number | null;
  readonly source: 'config' | 'organization';
}

export interface Policy {
  access_token_ttl_seconds: number;
  renewable_period_seconds: number | null;
  max_token_lifetime_seconds: number | null;
  default_token_lifetime_seconds: number | null;
  password_expiry_seconds: number | null;
  idle_timeout_seconds: number | null;
  max_tokens_per_user: number;
  max_tokens_per_service_account: number;
  allow_no_expiry: boolean;
  allow_direct_tokens: boolean;
  refresh_token_rotation: boolean;
  ip_allowlist: string[];
}

export interface Role {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly rights: string[];
  readonly builtin: boolean;
}

export interface App {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly client_id: string;
  readonly roles: string[];
  readonly access_token_ttl_seconds: number | null;
  readonly can_introspect: boolean;
  readonly created_by: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly secret_rotated_at: string;
}

/** The events a webhook endpoint may subscribe to (SPEC 9). */
export const webhookEvents = ['token.created', 'token.updated', 'token.rotated', 'token.revoked', 'token.expiring', 'token.expired', 'token.idle', 'token.leaked'] as const;

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly events: string[];
  readonly enabled: boolean;
  readonly created_by: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly event_type: string;
  readonly created_at: string;
  readonly status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  readonly attempts: number;
  readonly next_attempt_at: string | null;
  readonly last_attempt_at: string | null;
  readonly last_status_code: number | null;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
}

export interface SavedSearch {
  readonly id: string;
  readonly name: string;
  readonly owner_id: string;
  readonly query: Record<string, string>;
  readonly shared: boolean;
  readonly created_at: string;
}

export interface AuditEvent {
  readonly id: string;
  readonly occurred_at: string;
  readonly action: string;
  readonly outcome: string;
  readonly actor_principal_id: string | null;
  readonly actor_token_id: string | null;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly client_ip: string | null;
  readonly user_agent: string | null;
  readonly request_id: string | null;
  readonly details: Record<string, unknown>;
}

/** GET /me/second-factor: whether one's TOTP login factor is on (or an enrolment is pending). */
export interface SecondFactorStatus {
  readonly enabled: boolean;
  readonly pending: boolean;
  readonly recovery_codes_left: number;
}

/** A TOTP enrolment (POST /me/second-factor or /sessions/second-factor): the seed and its otpauth:// URI. */
export interface SecondFactorEnrolment {
  readonly secret: string;
  readonly otpauth_uri: string;
}
