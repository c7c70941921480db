// Scheduled (EventBridge) Lambda: marks `sent` commands past their expiry `timed-out`. Env: COMMANDS_TABLE.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { documentClient } from '../core/adapters.js';
import { expireCommands } from '../core/command-timeouts.js';
import { DynamoCommandLog } from '../core/commands-dynamodb.js';
import { commandTimeoutsEnvSchema, loadEnvOf } from '../core/config.js';
import { logger } from '../core/logger.js';
import type { CommandStore } from '../core/ports.js';

export async function sweepCommands(commands: CommandStore, now = Date.now()) {
  const expired = await expireCommands(commands, now);
  if (expired.length > 0) logger.info('commands timed out', { count: expired.length, correlationIds: expired });
  return { expired: expired.length };
}

let commands: CommandStore | undefined;

function commandsFromEnv(): CommandStore {
  if (!commands) {
    const env = loadEnvOf(commandTimeoutsEnvSchema);
    commands = new DynamoCommandLog(documentClient(new DynamoDBClient({})), env.COMMANDS_TABLE);
  }
  return commands;
}

export const handler = middy(() => sweepCommands(commandsFromEnv())).use(injectLambdaContext(logger));
