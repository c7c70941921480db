// Command and dispatch log on DynamoDB (`tables.commands`). Only commands still `sent` carry `pending` (`sent#07`,
// one of 16 shards by correlationId, so no one index partition takes every command), which keys the sparse
// `byDeadline` index the time-out sweep reads; every status change is conditional on `sent`, so an ACK and a
// time-out can never overwrite each other.
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import { ValidationError } from '../contracts/errors.js';
import { decodeToken, encodeToken } from '../common/page-token.js';
import type { AnyAck, CommandRecord, CommandStore, CompletedCommand } from './command-store.js';
import { SHARDS, ShardMerge, shardKey, shardKeys } from '../common/shards.js';

const PENDING = 'sent';
const iso = (ms: number) => new Date(ms).toISOString();

export class DynamoCommandLog implements CommandStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The command as it was comes back with the write (`ALL_OLD`): its op and send time, with no second read. */
  async complete(correlationId: string, target: string, status: 'acked' | 'rejected', ack: AnyAck, at: number) {
    let before: Record<string, unknown> | undefined;
    const done = await conditional(async () => {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { correlationId },
          UpdateExpression: 'SET #status = :status, #ack = :ack, completedAt = :at REMOVE pending',
          ConditionExpression: 'attribute_exists(correlationId) AND #target = :target AND #status = :sent',
          ExpressionAttributeNames: { '#status': 'status', '#ack': 'ack', '#target': 'target' },
          ExpressionAttributeValues: { ':status': status, ':ack': ack, ':at': at, ':target': target, ':sent': 'sent' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = res.Attributes;
    });
    return done && before ? { op: before.op as CompletedCommand['op'], sentAt: before.sentAt as number } : false;
  }

  async record(command: CommandRecord) {
    const { expiresAt, ...rest } = command;
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...rest,
          expiresAt: iso(expiresAt),
          ...(command.status === 'sent' && { pending: shardKey(PENDING, command.correlationId) }),
        },
        ConditionExpression: 'attribute_not_exists(correlationId)',
      }),
    );
  }

  /** Consistent: a caller polls a command it was just given the id of (the API's 202), which must not 404. */
  async get(correlationId: string): Promise<CommandRecord | undefined> {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { correlationId }, ConsistentRead: true }),
    );
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

  /** Oldest expiry first, the shards merged; the page token holds where each shard goes on. */
  async listDue(now: number, page: { limit: number; next?: string }) {
    const merge = new ShardMerge(
      shardKeys(PENDING),
      async (shard, startKey, limit) => {
        const res = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'byDeadline',
            KeyConditionExpression: 'pending = :pending AND expiresAt <= :now',
            ExpressionAttributeValues: { ':pending': shard, ':now': iso(now) },
            Limit: limit,
            ExclusiveStartKey: startKey,
          }),
        );
        return { items: res.Items ?? [], lastKey: res.LastEvaluatedKey };
      },
      (a, b) => ((a.expiresAt as string) < (b.expiresAt as string) ? -1 : 1),
      (i) => ({ correlationId: i.correlationId, pending: i.pending, expiresAt: i.expiresAt }),
      Math.ceil((1.5 * page.limit) / SHARDS) + 1,
      page.next ? shardsOf(page.next) : undefined,
    );
    const items = (await merge.take(page.limit)).map((i) => ({
      correlationId: i.correlationId as string,
      expiresAt: Date.parse(i.expiresAt as string),
    }));
    return { items, ...(!merge.exhausted && { next: encodeToken({ shards: merge.resume() }) }) };
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

function shardsOf(token: string): (Record<string, unknown> | null)[] {
  const { shards } = decodeToken<{ shards?: unknown }>(token);
  if (
    !Array.isArray(shards) ||
    shards.length !== SHARDS ||
    !shards.every((s) => s === null || (typeof s === 'object' && !Array.isArray(s)))
  ) {
    throw new ValidationError('next', 'next: not a page token this API issued');
  }
  return shards as (Record<string, unknown> | null)[];
}
