import type { FastifyRequest } from 'fastify';

/**
 * HTTP Basic credentials (RFC 7617), decoded once per request: the edge holds them to the text
 * rule (input-guard.ts) and client authentication (oauth/client-auth.ts) uses them.
 */
export interface BasicCredentials {
  /** Whether the base64 decodes to valid UTF-8 (RFC 7617 §2.1); when not, `text` has U+FFFD in its place. */
  readonly utf8: boolean;
  /** The decoded `client_id:client_secret`. */
  readonly text: string;
  /** Where the first colon is, -1 when there is none. */
  readonly colon: number;
  /** The part before the colon (all of `text` without one), form-decoded (RFC 6749 §2.3.1); null when it is not form-encoded. */
  readonly clientId: string | null;
  /** The part after the colon, form-decoded; null when there is no colon or it is not form-encoded. */
  readonly clientSecret: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const decodedFor = new WeakMap<object, { readonly header: string; readonly credentials: BasicCredentials }>();

export const isBasic = (header: string | undefined): header is string => header !== undefined && /^basic(\s|$)/i.test(header);

function formDecode(raw: string): string | null {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function decode(header: string): BasicCredentials {
  const bytes = Buffer.from(header.slice(6).trim(), 'base64');
  let text: string;
  let valid = true;
  try {
    text = utf8.decode(bytes);
  } catch {
    valid = false;
    text = bytes.toString('utf8');
  }
  const colon = text.indexOf(':');
  return {
    utf8: valid,
    text,
    colon,
    clientId: formDecode(colon < 0 ? text : text.slice(0, colon)),
    clientSecret: colon < 0 ? null : formDecode(text.slice(colon + 1)),
  };
}

/** The request's HTTP Basic credentials from `header` (its Authorization header, a Basic one). */
export function basicCredentials(request: FastifyRequest, header: string): BasicCredentials {
  const known = decodedFor.get(request.raw);
  if (known !== undefined && known.header === header) return known.credentials;
  const credentials = decode(header);
  decodedFor.set(request.raw, { header, credentials });
  return credentials;
}
