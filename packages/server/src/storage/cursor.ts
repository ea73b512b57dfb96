import { TesseraError } from '../core/errors.js';

/** Opaque keyset cursor: the sort key and id of the last row of the previous page. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((value) => typeof value === 'string' || typeof value === 'number')
    ) {
      return values as (string | number)[];
    }
  } catch {
    // fall through to the refusal below
  }
  throw new TesseraError('VALIDATION_FAILED', 'Invalid cursor: pass the next_cursor value of the previous page unchanged', {
    field: 'cursor',
  });
}
