import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A scanner's public key, by the identifier its reports name. */
export interface ScannerKey {
  readonly id: string;
  readonly key: KeyObject;
}

/**
 * Reads the trusted secret-scanning keys in the form GitHub publishes them
 * (`GET https://api.github.com/meta/public_keys/secret_scanning`):
 * `{"public_keys": [{"key_identifier", "key": "<PEM>", "is_current"}]}`. Every key is kept,
 * current or not: GitHub signs with older keys until they are withdrawn from the list. Each key
 * must be an ECDSA P-256 public key, the only kind the partner program signs with.
 *
 * @throws Error naming the file, the entry and the fault
 */
export function loadScannerKeys(path: string): ScannerKey[] {
  const fail = (message: string): never => {
    throw new Error(`${path}: ${message}`);
  };
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return fail(error instanceof SyntaxError ? `not JSON (${error.message})` : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list) || list.length === 0) return fail('expected {"public_keys": [{"key_identifier", "key", "is_current"}]} with at least one key');
  return list.map((entry: unknown, index) => {
    const where = `public_keys[${index}]`;
    const { key_identifier: id, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) return fail(`${where}.key_identifier: expected a non-empty string`);
    if (typeof pem !== 'string') return fail(`${where}.key: expected a PEM public key`);
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      return fail(`${where}.key: not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return fail(`${where}.key: expected an ECDSA P-256 key`);
    return { id, key };
  });
}
