import { quoteInput, RuleError } from './rule-error.js';

/**
 * One endpoint pattern of a custom scope (SPEC 3.5), as written `[METHODS ]PATH[*]`:
 * `/plans`, `GET /clients`, `GET,POST /clients`, `/reports/*`.
 */
export type EndpointPattern = {
  /** Allowed methods, upper case, in the order written; `null` allows every method. */
  readonly methods: readonly string[] | null;
  /** The path, starting with `/`, without the trailing `*`. */
  readonly path: string;
  /** Whether the pattern ended in `*`: `path` is then a plain string prefix. */
  readonly prefix: boolean;
};

/** Options of {@link matchesEndpoint}. */
export interface MatchOptions {
  /** Compare paths ignoring case (a deployment setting, SPEC 3.5). Default `false`. */
  readonly caseInsensitive?: boolean;
}

/** Methods a pattern may name. Upper case only: RFC 9110 §9.1, method names are case-sensitive. */
const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const METHOD_LIST = 'GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS';

/** Longest pattern line accepted, in characters. */
const MAX_PATTERN_LENGTH = 1024;
/** Most patterns one scope may hold. */
const MAX_PATTERNS = 100;

const EDGE_SPACE = /^[ \t]+|[ \t]+$/g;

const METHOD_ALTERNATIVES = `(?:${HTTP_METHODS.join('|')})`;

/**
 * The shape of one endpoint pattern as a JSON Schema `pattern` (ECMA-262), for API documents:
 * optional upper-case methods joined by commas, then a path from `/` with no space, control,
 * `?`, `#`, `\\` or `%`, a `*` only at its end; blank entries are skipped. Every pattern
 * {@link parseEndpointPatterns} accepts matches it; `//`, `.` and `..` segments are its checks.
 */
export const ENDPOINT_PATTERN_SHAPE =
  `^(?:[ \\t]*|[ \\t]*(?:${METHOD_ALTERNATIVES}(?:,${METHOD_ALTERNATIVES})*[ \\t]+)?/[^ \\t?#\\\\%*\\u0000-\\u001f\\u007f]*\\*?[ \\t]*)$`;

/** Longest endpoint pattern and most patterns per scope, for API documents. */
export const ENDPOINT_PATTERN_LIMITS = { maxLength: MAX_PATTERN_LENGTH, maxItems: MAX_PATTERNS } as const;

/**
 * Parses one endpoint pattern. Surrounding spaces are ignored. The syntax is an optional
 * comma-separated list of upper-case methods (no spaces inside the list), spaces, then a path
 * that starts with `/`; a `*` may end the path and makes it a prefix (`/plan*` matches
 * `/planner`). Paths are written as they are routed: no query, no percent-encoding, no `.` or
 * `..` segments, no repeated slashes.
 *
 * @param line - one pattern, e.g. `GET,POST /clients`
 * @throws {@link RuleError} `INVALID_ENDPOINT_PATTERN`, saying how to write it
 *
 * @example
 * ```ts
 * parseEndpointPattern('GET /clients'); // { methods: ['GET'], path: '/clients', prefix: false }
 * parseEndpointPattern('/reports/*');   // { methods: null, path: '/reports/', prefix: true }
 * ```
 */
export function parseEndpointPattern(line: string): EndpointPattern {
  const read = readPattern(line);
  if (typeof read !== 'string') return read;
  throw new RuleError('INVALID_ENDPOINT_PATTERN', `Invalid endpoint pattern ${quoteInput(line)}: ${read}`);
}

/**
 * Parses the endpoint list of a custom scope: one pattern per line (LF, CRLF or CR) or one per
 * array item. Blank lines are ignored. At most 100 patterns of at most 1024 characters each.
 *
 * @param input - the textarea contents, or the patterns as an array
 * @throws {@link RuleError} `INVALID_ENDPOINT_PATTERN` naming the line (or item) number,
 *   `TOO_MANY_ENDPOINT_PATTERNS` naming the limit
 *
 * @example
 * ```ts
 * parseEndpointPatterns('/plans\r\nGET /clients\n\n/reports/*'); // 3 patterns
 * ```
 */
export function parseEndpointPatterns(input: string | readonly string[]): EndpointPattern[] {
  const fromText = typeof input === 'string';
  const lines = fromText ? input.split(/\r\n|\r|\n/) : input;
  const filled = lines.filter((line) => line.replace(EDGE_SPACE, '') !== '').length;
  if (filled > MAX_PATTERNS) {
    throw new RuleError(
      'TOO_MANY_ENDPOINT_PATTERNS',
      `The scope has ${filled} endpoint patterns; the limit is ${MAX_PATTERNS}. Cover several endpoints with one pattern, e.g. /reports/* or a shared path prefix such as /reports`,
    );
  }
  const patterns: EndpointPattern[] = [];
  lines.forEach((line, index) => {
    if (line.replace(EDGE_SPACE, '') === '') return;
    const read = readPattern(line);
    if (typeof read === 'string') {
      const where = fromText ? `on line ${index + 1}` : `at position ${index + 1}`;
      throw new RuleError(
        'INVALID_ENDPOINT_PATTERN',
        `Invalid endpoint pattern ${where}, ${quoteInput(line)}: ${read}`,
      );
    }
    patterns.push(read);
  });
  return patterns;
}

/**
 * Writes a pattern back in the syntax {@link parseEndpointPattern} reads; the two round-trip.
 *
 * @param pattern - a parsed pattern
 *
 * @example
 * ```ts
 * formatEndpointPattern({ methods: ['GET', 'POST'], path: '/reports/', prefix: true }); // "GET,POST /reports/*"
 * ```
 */
export function formatEndpointPattern(pattern: EndpointPattern): string {
  const methods = pattern.methods === null ? '' : `${pattern.methods.join(',')} `;
  return `${methods}${pattern.path}${pattern.prefix ? '*' : ''}`;
}

/**
 * Normalises a request path for matching (SPEC 3.5): drops the query and fragment,
 * percent-decodes each segment once, resolves `.` and `..` (RFC 3986 §5.2.4) and collapses
 * repeated slashes. A trailing slash is kept (`/plans/` stays `/plans/`, still below `/plans`).
 *
 * Returns `null`, which matches no pattern, when servers could disagree about what the path
 * names, so a scope can never be widened by writing a path in a way the API server reads
 * differently:
 * - not origin-form (does not start with `/`);
 * - invalid percent-encoding or UTF-8;
 * - `..` climbing above the root (RFC 3986 would clamp it; a request that tries is refused);
 * - `..` removing an empty segment (`/a//../b`: `/a/b` by RFC 3986, `/b` after nginx merges
 *   slashes);
 * - an encoded `/` (`%2F`), any `\` (WHATWG URL parsers read it as `/`), control characters;
 * - a segment that is still an encoded dot or separator after one decoding (`%252e`), for
 *   servers that decode twice;
 * - `.;` / `..;` segments, which servlet containers treat as `.` / `..`.
 *
 * @param rawPath - the request target as received, e.g. `/plans/7?x=1`
 * @returns the normalised path, or `null`
 *
 * @example
 * ```ts
 * normalizePath('//plans/./7?x=1');   // "/plans/7"
 * normalizePath('/plans/%2e%2e/admin'); // "/admin"
 * normalizePath('/../admin');         // null
 * ```
 */
export function normalizePath(rawPath: string): string | null {
  if (!rawPath.startsWith('/')) return null;
  const end = rawPath.search(/[?#]/);
  const segments = (end === -1 ? rawPath : rawPath.slice(0, end)).slice(1).split('/');

  // RFC 3986 §5.2.4 on segments, keeping empty ones so an ambiguous `..` can be seen.
  const stack: string[] = [];
  let segment = '';
  for (const raw of segments) {
    if (raw.includes('\\')) return null;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (/[\u0000-\u001f\u007f/\\]/.test(segment)) return null;
    if (/%(2e|2f|5c)/i.test(segment)) return null;
    if (/^\.\.?;/.test(segment)) return null;
    if (segment === '.') continue;
    if (segment === '..') {
      const top = stack.pop();
      if (top === undefined || top === '') return null;
      continue;
    }
    stack.push(segment);
  }
  const kept = stack.filter((part) => part !== '');
  // RFC 3986 §5.2.4: a path ending in a dot segment keeps its slash (`/a/b/..` is `/a/`).
  const trailingSlash = kept.length > 0 && (segment === '' || segment === '.' || segment === '..');
  return `/${kept.join('/')}${trailingSlash ? '/' : ''}`;
}

/**
 * Whether a request is within a custom scope (SPEC 3.5). The path is normalised with
 * {@link normalizePath} first. A pattern matches at path-segment boundaries: `/plans` matches
 * `/plans`, `/plans/` and `/plans/7`, not `/plansx`; a pattern that ends in `*` matches any
 * continuation of its path. A method list limits the methods; `HEAD` is allowed wherever `GET`
 * is (RFC 9110 §9.3.2: HEAD is GET without the body). An empty list matches nothing.
 *
 * @param patterns - the scope's parsed patterns
 * @param method - the request method, as received (upper case; RFC 9110 §9.1 is case-sensitive)
 * @param rawPath - the request target, e.g. `/plans/7?x=1`
 * @param options - `caseInsensitive` (default `false`) compares paths ignoring case
 *
 * @example
 * ```ts
 * const scope = parseEndpointPatterns(['GET /clients', '/reports/*']);
 * matchesEndpoint(scope, 'GET', '/clients/4');    // true
 * matchesEndpoint(scope, 'DELETE', '/clients/4'); // false
 * matchesEndpoint(scope, 'GET', '/reports');      // false
 * ```
 */
export function matchesEndpoint(
  patterns: readonly EndpointPattern[],
  method: string,
  rawPath: string,
  options: MatchOptions = {},
): boolean {
  if (patterns.length === 0) return false;
  const normalised = normalizePath(rawPath);
  if (normalised === null) return false;
  const fold = options.caseInsensitive === true;
  const path = fold ? normalised.toLowerCase() : normalised;

  return patterns.some((pattern) => {
    if (pattern.methods !== null && !allowsMethod(pattern.methods, method)) return false;
    const base = fold ? pattern.path.toLowerCase() : pattern.path;
    if (pattern.prefix) return path.startsWith(base);
    return path === base || path.startsWith(base.endsWith('/') ? base : `${base}/`);
  });
}

function isMethodList(text: string): boolean {
  return text.split(',').every((name) => HTTP_METHODS.includes(name.toUpperCase()));
}

function allowsMethod(methods: readonly string[], method: string): boolean {
  return methods.includes(method) || (method === 'HEAD' && methods.includes('GET'));
}

/** Reads one pattern, or says what is wrong with it. */
function readPattern(line: string): EndpointPattern | string {
  if (line.length > MAX_PATTERN_LENGTH) {
    return `it is longer than ${MAX_PATTERN_LENGTH} characters; shorten it, e.g. with a trailing *`;
  }
  const text = line.replace(EDGE_SPACE, '');
  if (text === '') {
    return 'it is empty; write a path such as /plans, optionally after methods (GET /clients)';
  }
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) {
    return 'it contains a line break or control character; write one pattern per line';
  }

  let methods: string[] | null = null;
  let path = text;
  if (!text.startsWith('/')) {
    const split = /^([^ \t]+)[ \t]+(.*)$/.exec(text);
    if (split === null) {
      return isMethodList(text)
        ? `add the path after the methods, e.g. ${text} /clients`
        : `a path starts with /; write /${text}`;
    }
    const head = split[1] ?? '';
    path = split[2] ?? '';
    if (!path.startsWith('/')) {
      if (head.endsWith(',')) return 'separate methods with commas and no spaces, e.g. GET,POST /clients';
      return isMethodList(head)
        ? `a path starts with /; write ${head} /${path}`
        : 'write a path starting with /, optionally after methods, e.g. /plans or GET /clients';
    }
    methods = [];
    for (const name of head.split(',')) {
      if (name === '') return 'separate methods with commas and no spaces, e.g. GET,POST /clients';
      const upper = name.toUpperCase();
      if (!HTTP_METHODS.includes(upper)) return `unknown method ${quoteInput(name)}; use ${METHOD_LIST}`;
      if (upper !== name) return `write methods in upper case (${upper})`;
      if (!methods.includes(name)) methods.push(name);
    }
  }

  if (/[ \t]/.test(path)) return 'the path contains a space; write the methods, a space, then the path';
  if (/[?#]/.test(path)) return 'patterns match paths only; remove the query or fragment (from ? or #)';
  if (path.includes('\\')) return 'use / to separate segments, not \\';
  if (path.includes('%')) return 'write the path decoded, without percent-encoding';
  const star = path.indexOf('*');
  if (star !== -1 && star !== path.length - 1) {
    return '* may only end a pattern (e.g. /reports/* or /plan*), not stand inside it';
  }
  const prefix = star !== -1;
  const base = prefix ? path.slice(0, -1) : path;
  if (base.includes('//')) return 'collapse the repeated slashes';
  if (base.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'remove the . and .. segments; write the path they lead to';
  }
  return { methods, path: base, prefix };
}
