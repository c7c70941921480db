// Command and dispatch log on DynamoDB (`tables.commands`).
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from './dynamo.js';
import type { CommandLog } from './ports.js';
import type { Ack } from './schemas.js';

export class DynamoCommandLog implements CommandLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  complete(correlationId: string, target: string, status: 'acked' | 'rejected', ack: Ack, at: number) {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { correlationId },
          UpdateExpression: 'SET #status = :status, #ack = :ack, completedAt = :at',
          ConditionExpression: 'attribute_exists(correlationId) AND #target = :target AND #status = :sent',
          ExpressionAttributeNames: { '#status': 'status', '#ack': 'ack', '#target': 'target' },
          ExpressionAttributeValues: { ':status': status, ':ack': ack, ':at': at, ':target': target, ':sent': 'sent' },
        }),
      ),
    );
  }
}
