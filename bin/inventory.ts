// `npm run inventory -- <file.yaml> --table <InventoryTableName>`: loads the asset and site inventory (the DER gateway
// YAML) into a deployed stack's inventory table, replacing what was there. Uses the default AWS credentials.
// `--dry-run` says which rows it would create, replace and delete, and writes nothing.
// The local stack loads its inventory itself on start.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readFile } from 'node:fs/promises';
import { documentClient } from '../lambdas/core/adapters.js';
import { parseInventory } from '../lambdas/core/contracts/inventory.js';
import { DynamoInventoryStore } from '../lambdas/core/inventory/inventory-dynamodb.js';
import { loadInventoryFile } from '../lambdas/core/inventory/inventory-file.js';
import { commandLine, output, refuse } from './cli.js';

const USAGE = `usage: npm run inventory -- <inventory.yaml> --table <InventoryTableName stack output> [--dry-run] [--json]
  --table     the table (or VPP_INVENTORY_TABLE)
  --dry-run   say which rows it would create, replace and delete; write nothing
  --json      the result alone on stdout, as JSON`;
const { values, positionals } = commandLine(USAGE, {
  table: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
});
const file = positionals[0];
const table = values.table ?? process.env.VPP_INVENTORY_TABLE;
if (!file) refuse('an inventory file is required');
if (positionals.length > 1) refuse(`one inventory file at a time (got ${positionals.length})`);
if (!table) refuse('--table is required (or VPP_INVENTORY_TABLE)');
const store = new DynamoInventoryStore(documentClient(new DynamoDBClient({})), table);
if (values['dry-run']) {
  const inventory = parseInventory(await readFile(file, 'utf8'));
  if (!inventory.ok) throw new Error(`${file}: ${inventory.message}`);
  output({ table, dryRun: true, ...(await store.plan(inventory)) });
} else {
  output({ table, ...(await loadInventoryFile(file, store)) });
}
