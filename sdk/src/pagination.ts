import type { PageBody } from './types.js';

type Fetcher<T> = (cursor: string | undefined) => Promise<PageBody<T>>;

/** One page of a list, with the way to the next. */
export class Page<T> {
  readonly data: T[];
  /** Pass as `cursor` to continue after this page; null on the last page. */
  readonly nextCursor: string | null;
  readonly #fetch: Fetcher<T>;

  constructor(body: PageBody<T>, fetchPage: Fetcher<T>) {
    this.data = body.data;
    this.nextCursor = body.nextCursor;
    this.#fetch = fetchPage;
  }

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  /** The following page, or null after the last one. */
  async next(): Promise<Page<T> | null> {
    return this.nextCursor === null ? null : new Page(await this.#fetch(this.nextCursor), this.#fetch);
  }
}

/**
 * A list, read lazily: `for await (const item of list)` walks every item across pages (one request per
 * page, as the loop needs them); `await list.page()` gets one page; `list.pages()` walks page by page.
 */
export class PagedList<T> implements AsyncIterable<T> {
  readonly #fetch: Fetcher<T>;
  readonly #cursor: string | undefined;

  constructor(fetchPage: Fetcher<T>, cursor?: string) {
    this.#fetch = fetchPage;
    this.#cursor = cursor;
  }

  /** The first page (from the `cursor` given to `list`, if any). */
  async page(): Promise<Page<T>> {
    return new Page(await this.#fetch(this.#cursor), this.#fetch);
  }

  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let page: Page<T> | null = await this.page();
    while (page) {
      yield page;
      page = await page.next();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }

  /** Every item (at most `max`, default 10,000) in one array. */
  async toArray(max = 10_000): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this) {
      if (all.length >= max) break;
      all.push(item);
    }
    return all;
  }
}
