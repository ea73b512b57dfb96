/** Small SQL helpers shared by the Store's repositories. */

import { TesseraError } from '../core/errors.js';
import { encodeCursor } from './cursor.js';

/** JSON columns are written as text and cast by PostgreSQL (pg would send arrays as PG arrays). */
export const json = (value: unknown): string => JSON.stringify(value);

/** Makes a user's search text literal inside LIKE/ILIKE: `%`, `_` and `\` match themselves. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** PostgreSQL's unique_violation; PGlite raises the same SQLSTATE. */
const uniqueViolation = '23505';

/**
 * Awaits a write under a unique index and turns a unique violation into the domain's CONFLICT
 * naming the field, so the error mapper answers 409 instead of 500. The services check names
 * before writing, which words the common case; this covers the race in which two requests (on
 * one instance or several) both passed that check and the index refused the later insert.
 */
export async function mapUniqueViolation<T>(write: Promise<T>, field: string, message: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: unknown }).code === uniqueViolation) throw new TesseraError('CONFLICT', message, { field });
    throw error;
  }
}

/** Splits one extra row off a `limit + 1` query into the next cursor. */
export function page<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => (string | number)[]) {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  const last = rows[limit - 1];
  return { items, nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null };
}
