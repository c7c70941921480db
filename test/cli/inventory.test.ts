// `npm run inventory` loads the DER gateway YAML into an inventory table through the real DynamoDB client;
// here the table is dynalite's, reached through the SDK's standard endpoint variable.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { tables } from '../../lambdas/core/contracts/tables.js';

const run = promisify(execFile);
let dir: string;
let dynamo: LocalDynamo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-inv-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { 'vpp-inventory': tables.inventory });
});
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  ...process.env,
  AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});

// the scans read consistently: they check what the tool just wrote (or did not), not when a reader sees it
it('loads every site and asset of the file, and says so on its last line', async () => {
  const { stdout } = await run(
    'npx',
    ['tsx', 'bin/inventory.ts', 'device/inventory.example.yaml', '--table', 'vpp-inventory'],
    { env: env() },
  );
  expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ table: 'vpp-inventory', sites: 2, assets: 7 });
  const items = (
    await documentClient(dynamo.client).send(new ScanCommand({ TableName: 'vpp-inventory', ConsistentRead: true }))
  ).Items!;
  expect(items.map((i) => `${i.kind}:${i.id}`).sort()).toEqual([
    'asset:gt-bess-a',
    'asset:gt-bess-b',
    'asset:gt-bess-c',
    'asset:mx-bess-1',
    'asset:mx-ev-1',
    'asset:mx-pv-1',
    'asset:mx-wind-1',
    'site:site-gt',
    'site:site-mx',
  ]);
});

it('refuses a file that is not an inventory, naming the field, and leaves the table as it was', async () => {
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'sites:\n  - site_name: no id\n');
  await expect(
    run('npx', ['tsx', 'bin/inventory.ts', bad, '--table', 'vpp-inventory'], { env: env() }),
  ).rejects.toThrow(/site_id/);
  const items = (
    await documentClient(dynamo.client).send(new ScanCommand({ TableName: 'vpp-inventory', ConsistentRead: true }))
  ).Items!;
  expect(items).toHaveLength(9);
});
