/**
 * The console's only way to the server: the REST API under /api/v1 with the session cookie
 * (HttpOnly, SameSite=Strict, set by POST /api/v1/sessions). Every state-changing call carries
 * `x-tessera-csrf: 1`, without which the server refuses cookie-authenticated changes.
 */

import { TesseraApiError, type Problem } from '@tessera/client';

// The wire types are @tessera/client's, generated from /openapi.json: the console declares none.
export type { App, AuditEvent, Me, Policy, Preset, Principal, Problem, Role, SavedSearch, Token, TokenStatus, WebhookDelivery, WebhookEndpoint } from '@tessera/client';
export type { TokenWithSecret as CreatedToken } from '@tessera/client';

/** A refusal the server answered with; `problem` says why. */
export const ApiError = TesseraApiError;
export type ApiError = TesseraApiError;

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

/** The events a webhook endpoint may subscribe to (SPEC 9). */
export const webhookEvents = ['token.created', 'token.updated', 'token.rotated', 'token.revoked', 'token.expiring', 'token.expired', 'token.idle', 'token.leaked'] as const;
