// DynamoDB served locally by dynalite (pure JS, the DynamoDB wire API, data on disk under `.vpp/dynamodb`).
// It lacks TransactWriteItems, UpdateTimeToLive and PartiQL: the adapters use none of them.
// dynalite runs in a worker thread: its request handling and LevelDB work (about as much CPU per metering message
// as the rest of the stack together, see bench/REPORT.md) then use a second core instead of the broker's.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from '../../lambdas/core/tables.js';
import { startWorkerServer } from './worker-server.js';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDynamo(path: string): Promise<LocalDynamo> {
  const server = await startWorkerServer('dynalite', { path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = server.endpoint;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 5,
  });
  return {
    endpoint,
    client,
    ping: () => client.send(new ListTablesCommand({ Limit: 1 })).then(() => true, () => false),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * Creates the tables the stack would deploy, from the same definitions; existing tables are kept. Returns the
 * indexes (`table/index`) an existing table lacks: it predates them, and dynalite cannot add an index.
 */
export async function ensureTables(client: DynamoDBClient, tables: Record<string, TableDefinition>): Promise<string[]> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames);
  const missing: string[] = [];
  for (const [name, t] of Object.entries(tables)) {
    if (existing.has(name)) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      const have = new Set(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName));
      missing.push(...(t.indexes ?? []).filter((i) => !have.has(i.name)).map((i) => `${name}/${i.name}`));
      continue;
    }
    const keys = [t.partitionKey, t.sortKey, ...(t.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])];
    const input: CreateTableCommandInput = {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...new Set(keys.filter((k): k is string => !!k))].map((AttributeName) => ({
        AttributeName,
        AttributeType: t.numberKeys?.includes(AttributeName) ? 'N' : 'S',
      })),
      KeySchema: keySchema(t.partitionKey, t.sortKey),
      ...(t.indexes?.length && {
        GlobalSecondaryIndexes: t.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: keySchema(i.partitionKey, i.sortKey),
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    };
    await client.send(new CreateTableCommand(input));
  }
  return missing;
}

const keySchema = (partitionKey: string, sortKey?: string) => [
  { AttributeName: partitionKey, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
];
