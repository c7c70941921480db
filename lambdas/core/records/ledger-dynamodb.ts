// The ledger on DynamoDB (`tables.ledger`): one partition per node, sorted by `seq`; `expiresAt` (epoch seconds, not
// hashed) lets TTL drop entries past the archive retention, oldest first.
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import type { LedgerEntry, LedgerStore } from './ledger.js';
import { decodeStartKey, encodeToken } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';

const entryOf = ({ expiresAt: _expiresAt, ...entry }: Record<string, unknown>) => entry as unknown as LedgerEntry;

export class DynamoLedgerStore implements LedgerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async last(nodeId: string) {
    const res = await this.query(nodeId, false, 1, undefined);
    return res.Items?.[0] && entryOf(res.Items[0]);
  }

  put(entry: LedgerEntry) {
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400;
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...entry, expiresAt },
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      ),
    );
  }

  async list(nodeId: string, page: { limit: number; next?: string }) {
    const res = await this.query(
      nodeId,
      false,
      page.limit,
      page.next ? decodeStartKey(page.next, tables.ledger, undefined, { partition: nodeId }) : undefined,
    );
    return {
      items: (res.Items ?? []).map(entryOf),
      ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }),
    };
  }

  async *scan(nodeId: string) {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.query(nodeId, true, 1000, start);
      for (const item of res.Items ?? []) yield entryOf(item);
      start = res.LastEvaluatedKey;
    } while (start);
  }

  private query(nodeId: string, forward: boolean, limit: number, start: Record<string, unknown> | undefined) {
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'nodeId = :n',
        ExpressionAttributeValues: { ':n': nodeId },
        ScanIndexForward: forward,
        Limit: limit,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
  }
}
