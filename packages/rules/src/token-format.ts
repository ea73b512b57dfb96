import { quoteInput, RuleError } from './rule-error.js';

/*
 * The token string (SPEC 3.2): `<prefix>_<id>.<secret><checksum>`, e.g.
 * `tsr_0aZ3kP9qLm2X.<32 characters><6 characters>`.
 *
 * - prefix: fixed per deployment so secret scanners can match it;
 * - id: 12 base62 characters, public, the storage lookup key;
 * - secret: 32 base62 characters from a CSPRNG, 32 × log2(62) ≈ 190 bits (SPEC asks ≥ 160);
 * - checksum: CRC-32 (IEEE) of everything before it, 6 base62 characters, so a mistyped or
 *   truncated token is refused before storage is touched. CRC-32 catches every error burst up to
 *   32 bits, hence every single-character typo and every swap of neighbouring characters.
 */

/** The prefix used when a deployment configures none. */
export const DEFAULT_TOKEN_PREFIX = 'tsr';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32
/** Twice the longest valid token: longer input is refused without reading it. */
const MAX_TOKEN_LENGTH = 200;

const PREFIX = /^[a-z][a-z0-9]{1,15}$/;
const ID = /^[0-9A-Za-z]{12}$/;
const SECRET = /^[0-9A-Za-z]{32}$/;
const TOKEN = /^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{12})\.([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;
const DISPLAYABLE = /^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{12})(?:\.|$)/;

/**
 * A source of random bytes: returns `bytes` bytes. Injected in tests; the default is
 * `globalThis.crypto.getRandomValues` (Web Crypto, in Node 20 and browsers alike).
 */
export type RandomBytes = (bytes: number) => Uint8Array;

/** What {@link parseToken} concludes: the parts, or why the string is not a token. */
export type ParseTokenResult =
  | { readonly ok: true; readonly id: string; readonly secret: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'wrong_prefix' | 'bad_checksum' };

const cryptoRandom: RandomBytes = (bytes) => globalThis.crypto.getRandomValues(new Uint8Array(bytes));

/**
 * Checks a configured token prefix: 2 to 16 characters, a lowercase ASCII letter then lowercase
 * letters or digits. No `_` or `.`: they delimit the token's parts.
 *
 * @param prefix - the prefix, e.g. `tsr`
 * @throws {@link RuleError} `INVALID_TOKEN_PREFIX`
 */
export function assertTokenPrefix(prefix: string): void {
  if (PREFIX.test(prefix)) return;
  throw new RuleError(
    'INVALID_TOKEN_PREFIX',
    `Invalid token prefix ${quoteInput(prefix)}: use 2 to 16 characters, a lowercase letter first, then lowercase letters or digits (e.g. ${DEFAULT_TOKEN_PREFIX})`,
  );
}

/**
 * Generates a new token: a fresh id and secret, formatted with their checksum. Show `token`
 * once; store `id` and a keyed hash of `secret`.
 *
 * @param prefix - the deployment's prefix, e.g. {@link DEFAULT_TOKEN_PREFIX}
 * @param random - byte source; defaults to the platform CSPRNG
 * @throws {@link RuleError} `INVALID_TOKEN_PREFIX`
 *
 * @example
 * ```ts
 * const { id, secret, token } = generateToken('tsr');
 * // token: "tsr_" + id + "." + secret + 6 checksum characters
 * ```
 */
export function generateToken(
  prefix: string,
  random: RandomBytes = cryptoRandom,
): { id: string; secret: string; token: string } {
  assertTokenPrefix(prefix);
  const id = generateTokenId(random);
  const secret = generateSecret(random);
  return { id, secret, token: formatToken(prefix, id, secret) };
}

/**
 * Generates a token id: 12 uniformly random base62 characters.
 *
 * @param random - byte source; defaults to the platform CSPRNG
 */
export function generateTokenId(random: RandomBytes = cryptoRandom): string {
  return randomBase62(ID_LENGTH, random);
}

/**
 * Generates a token secret: 32 uniformly random base62 characters (≈ 190 bits). Rotation keeps
 * the id and calls this for a new secret, then {@link formatToken}.
 *
 * @param random - byte source; defaults to the platform CSPRNG
 */
export function generateSecret(random: RandomBytes = cryptoRandom): string {
  return randomBase62(SECRET_LENGTH, random);
}

/**
 * Assembles a token string from its parts and appends the checksum.
 *
 * @param prefix - the deployment's prefix
 * @param id - 12 base62 characters, from {@link generateTokenId}
 * @param secret - 32 base62 characters, from {@link generateSecret}
 * @throws {@link RuleError} `INVALID_TOKEN_PREFIX`, or `MALFORMED_TOKEN` when the id or secret
 *   has the wrong shape (the message never repeats the secret)
 *
 * @example
 * ```ts
 * const rotated = formatToken('tsr', existingId, generateSecret());
 * ```
 */
export function formatToken(prefix: string, id: string, secret: string): string {
  assertTokenPrefix(prefix);
  if (!ID.test(id)) {
    // Neither part is echoed: a secret passed in the wrong argument must not reach a message.
    throw new RuleError('MALFORMED_TOKEN', 'Invalid token id: an id is 12 base62 characters (0-9, A-Z, a-z)');
  }
  if (!SECRET.test(secret)) {
    throw new RuleError('MALFORMED_TOKEN', 'Invalid token secret: a secret is 32 base62 characters (0-9, A-Z, a-z)');
  }
  const body = `${prefix}_${id}.${secret}`;
  return body + checksum(body);
}

/**
 * Splits a presented token into id and secret, refusing anything that is not a well-formed
 * token of this deployment. Never throws; cheap and bounded (input over 200 characters is
 * refused unread), so it can run on every request before storage is consulted. The reasons are
 * for logs and audit; clients should see one generic refusal.
 *
 * @param input - the presented token
 * @param prefix - the deployment's prefix
 * @returns `{ ok: true, id, secret }`, or `{ ok: false, reason }` where reason is `malformed`
 *   (not the token shape), `wrong_prefix` (a token of another prefix) or `bad_checksum`
 *   (mistyped or forged)
 *
 * @example
 * ```ts
 * const parsed = parseToken(bearer, 'tsr');
 * if (!parsed.ok) return deny(parsed.reason);
 * const stored = await store.findToken(parsed.id);
 * ```
 */
export function parseToken(input: string, prefix: string): ParseTokenResult {
  if (typeof input !== 'string' || input.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = TOKEN.exec(input);
  if (parts === null) return { ok: false, reason: 'malformed' };
  const [, written, id = '', secret = '', sum] = parts;
  if (written !== prefix) return { ok: false, reason: 'wrong_prefix' };
  if (checksum(input.slice(0, -CHECKSUM_LENGTH)) !== sum) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, id, secret };
}

/**
 * The public, displayable part of a token, `<prefix>_<id>`, for lists, logs and audit records.
 * Given a full token it keeps only what precedes the `.`, so the secret never leaks; given a
 * bare id it adds `prefix`.
 *
 * @param tokenOrId - a token string, a `<prefix>_<id>` string or a 12-character id
 * @param prefix - used for a bare id; default {@link DEFAULT_TOKEN_PREFIX}
 * @throws {@link RuleError} `MALFORMED_TOKEN` for anything else (without repeating the input,
 *   which might be a secret)
 *
 * @example
 * ```ts
 * tokenDisplayPrefix('tsr_0aZ3kP9qLm2X.…');  // "tsr_0aZ3kP9qLm2X"
 * tokenDisplayPrefix('0aZ3kP9qLm2X', 'acme'); // "acme_0aZ3kP9qLm2X"
 * ```
 */
export function tokenDisplayPrefix(tokenOrId: string, prefix: string = DEFAULT_TOKEN_PREFIX): string {
  const token = DISPLAYABLE.exec(tokenOrId.slice(0, MAX_TOKEN_LENGTH));
  if (token !== null) return `${token[1]}_${token[2]}`;
  if (ID.test(tokenOrId)) {
    assertTokenPrefix(prefix);
    return `${prefix}_${tokenOrId}`;
  }
  throw new RuleError(
    'MALFORMED_TOKEN',
    'Not a token or token id: expected <prefix>_<12-character id>.<secret> or a 12-character id',
  );
}

function randomBase62(length: number, random: RandomBytes): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    // With a working source, 64 rounds each missing every byte has probability < 2^-1000.
    if (round === 64) throw new Error('The random source keeps returning unusable bytes; is it broken?');
    for (const byte of random(length - out.length + 8)) {
      // Rejection sampling: 248 = 4 × 62, so byte % 62 is uniform only below 248.
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of an ASCII string, as 6 base62 digits. */
function checksum(ascii: string): string {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) {
    crc = crcTable[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  }
  let value = (crc ^ 0xffffffff) >>> 0;
  let digits = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    digits = BASE62[value % 62] + digits;
    value = Math.floor(value / 62);
  }
  return digits;
}
