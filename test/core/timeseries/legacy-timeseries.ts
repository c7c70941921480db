// The DynamoDB time-series adapter as it was before the packed layout (one ~1 KB item per record), kept only to
// check that the packed one answers every read the same (timeseries-equivalence.test.ts).
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../../lambdas/core/contracts/errors.js';
import { decodeToken, encodeToken } from '../../../lambdas/core/common/page-token.js';
import type { Page } from '../../../lambdas/core/common/page.js';
import type { SeriesQuery, SeriesRecord, TelemetryStore } from '../../../lambdas/core/timeseries/telemetry-store.js';
import type { TableDefinition } from '../../../lambdas/core/contracts/tables.js';

export const legacyTable: TableDefinition = {
  env: 'LEGACY',
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLive: 'expiresAt',
};

const DAY_MS = 86_400_000;
const BATCH = 25;

interface LegacyProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly retentionDays: number;
}

interface Cursor {
  day: string;
  key?: Record<string, unknown>;
}

export class LegacyTelemetryStore implements TelemetryStore {
  constructor(private readonly props: LegacyProps) {}

  async write(records: readonly SeriesRecord[]): Promise<void> {
    const { client, tableName, retentionDays } = this.props;
    for (let i = 0; i < records.length; i += BATCH) {
      let pending = records
        .slice(i, i + BATCH)
        .map((r) => ({ PutRequest: { Item: timeSeriesItem(r, retentionDays) } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === 5) throw new Error(`DynamoDB left ${pending.length} time-series item(s) unprocessed`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const res = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = (res.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      }
    }
  }

  async query(q: SeriesQuery): Promise<Page<SeriesRecord>> {
    const days = dayKeys(q.start, q.end);
    const cursor: Partial<Cursor> = q.next ? decodeToken<Cursor>(q.next) : { day: days[0] };
    let index = days.indexOf(cursor.day ?? '');
    if (index < 0) throw new ValidationError('next', 'next: the page token does not belong to this time range');
    let key = cursor.key;
    const items: SeriesRecord[] = [];
    while (index < days.length) {
      const res = await this.props.client.send(
        new QueryCommand({
          TableName: this.props.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': partitionKey(q.series, q.deviceId, days[index]!),
            ':from': sortKey(q.start),
            ':to': `${sortKey(q.end)}~`,
            ...(q.where && { ':where': q.where.value }),
          },
          ...(q.where && {
            FilterExpression: '#dims.#where = :where',
            ExpressionAttributeNames: { '#dims': 'dimensions', '#where': q.where.dimension },
          }),
          ScanIndexForward: false,
          Limit: q.limit - items.length,
          ExclusiveStartKey: key,
        }),
      );
      for (const item of res.Items ?? []) {
        items.push({
          series: q.series,
          deviceId: q.deviceId,
          time: item.time as number,
          dimensions: item.dimensions as Record<string, string>,
          measures: item.measures as SeriesRecord['measures'],
        });
      }
      key = res.LastEvaluatedKey;
      if (!key) {
        index++;
      }
      if (items.length >= q.limit) break;
    }
    const next = index < days.length ? encodeToken({ day: days[index], ...(key && { key }) }) : undefined;
    return { items, ...(next && { next }) };
  }
}

function timeSeriesItem(r: SeriesRecord, retentionDays: number) {
  return {
    pk: partitionKey(r.series, r.deviceId, day(r.time)),
    sk: sortKey(r.time, r.dimensions.load_id),
    time: r.time,
    dimensions: r.dimensions,
    measures: r.measures,
    expiresAt: Math.floor(r.time / 1000) + retentionDays * 86_400,
  };
}

const partitionKey = (series: string, deviceId: string, dayKey: string) => `${series}#${deviceId}#${dayKey}`;
const sortKey = (time: number, suffix?: string) => String(time).padStart(14, '0') + (suffix ? `#${suffix}` : '');
const day = (time: number) => new Date(time).toISOString().slice(0, 10);

/** UTC days from `end` back to `start`, newest first. */
function dayKeys(start: number, end: number): string[] {
  const keys: string[] = [];
  for (let t = Math.floor(end / DAY_MS) * DAY_MS; t >= Math.floor(start / DAY_MS) * DAY_MS; t -= DAY_MS) {
    keys.push(day(t));
  }
  return keys;
}
