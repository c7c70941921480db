// Builds the ports once per process from validated config. The local stack passes its own endpoints.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCommandLog } from './commands-dynamodb.js';
import { loadEnv, type ApiEnv, type Env } from './config.js';
import { limitErrorSink } from './error-sink-limit.js';
import { teeErrorSink } from './error-sink-tee.js';
import { DynamoEventHistory } from './events-dynamodb.js';
import { DynamoFleetEventStore } from './fleet-events-dynamodb.js';
import { DynamoInventoryStore } from './inventory-dynamodb.js';
import type {
  CommandStore,
  ErrorSink,
  FleetEventStore,
  IngestPorts,
  InventoryStore,
  RefusalLog,
  TelemetryStore,
} from './ports.js';
import { DynamoRefusalLog } from './refusals-dynamodb.js';
import { DynamoDeviceRegistry } from './registry-dynamodb.js';
import { DynamoTelemetryStore } from './timeseries-dynamodb.js';
import { TimestreamTelemetryStore } from './timeseries-timestream.js';

export interface Ports extends IngestPorts {
  readonly errors: ErrorSink;
}

export function documentClient(dynamodb: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
}

export function buildIngestPorts(env: Env, dynamodb: DynamoDBClient): IngestPorts {
  const doc = documentClient(dynamodb);
  return {
    telemetry: telemetryStore(env, doc),
    registry: new DynamoDeviceRegistry(doc, env.DEVICES_TABLE),
    events: new DynamoEventHistory(doc, env.EVENTS_TABLE),
    commands: new DynamoCommandLog(doc, env.COMMANDS_TABLE),
  };
}

/** The command log, inventory, fleet events and refusal log the operator API and the time-out sweep use. */
export function buildCommandStores(
  env: Pick<Env, 'COMMANDS_TABLE'> & Pick<ApiEnv, 'INVENTORY_TABLE' | 'FLEET_EVENTS_TABLE' | 'REFUSALS_TABLE'>,
  dynamodb: DynamoDBClient,
): { commands: CommandStore; inventory: InventoryStore; fleetEvents: FleetEventStore; refusals: RefusalLog } {
  const doc = documentClient(dynamodb);
  return {
    commands: new DynamoCommandLog(doc, env.COMMANDS_TABLE),
    inventory: new DynamoInventoryStore(doc, env.INVENTORY_TABLE),
    fleetEvents: new DynamoFleetEventStore(doc, env.FLEET_EVENTS_TABLE),
    refusals: new DynamoRefusalLog(doc, env.REFUSALS_TABLE),
  };
}

function telemetryStore(env: Env, doc: DynamoDBDocumentClient): TelemetryStore {
  if (env.TIMESERIES_BACKEND === 'dynamodb') {
    return new DynamoTelemetryStore({ client: doc, tableName: env.TIMESERIES_TABLE!, retentionDays: env.RETENTION_DAYS });
  }
  return new TimestreamTelemetryStore({
    writeClient: new TimestreamWriteClient({}),
    queryClient: new TimestreamQueryClient({}),
    databaseName: env.TIMESTREAM_DATABASE!,
  });
}

/** The dead-letter queue as the error sink: one JSON message per rejected input. */
export class SqsErrorSink implements ErrorSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async reject(rejection: Parameters<ErrorSink['reject']>[0]) {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ ...rejection, at: new Date().toISOString() }),
      }),
    );
  }
}

let lambdaPorts: Ports | undefined;

/** The ports of a deployed Lambda, built on first use from its environment. */
export function portsFromEnv(): Ports {
  if (!lambdaPorts) {
    const env = loadEnv();
    if (!env.ERROR_QUEUE_URL) throw new Error('Invalid Lambda environment: ERROR_QUEUE_URL is required');
    if (!env.REFUSALS_TABLE) throw new Error('Invalid Lambda environment: REFUSALS_TABLE is required');
    const dynamodb = new DynamoDBClient({});
    lambdaPorts = {
      ...buildIngestPorts(env, dynamodb),
      errors: limitErrorSink(
        teeErrorSink(new SqsErrorSink(new SQSClient({}), env.ERROR_QUEUE_URL), new DynamoRefusalLog(documentClient(dynamodb), env.REFUSALS_TABLE)),
      ),
    };
  }
  return lambdaPorts;
}
