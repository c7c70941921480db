// Scheduled (EventBridge, every 15 minutes) Lambda: the rollup pass (lambdas/core/analytics/rollup-pass.ts).
// Env: ROLLUPS_TABLE, INVENTORY_TABLE, DEVICES_TABLE, the time series (TIMESERIES_*), ARCHIVE_RETENTION_DAYS.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { documentClient, rollupStore } from '../core/adapters.js';
import { loadEnv, loadEnvOf, rollupsEnvSchema } from '../core/common/config.js';
import { DynamoInventoryStore } from '../core/inventory/inventory-dynamodb.js';
import { logger } from '../core/common/logger.js';
import { businessMetrics } from '../core/common/metrics.js';
import { DynamoDeviceRegistry } from '../core/fleet/registry-dynamodb.js';
import { rollupFleet, runRollupPass, type PassPorts } from '../core/analytics/rollup-pass.js';
import { telemetryStore } from '../core/timeseries/timeseries-store.js';

export async function rollupPass(ports: PassPorts, now = Date.now()) {
  const result = await runRollupPass(ports, now);
  businessMetrics.rollupLag(now - result.to);
  logger.info('rollup pass', {
    from: new Date(result.from).toISOString(),
    to: new Date(result.to).toISOString(),
    rows: result.rows,
    dirty: result.dirty,
  });
  return result;
}

let ports: PassPorts | undefined;

function portsFromEnv(): PassPorts {
  if (!ports) {
    const env = loadEnv();
    const own = loadEnvOf(rollupsEnvSchema);
    const doc = documentClient(new DynamoDBClient({}));
    const registry = new DynamoDeviceRegistry(doc, env.DEVICES_TABLE);
    const inventory = new DynamoInventoryStore(doc, own.INVENTORY_TABLE);
    ports = {
      telemetry: telemetryStore(env, doc),
      rollups: rollupStore(env, doc),
      fleet: () => rollupFleet(registry, inventory),
      timeZone: env.PORTFOLIO_TIME_ZONE ?? 'UTC',
    };
  }
  return ports;
}

export const handler = middy(() => rollupPass(portsFromEnv())).use(injectLambdaContext(logger));
