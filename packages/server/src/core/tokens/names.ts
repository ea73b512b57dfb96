import { TesseraError } from '../errors.js';
import type { Store } from '../store.js';

/** The seeds' default name: `<owner>_api_token` (the `apitoken create` seed). */
export function defaultTokenName(username: string): string {
  return `${username}_api_token`;
}

/**
 * The default name for the owner's next token: `<owner>_api_token` while it is free, then
 * `<owner>_api_token_2`, `_3`, … (the lowest free number), so a second token made without a
 * name works instead of failing on the name. Revoked tokens give their name back, as the
 * unique index on (owner, name) ignores them.
 */
export async function nextDefaultTokenName(tx: Store, orgId: string, ownerId: string, username: string, now: Date): Promise<string> {
  const base = defaultTokenName(username);
  const taken = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await tx.tokens.list({ orgId, ownerId, q: base, sort: 'name', descending: false, limit: 200, cursor, now, idleTimeoutSeconds: null });
    for (const token of page.items) if (!token.revokedAt) taken.add(token.name);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Runs a create that picked a default name, again when the unique index refused the name: a
 * rename by edit (which does not take the owner's lock) can take the chosen name between
 * the choice and the insert. A given name is never retried: its conflict is the caller's.
 */
export async function retryDefaultName<T>(defaulted: boolean, work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (error) {
      const conflict = error instanceof TesseraError && error.code === 'CONFLICT' && error.field === '/name';
      if (!defaulted || !conflict || i >= attempts) throw error;
    }
  }
}
