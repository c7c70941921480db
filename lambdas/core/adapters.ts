// Builds the ports once per process from validated config. The local stack passes its own endpoints.
// A Lambda's bundle carries what its handler asks for here: the time-series adapter (timeseries-store.ts) only in
// the handlers that write or read time series, and no client of a store it does not use.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCommandLog } from './commands/commands-dynamodb.js';
import { apiEnvSchema, loadEnv, loadEnvOf, type ApiEnv, type Env, type PowerEnv } from './common/config.js';
import { limitErrorSink } from './ingest/error-sink-limit.js';
import { teeErrorSink } from './ingest/error-sink-tee.js';
import { DynamoEventHistory } from './commands/events-dynamodb.js';
import { DynamoLedgerStore } from './records/ledger-dynamodb.js';
import { DynamoFleetEventStore } from './dr/fleet-events-dynamodb.js';
import { cachedInventory } from './inventory/inventory-cache.js';
import { DynamoInventoryStore } from './inventory/inventory-dynamodb.js';
import type { CommandPublisher, CommandStore } from './commands/command-store.js';
import type { ErrorSink, IngestPorts, Ports, RefusalLog } from './ingest/ingest-ports.js';
import type { FleetEventStore } from './dr/fleet-event-store.js';
import type { InventoryStore } from './inventory/inventory-store.js';
import type { TelemetryStore } from './timeseries/telemetry-store.js';
import { DynamoRefusalLog } from './ingest/refusals-dynamodb.js';
import { markingLateSamples } from './analytics/rollup-pass.js';
import { DynamoRollupStore } from './analytics/rollups-dynamodb.js';
import { DynamoDeviceRegistry } from './fleet/registry-dynamodb.js';
import { telemetryStore } from './timeseries/timeseries-store.js';
import type { PowerSystem } from './power-system/controller.js';
import { DynamoPowerSystemStore } from './power-system/store-dynamodb.js';
import { checkTopology, type Topology } from './contracts/topology.js';

export function documentClient(dynamodb: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
}

/** How a process builds its time-series store (timeseries-store.ts), or none for a Lambda that never touches one. */
export type TelemetryFactory = (env: Env, doc: DynamoDBDocumentClient) => TelemetryStore;

/** For the Lambdas that write no time series (ack, presence): their bundles carry no time-series adapter. */
const noTelemetry: TelemetryFactory = () => ({
  write: () => Promise.reject(new Error('this Lambda has no time-series store')),
  query: () => Promise.reject(new Error('this Lambda has no time-series store')),
});

/** The ingest ports with a store that reads and writes time series (the local stack, the operator API). */
export function buildIngestPorts(env: Env, dynamodb: DynamoDBClient): IngestPorts {
  return ingestPorts(env, documentClient(dynamodb), telemetryStore);
}

function ingestPorts(env: Env, doc: DynamoDBDocumentClient, telemetry: TelemetryFactory): IngestPorts {
  const store = telemetry(env, doc);
  return {
    // with the rollups, a sample stored after its bucket closed marks that bucket dirty for the next pass
    telemetry: env.ROLLUPS_TABLE ? markingLateSamples(store, rollupStore(env, doc)) : store,
    registry: new DynamoDeviceRegistry(doc, env.DEVICES_TABLE),
    events: new DynamoEventHistory(doc, env.EVENTS_TABLE, env.ARCHIVE_RETENTION_DAYS),
    commands: new DynamoCommandLog(doc, env.COMMANDS_TABLE),
  };
}

/** The rollups, kept `ARCHIVE_RETENTION_DAYS`. */
export function rollupStore(
  env: Pick<Env, 'ARCHIVE_RETENTION_DAYS' | 'ROLLUPS_TABLE'>,
  doc: DynamoDBDocumentClient,
): DynamoRollupStore {
  if (!env.ROLLUPS_TABLE) throw new Error('Invalid Lambda environment: ROLLUPS_TABLE is required');
  return new DynamoRollupStore(doc, env.ROLLUPS_TABLE, env.ARCHIVE_RETENTION_DAYS);
}

/** The transaction ledger, kept `ARCHIVE_RETENTION_DAYS`. */
export function ledgerStore(env: Pick<Env, 'ARCHIVE_RETENTION_DAYS'>, tableName: string, dynamodb: DynamoDBClient) {
  return new DynamoLedgerStore(documentClient(dynamodb), tableName, env.ARCHIVE_RETENTION_DAYS);
}

/** The command log, inventory, fleet events and refusal log the operator API and the time-out sweep use. */
export function buildCommandStores(
  env: Pick<Env, 'COMMANDS_TABLE' | 'ARCHIVE_RETENTION_DAYS'> &
    Pick<ApiEnv, 'INVENTORY_TABLE' | 'FLEET_EVENTS_TABLE' | 'REFUSALS_TABLE'>,
  dynamodb: DynamoDBClient,
): { commands: CommandStore; inventory: InventoryStore; fleetEvents: FleetEventStore; refusals: RefusalLog } {
  const doc = documentClient(dynamodb);
  return {
    commands: new DynamoCommandLog(doc, env.COMMANDS_TABLE),
    inventory: new DynamoInventoryStore(doc, env.INVENTORY_TABLE),
    fleetEvents: new DynamoFleetEventStore(doc, env.FLEET_EVENTS_TABLE, Date.now, env.ARCHIVE_RETENTION_DAYS),
    refusals: new DynamoRefusalLog(doc, env.REFUSALS_TABLE),
  };
}

/** The topology a Lambda was deployed with; a bad one fails the cold start loudly, naming the field. */
export function topologyOf(env: Pick<PowerEnv, 'WINTER_RIVER_TOPOLOGY'>): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse(env.WINTER_RIVER_TOPOLOGY);
  } catch {
    throw new Error('Invalid Lambda environment: WINTER_RIVER_TOPOLOGY: not JSON');
  }
  const checked = checkTopology(raw);
  if (!checked.ok) throw new Error(`Invalid Lambda environment: WINTER_RIVER_TOPOLOGY: ${checked.message}`);
  return checked.topology;
}

/** The Winter River controller's ports: its topology, the system item and the publisher its commands leave by. */
export function buildPowerSystem(
  topology: Topology,
  tableName: string,
  dynamodb: DynamoDBClient,
  publisher: CommandPublisher,
): PowerSystem {
  return { topology, store: new DynamoPowerSystemStore(documentClient(dynamodb), tableName), publisher };
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

/**
 * The ports of a deployed rule Lambda, built on first use from its environment. `telemetry`: how it builds its
 * time-series store (metering, winter-river: `telemetryWriter`); without one the Lambda has none.
 */
export function rulePorts(
  telemetry: TelemetryFactory = noTelemetry,
  options: { inventory?: boolean; ledger?: boolean; power?: (dynamodb: DynamoDBClient) => PowerSystem } = {},
): () => Ports {
  let lambdaPorts: Ports | undefined;
  return () => (lambdaPorts ??= rulePortsFromEnv(telemetry, options.inventory ?? false, options.power, options.ledger));
}

function rulePortsFromEnv(
  telemetry: TelemetryFactory,
  withInventory: boolean,
  power?: (dynamodb: DynamoDBClient) => PowerSystem,
  withLedger = false,
): Ports {
  const env = loadEnv();
  if (!env.ERROR_QUEUE_URL) throw new Error('Invalid Lambda environment: ERROR_QUEUE_URL is required');
  if (!env.REFUSALS_TABLE) throw new Error('Invalid Lambda environment: REFUSALS_TABLE is required');
  if (withLedger && !env.LEDGER_TABLE) throw new Error('Invalid Lambda environment: LEDGER_TABLE is required');
  const dynamodb = new DynamoDBClient({});
  const inventory = withInventory
    ? {
        inventory: cachedInventory(
          new DynamoInventoryStore(
            documentClient(dynamodb),
            loadEnvOf(apiEnvSchema.pick({ INVENTORY_TABLE: true })).INVENTORY_TABLE,
          ),
        ),
      }
    : {};
  return {
    ...ingestPorts(env, documentClient(dynamodb), telemetry),
    ...inventory,
    ...(power && { power: power(dynamodb) }),
    ...(withLedger && { ledger: ledgerStore(env, env.LEDGER_TABLE!, dynamodb) }),
    errors: limitErrorSink(
      teeErrorSink(
        new SqsErrorSink(new SQSClient({}), env.ERROR_QUEUE_URL),
        new DynamoRefusalLog(documentClient(dynamodb), env.REFUSALS_TABLE),
      ),
    ),
  };
}
