// DynamoDB served locally by dynalite (pure JS, the DynamoDB wire API, data on disk under `.vpp/dynamodb`).
// It lacks TransactWriteItems, UpdateTimeToLive and PartiQL: the adapters use none of them.
// dynalite runs in a worker thread: its request handling and LevelDB work (about as much CPU per metering message
// as the rest of the stack together, see bench/REPORT.md) then use a second core instead of the broker's.
// A proxy in that worker holds DynamoDB's rules that dynalite does not (dynamodb-rules.ts, docs/develop-local-aws-rules.md):
// eventually consistent reads and index queries lag behind writes; in fault mode, throttling and unprocessed items.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { fileURLToPath } from 'node:url';
import type { TableDefinition } from '../../../lambdas/core/contracts/tables.js';
import { awsRulesFromEnv, type AwsRules } from './aws-rules.js';
import { startWorkerServer } from './worker-server.js';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  ping(): Promise<boolean>;
  /** Takes the database down (its port refuses connections), as an outage would; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `rules`: from the environment by default (VPP_DYNAMODB_LAG_MS, VPP_AWS_FAULTS, VPP_AWS_FAULTS_SEED). */
export async function startDynamo(path: string, rules: AwsRules = awsRulesFromEnv()): Promise<LocalDynamo> {
  const proxy =
    rules.lagMs > 0 || rules.faults
      ? {
          file: fileURLToPath(new URL('./dynamodb-rules.ts', import.meta.url)),
          factory: 'dynamoRulesHandler',
          options: rules,
        }
      : undefined;
  const server = await startWorkerServer(
    'dynalite',
    { path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 },
    proxy,
  );
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
    ping: () =>
      client.send(new ListTablesCommand({ Limit: 1 })).then(
        () => true,
        () => false,
      ),
    stop: () => server.stop(),
    start: () => server.start(),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/**
 * Creates the tables the stack would deploy, from the same definitions; existing tables are kept. Returns what an
 * existing table lacks (`table` when its keys differ, `table/index` when an index is missing or keyed differently):
 * it predates the layout, and dynalite can neither change keys nor add an index.
 */
export async function ensureTables(client: DynamoDBClient, tables: Record<string, TableDefinition>): Promise<string[]> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames);
  const outdated: string[] = [];
  const created: string[] = [];
  for (const [name, t] of Object.entries(tables)) {
    if (existing.has(name)) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (!sameKeys(Table?.KeySchema, t.partitionKey, t.sortKey)) outdated.push(name);
      const have = new Map(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema]));
      for (const i of t.indexes ?? [])
        if (!sameKeys(have.get(i.name), i.partitionKey, i.sortKey)) outdated.push(`${name}/${i.name}`);
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
    created.push(name);
  }
  // dynalite answers CreateTable while the table is still CREATING, and refuses items until it is ACTIVE
  for (const name of created) await untilActive(client, name);
  return outdated;
}

async function untilActive(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`dynamodb: table ${name} is not active after 2 s`);
}

const sameKeys = (
  have: { AttributeName?: string; KeyType?: string }[] | undefined,
  partitionKey: string,
  sortKey?: string,
) =>
  JSON.stringify(have?.map((k) => [k.AttributeName, k.KeyType])) ===
  JSON.stringify(keySchema(partitionKey, sortKey).map((k) => [k.AttributeName, k.KeyType]));

const keySchema = (partitionKey: string, sortKey?: string) => [
  { AttributeName: partitionKey, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
];
