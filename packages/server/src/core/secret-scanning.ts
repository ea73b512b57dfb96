import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { auditOf, type RequestContext } from './context.js';
import { TesseraError, invalid } from './errors.js';
import type { Clock } from './ports.js';
import type { Store } from './store.js';
import { findTokenByValue } from './tokens/identify.js';

/** One reported match, as GitHub's secret scanning partner program sends it. */
export interface SecretReport {
  readonly token: string;
  readonly type: string;
  readonly url: string | null;
  readonly source: string | null;
}

/** GitHub's feedback form: one entry per reported match. */
export interface SecretReportLabel {
  readonly token_raw: string;
  readonly token_type: string;
  readonly label: 'true_positive' | 'false_positive';
}

/** The most matches one report may carry; GitHub batches far fewer. */
const maxEntries = 1000;

/**
 * The secret-scanning intake (SPEC 9): GitHub's partner program signs the raw request body with
 * ECDSA P-256 / SHA-256, the DER signature base64 in `Github-Public-Key-Signature`, naming the
 * key in `Github-Public-Key-Identifier`. Nothing is read or changed before the signature holds.
 */
export function createSecretScanningService(deps: { store: Store; clock: Clock; secretKey: Uint8Array; tokenPrefix: string; keys: readonly { id: string; key: KeyObject }[] }) {
  const unsigned = (why: string) => new TesseraError('UNAUTHENTICATED', `The report is not signed by a trusted secret scanner: ${why}`);

  /** Checks the signature over the exact bytes received, before any parsing. */
  function checkSignature(body: Buffer, keyId: string | undefined, signature: string | undefined): void {
    if (deps.keys.length === 0) throw unsigned('no scanner keys are configured (TESSERA_SECRET_SCANNING_KEYS_FILE)');
    if (!keyId || !signature) throw unsigned('send Github-Public-Key-Identifier and Github-Public-Key-Signature');
    const trusted = deps.keys.find((k) => k.id === keyId);
    if (!trusted) throw unsigned('the key identifier is not among the trusted keys');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature) || signature.length > 200) throw unsigned('the signature is not base64');
    let valid = false;
    try {
      valid = verifySignature('sha256', body, { key: trusted.key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
    } catch {
      valid = false;
    }
    if (!valid) throw unsigned('the signature does not match the body');
  }

  function parseReports(body: Buffer): SecretReport[] {
    let document: unknown;
    try {
      document = JSON.parse(body.toString('utf8'));
    } catch {
      throw invalid('', 'The report must be a JSON array of {token, type, url, source}');
    }
    if (!Array.isArray(document)) throw invalid('', 'The report must be a JSON array of {token, type, url, source}');
    if (document.length > maxEntries) throw invalid('', `A report may carry at most ${maxEntries} matches; split it`);
    return document.map((entry: unknown, index) => {
      const { token, type, url, source } = (entry ?? {}) as Record<string, unknown>;
      if (typeof token !== 'string' || token.length === 0 || token.length > 1000) throw invalid(`/${index}/token`, 'Each match needs the reported token as a string');
      if (typeof type !== 'string' || type.length > 200) throw invalid(`/${index}/type`, 'Each match needs its token type as a string');
      const optional = (value: unknown, field: string): string | null => {
        if (value === undefined || value === null) return null;
        if (typeof value !== 'string' || value.length > 2000) throw invalid(`/${index}/${field}`, `The ${field} must be a string of at most 2000 characters`);
        return value;
      };
      return { token, type, url: optional(url, 'url'), source: optional(source, 'source') };
    });
  }

  return {
    /**
     * Verifies, then judges each match: a value that is one of our tokens is a true positive and,
     * when still unrevoked, is revoked (reason `leaked`, its access tokens through the feed) and
     * audited `token.leaked` with the report's url and source. A value failing its checksum is
     * judged without a database read (SPEC 3.2).
     */
    async intake(body: Buffer, headers: { keyId: string | undefined; signature: string | undefined }, context: RequestContext): Promise<{ labels: SecretReportLabel[]; revoked: string[] }> {
      checkSignature(body, headers.keyId, headers.signature);
      const reports = parseReports(body);
      const labels: SecretReportLabel[] = [];
      const revoked: string[] = [];
      for (const report of reports) {
        const verdict = await findTokenByValue(deps, report.token);
        labels.push({ token_raw: report.token, token_type: report.type, label: verdict.found ? 'true_positive' : 'false_positive' });
        if (!verdict.found) continue;
        const { token } = verdict;
        const now = deps.clock.now();
        const changed = await deps.store.transaction(async (tx) => {
          const result = await tx.tokens.revoke(token.orgId, token.id, 'system:secret-scanning', 'leaked', now);
          if (!result?.changed) return false;
          await tx.revocationEvents.append({ orgId: token.orgId, kind: 'token', subjectId: token.id, occurredAt: now });
          await tx.audit.append(
            auditOf({ ...context, actor: null }, now, {
              orgId: token.orgId,
              action: 'token.leaked',
              outcome: 'success',
              targetType: 'token',
              targetId: token.id,
              details: { reason: 'leaked', url: report.url, source: report.source, type: report.type, owner_id: token.ownerId },
            }),
          );
          return true;
        });
        if (changed) revoked.push(token.id);
      }
      return { labels, revoked };
    },
  };
}

export type SecretScanningService = ReturnType<typeof createSecretScanningService>;
