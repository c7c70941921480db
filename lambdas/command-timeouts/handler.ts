// Scheduled (EventBridge) Lambda: marks `sent` commands past their expiry `timed-out`, and records each in the ledger.
// Env: COMMANDS_TABLE, LEDGER_TABLE, ARCHIVE_RETENTION_DAYS.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { documentClient, ledgerStore } from '../core/adapters.js';
import { expireCommands } from '../core/command-timeouts.js';
import { DynamoCommandLog } from '../core/commands-dynamodb.js';
import { commandTimeoutsEnvSchema, loadEnvOf } from '../core/config.js';
import { logger } from '../core/logger.js';
import type { LedgerStore } from '../core/ledger.js';
import type { CommandStore } from '../core/ports.js';

export async function sweepCommands(commands: CommandStore, ledger?: LedgerStore, now = Date.now()) {
  const expired = await expireCommands(commands, now, ledger);
  if (expired.length > 0) logger.info('commands timed out', { count: expired.length, correlationIds: expired });
  return { expired: expired.length };
}

let stores: { commands: CommandStore; ledger: LedgerStore } | undefined;

function storesFromEnv() {
  if (!stores) {
    const env = loadEnvOf(commandTimeoutsEnvSchema);
    const dynamodb = new DynamoDBClient({});
    stores = { commands: new DynamoCommandLog(documentClient(dynamodb), env.COMMANDS_TABLE), ledger: ledgerStore(env, env.LEDGER_TABLE, dynamodb) };
  }
  return stores;
}

export const handler = middy(() => {
  const { commands, ledger } = storesFromEnv();
  return sweepCommands(commands, ledger);
}).use(injectLambdaContext(logger));
