import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Runs a conditional write; false when its condition did not hold (an older or duplicate message). */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
      return false;
    }
    throw err;
  }
}

/** How a batch call's unprocessed items are resent: up to `attempts` calls, waiting a full-jitter exponential backoff. */
export interface BatchRetry {
  readonly attempts: number;
  readonly baseMs: number;
  readonly capMs: number;
}

/** 8 calls, waits drawn from [0, min(2 s, 50 ms × 2^n)): at most about 5 s before a batch fails loudly. */
export const BATCH_RETRY: BatchRetry = { attempts: 8, baseMs: 50, capMs: 2_000 };

/** The wait before call `attempt` (1 = the first resend): AWS's "full jitter". */
export const backoffMs = (attempt: number, retry: BatchRetry = BATCH_RETRY) =>
  Math.random() * Math.min(retry.capMs, retry.baseMs * 2 ** attempt);

type Item = Record<string, unknown>;
export type BatchWriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };

/**
 * BatchWriteItem of all `requests` to one table, 25 at a time, resending what DynamoDB leaves unprocessed with
 * backoff; throws naming `what` when some are still unprocessed after the last attempt (never drops them).
 */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly BatchWriteRequest[],
  what: string,
  retry: BatchRetry = BATCH_RETRY,
): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending = requests.slice(i, i + 25) as BatchWriteRequest[];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === retry.attempts)
        throw new Error(`${what}: DynamoDB left ${pending.length} write(s) unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(backoffMs(attempt, retry));
      const res = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (res.UnprocessedItems?.[tableName] ?? []) as BatchWriteRequest[];
    }
  }
}

/**
 * BatchGetItem of all `keys` from one table, 100 at a time, resending unprocessed keys with backoff; throws naming
 * `what` when some are still unprocessed after the last attempt. Items in no particular order; absent keys are absent.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Item[],
  what: string,
  opts: { readonly consistentRead?: boolean } = {},
  retry: BatchRetry = BATCH_RETRY,
): Promise<Item[]> {
  const items: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100) as Item[];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === retry.attempts)
        throw new Error(`${what}: DynamoDB left ${pending.length} key(s) unprocessed after ${attempt} attempts`);
      if (attempt > 0) await sleep(backoffMs(attempt, retry));
      const res = await client.send(
        new BatchGetCommand({
          RequestItems: { [tableName]: { Keys: pending, ...(opts.consistentRead && { ConsistentRead: true }) } },
        }),
      );
      items.push(...(res.Responses?.[tableName] ?? []));
      pending = (res.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
    }
  }
  return items;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
