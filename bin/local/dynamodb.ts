// DynamoDB served locally by dynalite (pure JS, the DynamoDB wire API, data on disk under `.vpp/dynamodb`).
// It lacks TransactWriteItems, UpdateTimeToLive and PartiQL: the adapters use none of them.
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import type { TableDefinition } from '../../lambdas/core/tables.js';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDynamo(path: string): Promise<LocalDynamo> {
  const server: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
      server.close();
      await once(server, 'close');
    },
  };
}

/** Creates the tables the stack would deploy, from the same definitions; existing tables are kept. */
export async function ensureTables(client: DynamoDBClient, tables: Record<string, TableDefinition>): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames);
  for (const [name, t] of Object.entries(tables)) {
    if (existing.has(name)) continue;
    const keys = [t.partitionKey, t.sortKey, ...(t.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])];
    const input: CreateTableCommandInput = {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...new Set(keys.filter((k): k is string => !!k))].map((AttributeName) => ({
        AttributeName,
        AttributeType: 'S',
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
}

const keySchema = (partitionKey: string, sortKey?: string) => [
  { AttributeName: partitionKey, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
];
