// The local DynamoDB holds DynamoDB's rules that dynalite alone does not, through the real SDK client: eventually
// consistent reads and every global secondary index query see a write only after the lag, consistent reads at once;
// in fault mode batch calls leave items unprocessed (and do not apply them) and calls are throttled as AWS answers.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FAULT_RATES, awsRulesFromEnv } from '../../bin/local/aws/aws-rules.js';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';

const LAG = 1500; // generous: the reads right after a write must all fall within it on a loaded machine
const TABLE = {
  env: 'T',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ name: 'byKind', partitionKey: 'kind', sortKey: 'pk' }],
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let lagging: LocalDynamo;
let faulty: LocalDynamo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-aws-rules-'));
  lagging = await startDynamo(join(dir, 'a'), { lagMs: LAG });
  faulty = await startDynamo(join(dir, 'b'), {
    lagMs: 0,
    faults: { ...DEFAULT_FAULT_RATES, unprocessed: 0.5, dynamodbThrottle: 0.3, seed: 7 },
  });
  await ensureTables(lagging.client, { tab: TABLE });
  await ensureTables(faulty.client, { tab: TABLE });
});

afterAll(async () => {
  await lagging?.close();
  await faulty?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('eventual consistency', () => {
  const db = () => documentClient(lagging.client);

  it('a new item: eventually consistent GetItem, Query and BatchGetItem miss it within the lag, consistent reads see it', async () => {
    const started = Date.now();
    await db().send(new PutCommand({ TableName: 'tab', Item: { pk: 'a', sk: '1', kind: 'x', v: 1 } }));
    const ec = await db().send(new GetCommand({ TableName: 'tab', Key: { pk: 'a', sk: '1' } }));
    const strong = await db().send(
      new GetCommand({ TableName: 'tab', Key: { pk: 'a', sk: '1' }, ConsistentRead: true }),
    );
    const query = await db().send(
      new QueryCommand({
        TableName: 'tab',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'a' },
      }),
    );
    const strongQuery = await db().send(
      new QueryCommand({
        TableName: 'tab',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'a' },
        ConsistentRead: true,
      }),
    );
    const index = await db().send(
      new QueryCommand({
        TableName: 'tab',
        IndexName: 'byKind',
        KeyConditionExpression: 'kind = :k',
        ExpressionAttributeValues: { ':k': 'x' },
      }),
    );
    const batch = await db().send(new BatchGetCommand({ RequestItems: { tab: { Keys: [{ pk: 'a', sk: '1' }] } } }));
    expect(Date.now() - started).toBeLessThan(LAG); // the reads above ran within the lag
    expect(ec.Item).toBeUndefined();
    expect(strong.Item).toEqual({ pk: 'a', sk: '1', kind: 'x', v: 1 });
    expect(query.Items).toEqual([]);
    expect(query.Count).toBe(0);
    expect(strongQuery.Items).toEqual([{ pk: 'a', sk: '1', kind: 'x', v: 1 }]);
    expect(index.Items).toEqual([]);
    expect(batch.Responses?.tab).toEqual([]);
    await sleep(LAG + 50);
    expect((await db().send(new GetCommand({ TableName: 'tab', Key: { pk: 'a', sk: '1' } }))).Item).toEqual({
      pk: 'a',
      sk: '1',
      kind: 'x',
      v: 1,
    });
    expect((await db().send(new ScanCommand({ TableName: 'tab' }))).Items).toEqual([
      { pk: 'a', sk: '1', kind: 'x', v: 1 },
    ]);
  });

  it('an updated item: eventually consistent reads return the image before, projected; writes within the lag show one after another', async () => {
    await db().send(
      new PutCommand({ TableName: 'tab', Item: { pk: 'b', sk: '1', kind: 'x', v: 1, m: { a: 1, b: 2 } } }),
    );
    await sleep(LAG + 50);
    await db().send(
      new UpdateCommand({
        TableName: 'tab',
        Key: { pk: 'b', sk: '1' },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': 2 },
      }),
    );
    await sleep(LAG / 2);
    const updated = await db().send(
      new UpdateCommand({
        TableName: 'tab',
        Key: { pk: 'b', sk: '1' },
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': 3 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(updated.Attributes?.v).toBe(3); // the client's ReturnValues are kept
    const projected = await db().send(
      new GetCommand({
        TableName: 'tab',
        Key: { pk: 'b', sk: '1' },
        ProjectionExpression: '#v, m.b',
        ExpressionAttributeNames: { '#v': 'v' },
      }),
    );
    expect(projected.Item).toEqual({ v: 1, m: { b: 2 } });
    const scan = await db().send(
      new ScanCommand({ TableName: 'tab', FilterExpression: 'pk = :b', ExpressionAttributeValues: { ':b': 'b' } }),
    );
    expect(scan.Items?.map((i) => i.v)).toEqual([1]);
    await sleep(LAG / 2 + 50); // the first update is visible, the second not yet
    expect((await db().send(new GetCommand({ TableName: 'tab', Key: { pk: 'b', sk: '1' } }))).Item?.v).toBe(2);
    await sleep(LAG / 2 + 50);
    expect((await db().send(new GetCommand({ TableName: 'tab', Key: { pk: 'b', sk: '1' } }))).Item?.v).toBe(3);
  });

  it('an item moved to other index keys or deleted: the index query and reads show the image before', async () => {
    await db().send(new PutCommand({ TableName: 'tab', Item: { pk: 'c', sk: '1', kind: 'y', v: 1 } }));
    await db().send(new PutCommand({ TableName: 'tab', Item: { pk: 'd', sk: '1', kind: 'y', v: 1 } }));
    await sleep(LAG + 50);
    await db().send(new PutCommand({ TableName: 'tab', Item: { pk: 'c', sk: '1', kind: 'z', v: 2 } }));
    await db().send(new DeleteCommand({ TableName: 'tab', Key: { pk: 'd', sk: '1' } }));
    const z = await db().send(
      new QueryCommand({
        TableName: 'tab',
        IndexName: 'byKind',
        KeyConditionExpression: 'kind = :k',
        ExpressionAttributeValues: { ':k': 'z' },
      }),
    );
    expect(z.Items).toEqual([]);
    const d = await db().send(
      new BatchGetCommand({
        RequestItems: {
          tab: {
            Keys: [
              { pk: 'd', sk: '1' },
              { pk: 'c', sk: '1' },
            ],
          },
        },
      }),
    );
    expect(d.Responses?.tab?.map((i) => [i.pk, i.kind]).sort()).toEqual([
      ['c', 'y'],
      ['d', 'y'],
    ]);
    expect(
      (await db().send(new GetCommand({ TableName: 'tab', Key: { pk: 'd', sk: '1' }, ConsistentRead: true }))).Item,
    ).toBeUndefined();
    await sleep(LAG + 50);
    const later = await db().send(
      new QueryCommand({
        TableName: 'tab',
        IndexName: 'byKind',
        KeyConditionExpression: 'kind = :k',
        ExpressionAttributeValues: { ':k': 'z' },
      }),
    );
    expect(later.Items?.map((i) => i.pk)).toEqual(['c']);
  });

  it('a batch write lags as single writes do; a consistent read on an index is refused as in AWS', async () => {
    await db().send(
      new BatchWriteCommand({
        RequestItems: {
          tab: [
            { PutRequest: { Item: { pk: 'e', sk: '1', kind: 'w' } } },
            { PutRequest: { Item: { pk: 'e', sk: '2', kind: 'w' } } },
          ],
        },
      }),
    );
    expect(
      (
        await db().send(
          new QueryCommand({
            TableName: 'tab',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'e' },
          }),
        )
      ).Items,
    ).toEqual([]);
    await expect(
      db().send(
        new QueryCommand({
          TableName: 'tab',
          IndexName: 'byKind',
          KeyConditionExpression: 'kind = :k',
          ExpressionAttributeValues: { ':k': 'w' },
          ConsistentRead: true,
        }),
      ),
    ).rejects.toThrow('Consistent reads are not supported on global secondary indexes');
    await sleep(LAG + 50);
    expect(
      (
        await db().send(
          new QueryCommand({
            TableName: 'tab',
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'e' },
          }),
        )
      ).Count,
    ).toBe(2);
  });
});

describe('fault mode', () => {
  it('BatchWriteItem leaves items unprocessed, and those are not written', async () => {
    const db = documentClient(faulty.client);
    const items = Array.from({ length: 25 }, (_, i) => ({ pk: 'u', sk: String(i).padStart(2, '0') }));
    const res = await db.send(
      new BatchWriteCommand({ RequestItems: { tab: items.map((Item) => ({ PutRequest: { Item } })) } }),
    );
    const left = (res.UnprocessedItems?.tab ?? []).map((r) => r.PutRequest!.Item!.sk as string);
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBeLessThan(25);
    const stored = await db.send(
      new QueryCommand({
        TableName: 'tab',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'u' },
        ConsistentRead: true,
      }),
    );
    const storedSks = (stored.Items ?? []).map((i) => i.sk as string);
    expect(storedSks.length + left.length).toBe(25);
    expect(storedSks.filter((sk) => left.includes(sk))).toEqual([]);
  });

  it("BatchGetItem leaves keys unprocessed with the request's own parameters", async () => {
    const db = documentClient(faulty.client);
    const keys = Array.from({ length: 25 }, (_, i) => ({ pk: 'u', sk: String(i).padStart(2, '0') }));
    const res = await db.send(
      new BatchGetCommand({ RequestItems: { tab: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'sk' } } }),
    );
    const left = res.UnprocessedKeys?.tab;
    expect(left?.Keys?.length).toBeGreaterThan(0);
    expect(left?.ConsistentRead).toBe(true);
    expect(left?.ProjectionExpression).toBe('sk');
  });

  it('throttles with the status and body DynamoDB sends, the same calls in every run with one seed', async () => {
    const run = async () => {
      const client = new DynamoDBClient({
        endpoint: faulty.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
        maxAttempts: 1,
      });
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          await client.send(new PutItemCommand({ TableName: 'tab', Item: { pk: { S: 'th' }, sk: { S: String(i) } } }));
          outcomes.push('ok');
        } catch (err) {
          const e = err as Error & { $metadata: { httpStatusCode: number } };
          expect(e.name).toBe('ProvisionedThroughputExceededException');
          expect(e.$metadata.httpStatusCode).toBe(400);
          expect(e.message).toMatch(/^Throughput exceeds the current capacity of your table or index/);
          outcomes.push('throttled');
        }
      }
      client.destroy();
      return outcomes;
    };
    const first = await run();
    expect(first.filter((o) => o === 'throttled').length).toBeGreaterThan(3);
    expect(first.filter((o) => o === 'ok').length).toBeGreaterThan(10);
    // the same seed on a fresh store decides the same way
    const again = await startDynamo(join(dir, 'c'), {
      lagMs: 0,
      faults: { ...DEFAULT_FAULT_RATES, unprocessed: 0.5, dynamodbThrottle: 0.3, seed: 7 },
    });
    try {
      await ensureTables(again.client, { tab: TABLE });
      const client = new DynamoDBClient({
        endpoint: again.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
        maxAttempts: 1,
      });
      const second: string[] = [];
      for (let i = 0; i < 40; i++) {
        second.push(
          await client
            .send(new PutItemCommand({ TableName: 'tab', Item: { pk: { S: 'th' }, sk: { S: String(i) } } }))
            .then(
              () => 'ok',
              () => 'throttled',
            ),
        );
      }
      client.destroy();
      expect(second).toEqual(first);
    } finally {
      await again.close();
    }
  });
});

describe('switches', () => {
  it('reads the lag and the fault mode from the environment, refusing what it cannot read', () => {
    expect(awsRulesFromEnv({})).toEqual({ lagMs: 300 });
    expect(awsRulesFromEnv({ VPP_DYNAMODB_LAG_MS: '0' })).toEqual({ lagMs: 0 });
    expect(awsRulesFromEnv({ VPP_AWS_FAULTS: '1', VPP_AWS_FAULTS_SEED: '9' }).faults).toEqual({
      ...DEFAULT_FAULT_RATES,
      seed: 9,
    });
    expect(() => awsRulesFromEnv({ VPP_DYNAMODB_LAG_MS: 'soon' })).toThrow('VPP_DYNAMODB_LAG_MS');
    expect(() => awsRulesFromEnv({ VPP_AWS_FAULTS: 'yes' })).toThrow('VPP_AWS_FAULTS');
  });
});
