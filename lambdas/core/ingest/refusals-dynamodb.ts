// The refusal log on DynamoDB (`tables.refusals`): one item per refused message, expiring after a week. Listed
// newest first one UTC day partition at a time, or through `byDevice` for one sender.
import { randomBytes } from 'node:crypto';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { daysBack, newestFirst, walkBuckets } from '../common/bucket-pages.js';
import { checkStartKey } from '../common/page-token.js';
import type { RefusalLog, RefusalRecord, Rejection } from './ingest-ports.js';
import { tables } from '../contracts/tables.js';

export const REFUSAL_DAYS = 7;
const DAY_MS = 86_400_000;
/** Longer client ids cannot be an index key (and AWS IoT allows at most 128). */
const MAX_DEVICE_KEY = 128;

const iso = (ms: number) => new Date(ms).toISOString();

export class DynamoRefusalLog implements RefusalLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async record(rejection: Rejection, at: number) {
    const device = rejection.clientId && rejection.clientId.length <= MAX_DEVICE_KEY ? rejection.clientId : undefined;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `day#${iso(at).slice(0, 10)}`,
          sk: `${iso(at)}#${randomBytes(6).toString('hex')}`,
          ...(device && { device }),
          at,
          ...rejection,
          expiresAt: Math.floor((at + REFUSAL_DAYS * DAY_MS) / 1000),
        },
      }),
    );
  }

  async list(page: { limit: number; next?: string; deviceId?: string }) {
    const now = this.now();
    const since = iso(now - REFUSAL_DAYS * DAY_MS);
    const key = page.deviceId !== undefined ? 'device' : 'pk';
    const buckets =
      page.deviceId !== undefined ? [page.deviceId] : daysBack(now, REFUSAL_DAYS + 1).map((d) => `day#${d}`);
    const result = await walkBuckets(
      buckets,
      newestFirst(this.client, (bucket) => ({
        TableName: this.tableName,
        ...(key === 'device' && { IndexName: 'byDevice' }),
        KeyConditionExpression: '#key = :key AND sk >= :since',
        ExpressionAttributeNames: { '#key': key },
        ExpressionAttributeValues: { ':key': bucket, ':since': since },
      })),
      page.limit,
      page.next,
      (bucket, start) =>
        checkStartKey(start, tables.refusals, key === 'device' ? 'byDevice' : undefined, {
          partition: bucket,
          from: since,
        }),
    );
    return { ...result, items: result.items.map(toRecord) };
  }
}

function toRecord(item: Record<string, unknown>): RefusalRecord {
  const { reason, message, topic, clientId, payload, at } = item as unknown as RefusalRecord;
  return {
    at,
    reason,
    message,
    ...(topic !== undefined && { topic }),
    ...(clientId !== undefined && { clientId }),
    ...(payload !== undefined && { payload }),
  };
}
