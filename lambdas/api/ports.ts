// What the operator API runs on, built once per process: the ingest stores plus shadows, the command log and
// publisher, the inventory, fleet events, the refusal log and the idempotency keys. The Lambda builds it from its
// environment, the local stack from its own.
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { buildCommandStores, buildIngestPorts, documentClient, ledgerStore, rollupStore } from '../core/adapters.js';
import type { RollupStore } from '../core/analytics/rollups-dynamodb.js';
import type { LedgerStore } from '../core/records/ledger.js';
import type { CommandContext } from '../core/commands/commands.js';
import type { ApiEnv, Env } from '../core/common/config.js';
import type { CommandPublisher, CommandStore, EventHistory } from '../core/commands/command-store.js';
import type { DeviceRegistry, ShadowReader } from '../core/fleet/registry.js';
import type { FleetEventStore } from '../core/dr/fleet-event-store.js';
import type { IdempotencyStore } from '../core/commands/idempotency-store.js';
import type { InventoryStore } from '../core/inventory/inventory-store.js';
import type { RefusalLog } from '../core/ingest/ingest-ports.js';
import type { TelemetryStore } from '../core/timeseries/telemetry-store.js';
import type { PowerSystem } from '../core/power-system/controller.js';
import { DynamoIdempotencyStore } from '../core/commands/idempotency-dynamodb.js';
import type { MetadataStore } from '../core/records/metadata.js';
import { DynamoMetadataStore } from '../core/records/metadata-dynamodb.js';
import type { DeviceIdentities } from '../core/fleet/identities.js';
import { IotDataCommandPublisher } from '../core/commands/publisher-iot-data.js';
import { IotDataShadowReader } from '../core/fleet/shadows-iot-data.js';
import type { ReportFiles } from '../core/dr/report-files.js';
import type { ProgramStore } from '../core/programs/program-store.js';
import { DynamoProgramStore } from '../core/programs/programs-dynamodb.js';

export interface ApiPorts {
  readonly registry: DeviceRegistry;
  readonly events: EventHistory;
  readonly telemetry: TelemetryStore;
  readonly shadows: ShadowReader;
  readonly commands: CommandStore;
  readonly publisher: CommandPublisher;
  readonly inventory: InventoryStore;
  readonly fleetEvents: FleetEventStore;
  readonly refusals: RefusalLog;
  readonly idempotency: IdempotencyStore;
  readonly metadata: MetadataStore;
  readonly ledger: LedgerStore;
  readonly rollups: RollupStore;
  readonly identities: DeviceIdentities;
  readonly settings: {
    readonly commandTimeoutSec: number;
    /** PORTFOLIO_TIME_ZONE: the rollups' days and months. */ readonly portfolioTimeZone: string;
  };
  /** The Winter River system as the controller stores it (read only here). */
  readonly powerSystem: Pick<PowerSystem, 'topology' | 'store'>;
  /** The event reports' files: links to them (the housekeeping sweep writes them). */
  readonly reports: ReportFiles;
  readonly programs: ProgramStore;
}

export function buildApiPorts(
  env: Env,
  api: Pick<
    ApiEnv,
    | 'INVENTORY_TABLE'
    | 'FLEET_EVENTS_TABLE'
    | 'REFUSALS_TABLE'
    | 'IDEMPOTENCY_TABLE'
    | 'METADATA_TABLE'
    | 'LEDGER_TABLE'
    | 'COMMAND_TIMEOUT_SEC'
    | 'PROGRAMS_TABLE'
  >,
  dynamodb: DynamoDBClient,
  iotData: IoTDataPlaneClient,
  power: Pick<PowerSystem, 'topology' | 'store'>,
  identities: DeviceIdentities,
  reports: ReportFiles,
): ApiPorts {
  return {
    ...buildIngestPorts(env, dynamodb),
    ...buildCommandStores({ ...env, ...api }, dynamodb),
    shadows: new IotDataShadowReader(iotData),
    publisher: new IotDataCommandPublisher(iotData),
    idempotency: new DynamoIdempotencyStore(documentClient(dynamodb), api.IDEMPOTENCY_TABLE),
    metadata: new DynamoMetadataStore(documentClient(dynamodb), api.METADATA_TABLE),
    ledger: ledgerStore(env, api.LEDGER_TABLE, dynamodb),
    rollups: rollupStore(env, documentClient(dynamodb)),
    identities,
    settings: { commandTimeoutSec: api.COMMAND_TIMEOUT_SEC, portfolioTimeZone: env.PORTFOLIO_TIME_ZONE ?? 'UTC' },
    powerSystem: power,
    reports,
    programs: new DynamoProgramStore(documentClient(dynamodb), api.PROGRAMS_TABLE),
  };
}

/** The clock and ids of one request's commands. */
export function commandContext(ports: ApiPorts): CommandContext {
  return { now: Date.now(), timeoutSec: ports.settings.commandTimeoutSec, newId: randomUUID };
}
