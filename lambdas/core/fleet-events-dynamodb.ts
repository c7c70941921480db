// Fleet demand-response events on DynamoDB (`tables.fleetEvents`): one item per event, written once, listed newest
// first through `byMonth` one UTC month at a time.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monthsBack, newestFirst, walkBuckets } from './bucket-pages.js';
import { conditional } from './dynamo.js';
import type { FleetEventRecord, FleetEventStore } from './ports.js';

/** How far back the listing reads: two years of months. */
export const LISTED_MONTHS = 24;

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

export class DynamoFleetEventStore implements FleetEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    /** TTL: kept this long after it started. */
    private readonly retentionDays = 730,
  ) {}

  create(event: FleetEventRecord) {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...event, month: monthOf(event.startedAt), expiresAt: Math.floor(event.startedAt / 1000) + this.retentionDays * 86_400 },
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      ),
    );
  }

  async get(eventId: string) {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { eventId } }));
    return res.Item && toRecord(res.Item);
  }

  async list(page: { limit: number; next?: string }) {
    const result = await walkBuckets(
      monthsBack(this.now(), LISTED_MONTHS),
      newestFirst(this.client, (month) => ({
        TableName: this.tableName,
        IndexName: 'byMonth',
        KeyConditionExpression: '#month = :month',
        ExpressionAttributeNames: { '#month': 'month' },
        ExpressionAttributeValues: { ':month': month },
      })),
      page.limit,
      page.next,
    );
    return { ...result, items: result.items.map(toRecord) };
  }
}

const toRecord = ({ month: _month, expiresAt: _expiresAt, ...event }: Record<string, unknown>) => event as unknown as FleetEventRecord;
