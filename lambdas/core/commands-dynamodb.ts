// Command and dispatch log on DynamoDB (`tables.commands`). Only commands still `sent` carry `pending`, which keys
// the sparse `byDeadline` index the time-out sweep reads; every status change is conditional on `sent`, so an ACK
// and a time-out can never overwrite each other.
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from './dynamo.js';
import { decodeToken, encodeToken } from './page-token.js';
import type { CommandRecord, CommandStore } from './ports.js';
import type { Ack } from './schemas.js';

const PENDING = 'sent';
const iso = (ms: number) => new Date(ms).toISOString();

export class DynamoCommandLog implements CommandStore {
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
          UpdateExpression: 'SET #status = :status, #ack = :ack, completedAt = :at REMOVE pending',
          ConditionExpression: 'attribute_exists(correlationId) AND #target = :target AND #status = :sent',
          ExpressionAttributeNames: { '#status': 'status', '#ack': 'ack', '#target': 'target' },
          ExpressionAttributeValues: { ':status': status, ':ack': ack, ':at': at, ':target': target, ':sent': 'sent' },
        }),
      ),
    );
  }

  async record(command: CommandRecord) {
    const { expiresAt, ...rest } = command;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...rest, expiresAt: iso(expiresAt), ...(command.status === 'sent' && { pending: PENDING }) },
        ConditionExpression: 'attribute_not_exists(correlationId)',
      }),
    );
  }

  async get(correlationId: string): Promise<CommandRecord | undefined> {
    const res = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { correlationId } }));
    if (!res.Item) return undefined;
    const { pending: _pending, expiresAt, ...rest } = res.Item;
    return { ...rest, expiresAt: Date.parse(expiresAt as string) } as CommandRecord;
  }

  async discard(correlationId: string) {
    await conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { correlationId },
          ConditionExpression: '#status = :sent',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sent': 'sent' },
        }),
      ),
    );
  }

  async listDue(now: number, page: { limit: number; next?: string }) {
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byDeadline',
        KeyConditionExpression: 'pending = :pending AND expiresAt <= :now',
        ExpressionAttributeValues: { ':pending': PENDING, ':now': iso(now) },
        Limit: page.limit,
        ExclusiveStartKey: page.next ? decodeToken(page.next) : undefined,
      }),
    );
    const items = (res.Items ?? []).map((i) => ({
      correlationId: i.correlationId as string,
      expiresAt: Date.parse(i.expiresAt as string),
    }));
    return { items, ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }) };
  }

  timeOut(correlationId: string, at: number) {
    return conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { correlationId },
          UpdateExpression: 'SET #status = :timedOut, completedAt = :at REMOVE pending',
          ConditionExpression: '#status = :sent',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':timedOut': 'timed-out', ':at': at, ':sent': 'sent' },
        }),
      ),
    );
  }
}
