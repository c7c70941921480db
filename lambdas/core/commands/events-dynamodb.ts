// Event and ACK history on DynamoDB (`tables.events`), keyed so a resent ACK lands on the same item.
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import { decodeStartKey, encodeToken } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';
import type { AckRecord, EventHistory } from './command-store.js';
import type { Page, TimeRange } from '../common/page.js';
import type { Ack } from '../contracts/schemas.js';

export class DynamoEventHistory implements EventHistory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** TTL: kept this long after it was received. */
    private readonly retentionDays = 730,
  ) {}

  record({ venId, receivedAt, ack }: AckRecord): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            venId,
            sk: `${iso(ack.ts * 1000)}#${ack.correlationId}`,
            receivedAt,
            ack,
            expiresAt: Math.floor(receivedAt / 1000) + this.retentionDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      ),
    );
  }

  async list(venId: string, range: TimeRange): Promise<Page<AckRecord>> {
    const [from, to] = [iso(range.start), `${iso(range.end)}~`];
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'venId = :venId AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':venId': venId, ':from': from, ':to': to },
        ScanIndexForward: false,
        Limit: range.limit,
        ExclusiveStartKey: range.next
          ? decodeStartKey(range.next, tables.events, undefined, { partition: venId, from, to })
          : undefined,
      }),
    );
    const items = (res.Items ?? []).map((i) => ({ venId, receivedAt: i.receivedAt as number, ack: i.ack as Ack }));
    return { items, ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }) };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
