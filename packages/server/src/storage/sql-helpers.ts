/** Small SQL helpers shared by the Store's repositories. */

/** JSON columns are written as text and cast by PostgreSQL (pg would send arrays as PG arrays). */
export const json = (value: unknown): string => JSON.stringify(value);

/** Makes a user's search text literal inside LIKE/ILIKE: `%`, `_` and `\` match themselves. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
