/** One page of a keyset-paginated list, as every Tessera list route answers. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next_cursor: string | null;
}

/**
 * Every item of a keyset-paginated list, page after page, fetching the next page only when
 * the caller has consumed the current one.
 *
 * @example
 * for await (const token of paginate((cursor) => listTokens({ all: true, cursor })))
 *   console.log(token.id);
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}
