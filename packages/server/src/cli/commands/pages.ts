import type { Page } from '../client.js';

/**
 * Reads up to `limit` items through as many pages as needed (the API gives at most `pageSize`
 * per request). The result's next_cursor continues after the last item returned.
 */
export async function fetchPages<T>(limit: number, pageSize: number, fetchPage: (limit: number, cursor: string | undefined) => Promise<Page<T>>): Promise<Page<T>> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(Math.min(pageSize, limit - items.length), cursor);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
    if (cursor === undefined || items.length >= limit) return { items, next_cursor: cursor ?? null };
  }
}
