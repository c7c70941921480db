// AWS IoT fleet provisioning's pre-provisioning hook: allows RegisterThing only for a serial on the allow-list.
// Env: ALLOW_LIST_TABLE.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { documentClient } from '../core/adapters.js';
import { logger } from '../core/common/logger.js';
import {
  DynamoAllowList,
  preProvisioningHook,
  type AllowList,
  type PreProvisioningResponse,
} from '../core/fleet/provisioning-hook.js';
import { tables } from '../core/contracts/tables.js';

let allowList: AllowList | undefined;

function allowListFromEnv(): AllowList {
  const table = process.env[tables.allowList.env];
  if (!table) throw new Error(`${tables.allowList.env} is not set`);
  return (allowList ??= new DynamoAllowList(documentClient(new DynamoDBClient({})), table));
}

export const handler = middy(async (event: unknown): Promise<PreProvisioningResponse> => {
  const { allowProvisioning, reason } = await preProvisioningHook(event, allowListFromEnv());
  if (!allowProvisioning) logger.warn('provisioning refused', { reason });
  return { allowProvisioning };
}).use(injectLambdaContext(logger));
