/** Reading a whole connection page by page, checking the paging contract on the way. */
import { expect } from "vitest";

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/**
 * Every item, page by page, the page sizes `sizes` in turn (cycled); fails on a short page
 * before the end or on more pages than rows + 1.
 */
export async function pageAll<T>(sizes: number[], total: number, read: (first: number, after: string | null) => Promise<Page<T>>): Promise<T[]> {
  const seen: T[] = [];
  let after: string | null = null;
  for (let page = 0; page <= total; page++) {
    const first = sizes[page % sizes.length]!;
    const result: Page<T> = await read(first, after);
    seen.push(...result.items);
    if (!result.hasNextPage) return seen;
    expect(result.items).toHaveLength(first);
    after = result.endCursor;
  }
  throw new Error(`paging did not end after ${total + 1} pages; saw ${seen.length} items of ${total}`);
}
