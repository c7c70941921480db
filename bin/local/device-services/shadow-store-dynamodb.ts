// Shadow documents on DynamoDB: one item per thing, `{ thingName, document: <JSON string> }`.
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ShadowDocument, ShadowStore } from './shadow-service.js';

/** The table's key, for whoever creates it. */
export const SHADOW_TABLE = { partitionKey: 'thingName' } as const;

export class DynamoShadowStore implements ShadowStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(thingName: string): Promise<ShadowDocument | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { thingName }, ConsistentRead: true }),
    );
    const document: unknown = res.Item?.document;
    return typeof document === 'string' ? (JSON.parse(document) as ShadowDocument) : undefined;
  }

  async save(thingName: string, doc: ShadowDocument): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { thingName, document: JSON.stringify(doc) } }),
    );
  }

  async remove(thingName: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { thingName } }));
  }
}
