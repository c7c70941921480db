// `npm run inventory -- <file.yaml> --table <InventoryTableName>`: loads the asset and site inventory (seed 002
// YAML) into a deployed stack's inventory table, replacing what was there. Uses the default AWS credentials.
// The local stack loads its inventory itself on start.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { documentClient } from '../lambdas/core/adapters.js';
import { DynamoInventoryStore } from '../lambdas/core/inventory-dynamodb.js';
import { loadInventoryFile } from '../lambdas/core/inventory-file.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { table: { type: 'string' } } });
const file = positionals[0];
const table = values.table ?? process.env.VPP_INVENTORY_TABLE;
if (!file || !table) {
  console.error('usage: npm run inventory -- <inventory.yaml> --table <InventoryTableName stack output>');
  process.exit(2);
}
const store = new DynamoInventoryStore(documentClient(new DynamoDBClient({})), table);
const loaded = await loadInventoryFile(file, store);
console.log(JSON.stringify({ table, ...loaded }));
