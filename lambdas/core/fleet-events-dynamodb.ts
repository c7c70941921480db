// Fleet demand-response events on DynamoDB (`tables.fleetEvents`): one item per event, written once.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from './dynamo.js';
import type { FleetEventRecord, FleetEventStore } from './ports.js';

export class DynamoFleetEventStore implements FleetEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  create(event: FleetEventRecord) {
    return conditional(() =>
      this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { ...event }, ConditionExpression: 'attribute_not_exists(eventId)' }),
      ),
    );
  }

  async get(eventId: string) {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { eventId } }));
    return res.Item as FleetEventRecord | undefined;
  }
}
