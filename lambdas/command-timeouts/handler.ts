// Scheduled (EventBridge) Lambda, the platform's one-minute housekeeping: marks `sent` commands past their expiry
// `timed-out` (each recorded in the ledger), starts the scheduled fleet DR events whose time has come (their VENs sent
// their commands, lambdas/core/dr/event-lifecycle.ts), then settles the fleet DR events that ended more than the
// settlement grace ago (lambdas/core/dr/settlement.ts), each with its report CSV in the reports bucket. Env: the
// stores' (config.ts envSchema) and housekeepingEnvSchema.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { documentClient, ledgerStore } from '../core/adapters.js';
import { expireCommands } from '../core/commands/command-timeouts.js';
import { DynamoCommandLog } from '../core/commands/commands-dynamodb.js';
import { housekeepingEnvSchema, loadEnv, loadEnvOf } from '../core/common/config.js';
import { DynamoFleetEventStore } from '../core/dr/fleet-events-dynamodb.js';
import { logger } from '../core/common/logger.js';
import { businessMetrics } from '../core/common/metrics.js';
import { DynamoMetadataStore } from '../core/records/metadata-dynamodb.js';
import { S3ReportFiles } from '../core/dr/report-files-s3.js';
import { IotDataCommandPublisher } from '../core/commands/publisher-iot-data.js';
import { startDueEvents, type LifecyclePorts } from '../core/dr/event-lifecycle.js';
import { DynamoDeviceRegistry } from '../core/fleet/registry-dynamodb.js';
import { settleDueEvents, SETTLEMENT_GRACE_MS, type SettlementPorts } from '../core/dr/settlement.js';
import { telemetryStore } from '../core/timeseries/timeseries-store.js';

export type HousekeepingPorts = SettlementPorts &
  LifecyclePorts & { readonly settings: { readonly commandTimeoutSec: number } };

/**
 * One run: the command time-outs first (a failing settlement never holds them up), then the scheduled starts, then
 * the settlements (a failing start holds up neither; the run then fails).
 */
export async function housekeeping(
  ports: HousekeepingPorts,
  now = Date.now(),
  settlementGraceMs = SETTLEMENT_GRACE_MS,
) {
  const expired = await expireCommands(ports.commands, now, ports.ledger);
  businessMetrics.commandTimeouts(expired.length);
  if (expired.length > 0) logger.info('commands timed out', { count: expired.length, correlationIds: expired });
  const ctx = { now, timeoutSec: ports.settings.commandTimeoutSec, newId: randomUUID };
  const starting = await startDueEvents(ports, ctx).then(
    (ids) => ({ ids, error: undefined }),
    (error: Error) => ({ ids: [] as string[], error }),
  );
  if (starting.ids.length > 0)
    logger.info('scheduled events started', { count: starting.ids.length, eventIds: starting.ids });
  const settled = await settleDueEvents(ports, now, settlementGraceMs);
  if (settled.length > 0) logger.info('events settled', { count: settled.length, eventIds: settled });
  if (starting.error) throw starting.error;
  return { expired: expired.length, started: starting.ids.length, settled: settled.length };
}

let ports: HousekeepingPorts | undefined;

function portsFromEnv(): HousekeepingPorts {
  if (!ports) {
    const env = { ...loadEnv(), ...loadEnvOf(housekeepingEnvSchema) };
    const dynamodb = new DynamoDBClient({});
    const doc = documentClient(dynamodb);
    ports = {
      commands: new DynamoCommandLog(doc, env.COMMANDS_TABLE),
      ledger: ledgerStore(env, env.LEDGER_TABLE, dynamodb),
      fleetEvents: new DynamoFleetEventStore(doc, env.FLEET_EVENTS_TABLE, Date.now, env.ARCHIVE_RETENTION_DAYS),
      metadata: new DynamoMetadataStore(doc, env.METADATA_TABLE),
      telemetry: telemetryStore(env, doc),
      reports: new S3ReportFiles(new S3Client({}), env.REPORTS_BUCKET),
      registry: new DynamoDeviceRegistry(doc, env.DEVICES_TABLE),
      publisher: new IotDataCommandPublisher(new IoTDataPlaneClient({ endpoint: env.IOT_DATA_ENDPOINT })),
      settings: { commandTimeoutSec: env.COMMAND_TIMEOUT_SEC },
    };
  }
  return ports;
}

export const handler = middy(() => housekeeping(portsFromEnv())).use(injectLambdaContext(logger));
