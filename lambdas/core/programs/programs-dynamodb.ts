// DR programs on DynamoDB (`tables.programs`): one item per program, the document as the API returns it.
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../common/dynamo.js';
import { decodeToken, encodeToken, refuseToken } from '../common/page-token.js';
import { PROGRAM_ID, type Program } from '../contracts/programs.js';
import type { ProgramStore } from './program-store.js';

const ifVersion = (expected: number) => ({
  ConditionExpression: '#version = :expected',
  ExpressionAttributeNames: { '#version': 'version' },
  ExpressionAttributeValues: { ':expected': expected },
});

const recordOf = ({ programId: _id, ...rest }: Record<string, unknown>) => rest as unknown as Program;

export class DynamoProgramStore implements ProgramStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  create(program: Program) {
    return this.put(program, { ConditionExpression: 'attribute_not_exists(programId)' });
  }

  replace(program: Program, expectedVersion: number) {
    return this.put(program, ifVersion(expectedVersion));
  }

  delete(programId: string, expectedVersion: number) {
    return conditional(() =>
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { programId }, ...ifVersion(expectedVersion) }),
      ),
    );
  }

  private put(program: Program, condition: object) {
    return conditional(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { programId: program.program_id, ...program },
          ...condition,
        }),
      ),
    );
  }

  async get(programId: string) {
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { programId }, ConsistentRead: true }),
    );
    return res.Item && recordOf(res.Item);
  }

  async list(page: { limit: number; next?: string }) {
    const start = page.next ? decodeToken<{ programId?: unknown }>(page.next) : undefined;
    if (
      start &&
      (typeof start.programId !== 'string' || !PROGRAM_ID.test(start.programId) || Object.keys(start).length !== 1)
    )
      refuseToken('not a key of this list');
    const res = await this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: page.limit,
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    return {
      items: (res.Items ?? []).map(recordOf),
      ...(res.LastEvaluatedKey && { next: encodeToken(res.LastEvaluatedKey) }),
    };
  }
}
