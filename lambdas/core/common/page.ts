// A page of a listing and a time range: what every store's listings take and give.

export interface Page<T> {
  readonly items: T[];
  /** Opaque token for the next page; absent on the last page. */
  readonly next?: string;
}

export interface TimeRange {
  /** Epoch milliseconds, inclusive. */
  readonly start: number;
  readonly end: number;
  readonly limit: number;
  readonly next?: string;
}
