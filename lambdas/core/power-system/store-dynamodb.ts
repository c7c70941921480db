// The Winter River system state on DynamoDB (`tables.powerSystem`): one item (`pk` = `system`) holding every node's
// newest status, the engine's state, the recent events and the commands not yet published, written under a version
// condition. One item keeps a batch's update atomic; it holds a chain of a few hundred nodes (400 KB item limit).
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import type { PowerSystemRecord, PowerSystemStore } from './controller.js';

const KEY = { pk: 'system' };

export class DynamoPowerSystemStore implements PowerSystemStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<PowerSystemRecord | undefined> {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }));
    if (!res.Item) return undefined;
    const { pk: _pk, ...record } = res.Item;
    return record as PowerSystemRecord;
  }

  put(next: PowerSystemRecord, expected: number | undefined): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, ...next },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expected } }),
        }),
      ),
    );
  }
}
