import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The conformance corpus (sdks/corpus/cases.json) as the Node runners read it: @tessera/verify's
 * corpus test and the forward-auth tests. The Python and Go suites read the same file with their
 * own few lines of the same logic, so a rule cannot drift between languages.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CorpusCase {
  readonly name: string;
  /** Replaces the whole Authorization header when present; '' means no header. */
  readonly authorization?: string;
  readonly token?: {
    readonly claims?: Record<string, Json>;
    readonly header?: Record<string, Json>;
    readonly key?: 'issuer' | 'foreign';
    readonly iat_in?: number;
    readonly exp_in?: number;
    readonly tamper?: boolean;
  };
  readonly request: { readonly method: string; readonly path: string; readonly peer: string; readonly forwarded_for?: string };
  readonly expect: {
    readonly verdict: 'allow' | 'invalid_token' | 'insufficient_scope' | 'ip' | 'no_credentials' | 'invalid_request';
    readonly status: 200 | 400 | 401 | 403;
    readonly error: string | null;
  };
}

export interface Corpus {
  readonly settings: { readonly audience: string; readonly clock_skew_seconds: number; readonly trusted_proxies: readonly string[]; readonly realm: string };
  readonly base_claims: Record<string, Json>;
  readonly base_header: Record<string, Json>;
  readonly token_defaults: { readonly iat_in: number; readonly exp_in: number };
  readonly cases: readonly CorpusCase[];
}

export const corpus: Corpus = JSON.parse(readFileSync(new URL('./cases.json', import.meta.url), 'utf8')) as Corpus;

/** The signer a runner provides: its issuer URL and the Ed25519 key its JWKS publishes. */
export interface CorpusSigner {
  readonly issuer: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** Another Ed25519 key, for the 'foreign' cases (a forgery under the issuer's kid). */
const foreignKey = generateKeyPairSync('ed25519').privateKey;

function substitute(value: Json, signer: CorpusSigner, now: number): Json {
  if (value === '$issuer') return signer.issuer;
  if (value === '$kid') return signer.kid;
  if (value === '$random') return randomBytes(16).toString('base64url');
  if (typeof value === 'string') {
    const relative = /^\$now([+-][0-9]+)$/.exec(value);
    if (relative) return now + Number(relative[1]);
  }
  return value;
}

function merge(base: Record<string, Json>, overrides: Record<string, Json> | undefined, signer: CorpusSigner, now: number): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, value] of Object.entries({ ...base, ...overrides })) {
    if (value !== null) out[name] = substitute(value, signer, now);
  }
  return out;
}

/** The Authorization header of a case, or undefined for none. */
export function authorizationOf(testCase: CorpusCase, signer: CorpusSigner): string | undefined {
  if (testCase.authorization !== undefined) return testCase.authorization === '' ? undefined : testCase.authorization;
  const spec = testCase.token ?? {};
  const now = Math.floor(Date.now() / 1000);
  const header = merge(corpus.base_header, spec.header, signer, now);
  const claims = merge(
    { ...corpus.base_claims, iat: now + (spec.iat_in ?? corpus.token_defaults.iat_in), exp: now + (spec.exp_in ?? corpus.token_defaults.exp_in) },
    spec.claims,
    signer,
    now,
  );
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  // Always an Ed25519 signature, whatever the header's alg says: a header claiming none or
  // HS256 over a real signature must be refused by its alg alone.
  const signature = sign(null, Buffer.from(input), spec.key === 'foreign' ? foreignKey : signer.privateKey);
  if (spec.tamper) signature[0] = (signature[0] as number) ^ 1;
  return `Bearer ${input}.${signature.toString('base64url')}`;
}
