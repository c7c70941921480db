// Newest-first pages over time-bucketed partitions (one UTC month or day each): newest bucket first, one Query after
// another until the page is full or the oldest bucket is read. The token carries the bucket and the Query's key.
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../contracts/errors.js';
import { decodeToken, encodeToken } from './page-token.js';
import type { Page } from './page.js';

type Key = Record<string, unknown>;

export type BucketQuery = (
  bucket: string,
  limit: number,
  startKey: Key | undefined,
) => Promise<{ items: Key[]; lastKey?: Key }>;

/** One newest-first DynamoDB Query per bucket; `input` names the table, index and key condition of a bucket. */
export function newestFirst(
  client: DynamoDBDocumentClient,
  input: (bucket: string) => Omit<QueryCommandInput, 'ScanIndexForward' | 'Limit' | 'ExclusiveStartKey'>,
): BucketQuery {
  return async (bucket, limit, startKey) => {
    const res = await client.send(
      new QueryCommand({ ...input(bucket), ScanIndexForward: false, Limit: limit, ExclusiveStartKey: startKey }),
    );
    return { items: res.Items ?? [], lastKey: res.LastEvaluatedKey };
  };
}

/** A token's start key checked against the Query of its bucket (`checkStartKey`). */
export type StartKeyOf = (bucket: string, key: unknown) => Key;

export async function walkBuckets(
  buckets: readonly string[],
  query: BucketQuery,
  limit: number,
  next: string | undefined,
  startKeyOf: StartKeyOf,
): Promise<Page<Key>> {
  const token = next ? decodeToken<{ b?: unknown; k?: unknown }>(next) : undefined;
  let i = token ? buckets.indexOf(token.b as string) : 0;
  if (i < 0)
    throw new ValidationError('next', 'next: not a page token this API issued (or older than the listing reaches)');
  let key = token?.k === undefined ? undefined : startKeyOf(buckets[i]!, token.k);
  const items: Key[] = [];
  while (i < buckets.length && items.length < limit) {
    const res = await query(buckets[i]!, limit - items.length, key);
    items.push(...res.items);
    key = res.lastKey;
    if (!key) i++;
  }
  return { items, ...(i < buckets.length && { next: encodeToken({ b: buckets[i], ...(key && { k: key }) }) }) };
}

/** UTC months `YYYY-MM`, the one holding `now` first, `count` in all. */
export function monthsBack(now: number, count: number): string[] {
  const d = new Date(now);
  return Array.from({ length: count }, (_, i) =>
    new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1)).toISOString().slice(0, 7),
  );
}

/** UTC days `YYYY-MM-DD`, the one holding `now` first, `count` in all. */
export function daysBack(now: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => new Date(now - i * 86_400_000).toISOString().slice(0, 10));
}
