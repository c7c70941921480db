// Scheduled (EventBridge) Lambda, the platform's one-minute housekeeping: marks `sent` commands past their expiry
// `timed-out` (each recorded in the ledger), then settles the fleet DR events that ended more than the settlement
// grace ago (lambdas/core/dr/settlement.ts), each with its report CSV in the reports bucket. Env: the stores' (config.ts
// envSchema) and housekeepingEnvSchema.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import { settleDueEvents, SETTLEMENT_GRACE_MS, type SettlementPorts } from '../core/dr/settlement.js';
import { telemetryStore } from '../core/timeseries/timeseries-store.js';

/** One run: the command time-outs first (a failing settlement never holds them up), then the settlements. */
export async function housekeeping(ports: SettlementPorts, now = Date.now(), settlementGraceMs = SETTLEMENT_GRACE_MS) {
  const expired = await expireCommands(ports.commands, now, ports.ledger);
  businessMetrics.commandTimeouts(expired.length);
  if (expired.length > 0) logger.info('commands timed out', { count: expired.length, correlationIds: expired });
  const settled = await settleDueEvents(ports, now, settlementGraceMs);
  if (settled.length > 0) logger.info('events settled', { count: settled.length, eventIds: settled });
  return { expired: expired.length, settled: settled.length };
}

let ports: SettlementPorts | undefined;

function portsFromEnv(): SettlementPorts {
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
    };
  }
  return ports;
}

export const handler = middy(() => housekeeping(portsFromEnv())).use(injectLambdaContext(logger));
