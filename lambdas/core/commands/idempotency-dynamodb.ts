// Idempotency keys on DynamoDB (`tables.idempotency`): one item per caller and key, claimed by a conditional put,
// so of any number of concurrent requests with one key exactly one runs. TTL deletes an item up to days late, so
// `expiresAt` is also part of every condition and read.
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from './idempotency-store.js';

/** How long a key is kept from its first request. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  claim(pk: string, owner: string, fingerprint: string, now: number, staleAfterMs: number) {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk,
            owner,
            fingerprint,
            expiresAt: Math.floor((now + IDEMPOTENCY_TTL_MS) / 1000),
            lockedUntil: now + staleAfterMs,
          },
          // new, expired, or the same request left unfinished by a caller that stopped answering
          ConditionExpression:
            'attribute_not_exists(pk) OR expiresAt < :nowSec OR (attribute_not_exists(statusCode) AND lockedUntil < :now AND fingerprint = :fingerprint)',
          ExpressionAttributeValues: { ':nowSec': Math.floor(now / 1000), ':now': now, ':fingerprint': fingerprint },
        }),
      ),
    );
  }

  async get(pk: string, now: number): Promise<IdempotencyClaim | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
    );
    if (!Item || (Item.expiresAt as number) < Math.floor(now / 1000)) return undefined;
    const response: StoredResponse | undefined =
      typeof Item.statusCode === 'number' ? { statusCode: Item.statusCode, body: Item.body as string } : undefined;
    return { fingerprint: Item.fingerprint as string, ...(response && { response }) };
  }

  async complete(pk: string, owner: string, response: StoredResponse) {
    await conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk },
          UpdateExpression: 'SET statusCode = :statusCode, #body = :body REMOVE lockedUntil',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#body': 'body' },
          ExpressionAttributeValues: { ':statusCode': response.statusCode, ':body': response.body, ':owner': owner },
        }),
      ),
    );
  }

  async release(pk: string, owner: string) {
    await conditional(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk },
          ConditionExpression: '#owner = :owner AND attribute_not_exists(statusCode)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      ),
    );
  }
}
