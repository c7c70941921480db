// Node metadata on DynamoDB (`tables.metadata`): the document with its index keys beside it.
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import { indexKeys, type MetadataRecord, type MetadataStore, type Technology } from './metadata.js';
import { CELL_PRECISION } from './geo.js';
import { decodeStartKey, encodeToken } from '../common/page-token.js';
import { tables } from '../contracts/tables.js';
import type { Page } from '../common/page.js';

type Item = MetadataRecord & ReturnType<typeof indexKeys>;

const recordOf = ({ technology, cell: _cell, geohash: _geohash, ...rest }: Item): MetadataRecord => ({
  ...rest,
  technology,
});

export class DynamoMetadataStore implements MetadataStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  create(record: MetadataRecord) {
    return this.put(record, { ConditionExpression: 'attribute_not_exists(nodeId)' });
  }

  replace(record: MetadataRecord, expectedVersion: number) {
    return this.put(record, {
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    });
  }

  private put(record: MetadataRecord, condition: object): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { ...record, ...indexKeys(record) }, ...condition }),
      ),
    );
  }

  async get(nodeId: string) {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { nodeId }, ConsistentRead: true }),
    );
    return res.Item && recordOf(res.Item as Item);
  }

  async listByType(technology: Technology, page: { limit: number; next?: string }): Promise<Page<MetadataRecord>> {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byType',
        KeyConditionExpression: 'technology = :t',
        ExpressionAttributeValues: { ':t': technology },
        Limit: page.limit,
        ExclusiveStartKey: page.next
          ? decodeStartKey(page.next, tables.metadata, 'byType', { partition: technology })
          : undefined,
      }),
    );
    return {
      items: (res.Items ?? []).map((i) => recordOf(i as Item)),
      ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }),
    };
  }

  async listInCell(cell: string) {
    const items: MetadataRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byCell',
          KeyConditionExpression:
            cell.length > CELL_PRECISION ? 'cell = :c AND begins_with(geohash, :prefix)' : 'cell = :c',
          ExpressionAttributeValues: {
            ':c': cell.slice(0, CELL_PRECISION),
            ...(cell.length > CELL_PRECISION && { ':prefix': cell }),
          },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(res.Items ?? []).map((i) => recordOf(i as Item)));
      start = res.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
