// What ingest needs: the stores it writes, where refused messages go, and the readers of the rules that need them.
import type { CommandLog, EventHistory } from '../commands/command-store.js';
import type { InventoryReader } from '../inventory/inventory-store.js';
import type { LedgerStore } from '../records/ledger.js';
import type { PowerSystem } from '../power-system/controller.js';
import type { DeviceRegistry } from '../fleet/registry.js';
import type { Page } from '../common/page.js';
import type { TelemetryStore } from '../timeseries/telemetry-store.js';

export type RejectReason =
  | 'not-authorized'
  | 'malformed-json'
  | 'oversize'
  | 'schema'
  | 'identity-mismatch'
  /** A DER reading of an asset not in the inventory of the sending gateway's site. */
  | 'unknown-asset'
  /** A Winter River status of a node not in the topology. */
  | 'unknown-node'
  | 'clock-skew'
  | 'store-rejected'
  | 'handler-failed';

export interface Rejection {
  readonly reason: RejectReason;
  readonly message: string;
  readonly topic?: string;
  readonly clientId?: string;
  /** The payload as received, cut to 4 KiB. */
  readonly payload?: string;
  /** Refusals of the same device held back by the rate limit since its last recorded one. */
  readonly suppressed?: number;
  /**
   * A dead letter's place in its stream (the records stay there for the stream's retention), as the event source
   * mapping's on-failure destination gets it (`KinesisBatchInfo`): what `npm run redrive` puts back into the stream.
   */
  readonly kinesis?: KinesisBatchInfo;
}

export interface KinesisBatchInfo {
  readonly stream: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
}

export interface ErrorSink {
  reject(rejection: Rejection): Promise<void>;
}

export interface RefusalRecord extends Rejection {
  /** Epoch milliseconds. */
  readonly at: number;
}

/** Refusals kept readable for the operators (the error sink cannot be read back). */
export interface RefusalLog {
  record(rejection: Rejection, at: number): Promise<void>;
  /** Newest first, over the last week; only the refusals of messages sent by `deviceId` when given. */
  list(page: { limit: number; next?: string; deviceId?: string }): Promise<Page<RefusalRecord>>;
}

export interface IngestPorts {
  readonly telemetry: TelemetryStore;
  readonly registry: DeviceRegistry;
  readonly events: EventHistory;
  readonly commands: CommandLog;
  /** The asset inventory: only the `der` rule reads it (which assets a gateway's site has). */
  readonly inventory?: InventoryReader;
  /** The Winter River controller: only the `winter-river` rule runs it (power-system/controller.ts). */
  readonly power?: PowerSystem;
  /** The transaction ledger: only the ack rule appends to it (command outcomes). */
  readonly ledger?: LedgerStore;
}

/** What a rule's handler runs with: the ingest ports and where refused messages go. */
export interface Ports extends IngestPorts {
  readonly errors: ErrorSink;
}
