// The domain's ports. Adapters live beside this file; nothing else knows a table layout or a client.
import type { LedgerStore } from './ledger.js';
import type { PowerSystem } from './power-system/controller.js';
import type { PresenceChange, Session } from './sessions.js';
import type { Inventory, InventoryAsset, InventorySite } from './inventory.js';
import type { Ack, Command } from './schemas.js';
import type { SeriesName } from './tables.js';

export type MeasureValue = number | string | boolean;

export interface SeriesRecord {
  readonly series: SeriesName;
  /** ven_id, node_id or (der_asset_sample) asset_id: the device the record belongs to. */
  readonly deviceId: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly measures: Readonly<Record<string, MeasureValue>>;
  /** When the store wrote it (epoch ms): only on a query with `withWriteTime`, and only where the store keeps it (DynamoDB). */
  readonly writtenAt?: number;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque token for the next page; absent on the last page. */
  readonly next?: string;
}

export interface TimeRange {
  /** Epoch milliseconds, inclusive. */
  readonly start: number;
  readonly end: number;
  readonly limit: number;
  readonly next?: string;
}

export interface SeriesQuery extends TimeRange {
  readonly series: SeriesName;
  readonly deviceId: string;
  /** Keep only records with this dimension value (e.g. `load_id`). */
  readonly where?: { readonly dimension: string; readonly value: string };
  /** Adds each record's `writtenAt` where the store keeps it (data quality: late and out-of-order samples). */
  readonly withWriteTime?: boolean;
  /** A strongly consistent read where the store has the choice (DynamoDB): every sample stored before it is seen. */
  readonly consistent?: boolean;
}

/**
 * Time-series port (DynamoDB or Timestream). Writes are idempotent per (series, device, time): one write carries
 * every record of a sample (one metering message's), and the first sample of a time is kept: writing it again changes
 * nothing, another sample of that time is not stored (DynamoDB leaves it out, Timestream refuses it).
 */
export interface TelemetryStore {
  write(records: readonly SeriesRecord[]): Promise<void>;
  /** Newest first. */
  query(query: SeriesQuery): Promise<Page<SeriesRecord>>;
}

export type DeviceKind = 'ven' | 'gateway' | 'winter-river';

export interface Device {
  readonly deviceId: string;
  readonly kind?: DeviceKind;
  /** Connected (presence) and heard from within two of its reporting intervals, judged when read. */
  readonly online: boolean;
  readonly firstSeen?: string;
  /** When its newest message was received (any path). */
  readonly lastSeen?: string;
  /** How often it reports over its connection, as learnt from its heartbeats (a default until then). */
  readonly reportIntervalMs?: number;
  readonly latest?: Record<string, unknown>;
  /** Its recent connections, newest first (presence events). */
  readonly sessions?: readonly Session[];
}

export interface DeviceRegistry {
  /**
   * Registers the device if new, keeps the newest summary (`at`: the sample's time) and when it was heard: `seen`, the
   * receive time of a message over its own connection (default `at`), or null for one that was not (the HTTP fallback),
   * which leaves its online state and reporting interval alone. Never sets `online`: only presence does.
   */
  recordHeartbeat(kind: DeviceKind, deviceId: string, at: number, latest: Record<string, unknown>, seen?: number | null): Promise<void>;
  /** Applies a connect/disconnect unless a newer one was already applied; either way folds it into the recent sessions. */
  recordPresence(deviceId: string, online: boolean, at: number, session?: Omit<PresenceChange, 'online' | 'at'>): Promise<void>;
  get(deviceId: string): Promise<Device | undefined>;
  list(kind: DeviceKind, page: { limit: number; next?: string; online?: boolean }): Promise<Page<Device>>;
}

export interface AckRecord {
  readonly venId: string;
  readonly receivedAt: number;
  readonly ack: Ack;
}

export interface EventHistory {
  /** Stores the ACK once per (venId, ts, correlationId); false when it was already stored. */
  record(entry: AckRecord): Promise<boolean>;
  /** Newest first, filtered on the ACK's own time. */
  list(venId: string, range: TimeRange): Promise<Page<AckRecord>>;
}

export type CommandStatus = 'sent' | 'acked' | 'rejected' | 'timed-out';

export interface CommandLog {
  /** Moves a `sent` command addressed to `target` to its final status; false when there is none. */
  complete(correlationId: string, target: string, status: 'acked' | 'rejected', ack: Ack, at: number): Promise<boolean>;
}

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

/** The inventory as ingest reads it. */
export type InventoryReader = Pick<InventoryStore, 'getAsset' | 'getSite'>;

/** Live device state, read from the shadow service itself, never from a copy. */
export interface ShadowReader {
  get(thingName: string): Promise<Record<string, unknown> | undefined>;
}

// ---- Operator commands, dispatch, inventory and fleet events (issue #3) ----

/** A command as sent and tracked: `sent` until an ACK (`acked` | `rejected`) or its expiry (`timed-out`). */
export interface CommandRecord {
  readonly correlationId: string;
  /** The thing the command was published to (VEN, gateway). */
  readonly target: string;
  readonly topic: string;
  readonly op: Command['op'];
  readonly status: CommandStatus;
  /** Epoch milliseconds. */
  readonly sentAt: number;
  readonly expiresAt: number;
  readonly completedAt?: number;
  /** The payload as published. */
  readonly command: Command;
  readonly ack?: Ack;
  /** A dispatch's target and setpoints (before and after clamping). */
  readonly dispatch?: DispatchInfo;
  /** The fleet event a per-VEN `event` command belongs to. */
  readonly fleetEventId?: string;
}

/** What a dispatch aimed at (`asset_id` or `site_id`, never both) and the setpoint before and after clamping. */
export interface DispatchInfo {
  readonly asset_id?: string;
  readonly site_id?: string;
  readonly mw_requested: number;
  readonly mw_sent: number;
}

/** The command log as the API and the time-out sweep use it. */
export interface CommandStore extends CommandLog {
  /** Stores a new `sent` command; the correlationId must be new. */
  record(command: CommandRecord): Promise<void>;
  get(correlationId: string): Promise<CommandRecord | undefined>;
  /** Removes a command that was never published (the publish failed); only while still `sent`. */
  discard(correlationId: string): Promise<void>;
  /** Commands still `sent` whose expiry is at or before `now`, oldest expiry first. */
  listDue(now: number, page: { limit: number; next?: string }): Promise<Page<Pick<CommandRecord, 'correlationId' | 'expiresAt'>>>;
  /** Moves a `sent` command to `timed-out`; false when an ACK got there first. */
  timeOut(correlationId: string, at: number): Promise<boolean>;
}

/** Publishes to devices as the backend does (IoT data-plane Publish). */
export interface CommandPublisher {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
}

export interface InventoryStore {
  /** Makes the stored inventory exactly `inventory`: upserts every row, deletes rows no longer in it. */
  replace(inventory: Inventory): Promise<void>;
  listAssets(page: { limit: number; next?: string }): Promise<Page<InventoryAsset>>;
  getAsset(assetId: string): Promise<InventoryAsset | undefined>;
  getSite(siteId: string): Promise<InventorySite | undefined>;
}

export interface ShedAllocation {
  readonly venId: string;
  /** What the VEN is sent: the sum of its loads' draw when planned. */
  readonly shed_kw: number;
  /** What it is expected to shed over the event window, by its load forecast; absent: shed_kw (no forecast). */
  readonly expected_kw?: number;
}

export interface FleetEventRecord {
  readonly eventId: string;
  readonly requested_kw: number;
  readonly duration_sec: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly endsAt: number;
  readonly allocations: readonly (ShedAllocation & { readonly correlationId: string })[];
  readonly shortfall_kw: number;
  /** VENs asked for but left out, with why (offline, nothing to shed). */
  readonly excluded: readonly { readonly venId: string; readonly reason: string }[];
  /** Epoch milliseconds: when its settlement entries were all in the ledger (settlement.ts). */
  readonly settledAt?: number;
  /** By venId, epoch milliseconds: VENs released before the end (restored); measured up to then. */
  readonly released?: Readonly<Record<string, number>>;
}

/** An event's report as stored at settlement: the report as served, and the parts served only in the CSV. */
export interface StoredReport {
  readonly report: Record<string, unknown>;
  /** Each VEN's intervals, in the order of `report.vens`, when the report serves them only in the CSV; else none. */
  readonly parts: readonly unknown[];
}

/**
 * A VEN's commitment to an event: one per VEN at a time (a VEN runs one event at a time; a new one replaces it), from
 * the event's start to its end. A commitment whose `until` has passed is free to take.
 */
export interface VenCommitment {
  readonly venId: string;
  readonly eventId: string;
  /** Epoch milliseconds. */
  readonly since: number;
  readonly until: number;
  /** What the VEN was sent for it. */
  readonly shed_kw: number;
}

export interface FleetEventStore {
  /**
   * Commits a VEN to an event unless another event holds it until after `now` (a conditional write, so two requests
   * racing never both get it): undefined when committed, else the commitment holding it.
   */
  commit(commitment: VenCommitment, now: number): Promise<VenCommitment | undefined>;
  /**
   * Ends a VEN's commitment early (the operator restored it): the event it was committed to records when (its report
   * measures the VEN up to then, so a later event on the VEN never counts the same shed), then the VEN is free.
   * The event id, or undefined when no event held it.
   */
  release(venId: string, now: number): Promise<string | undefined>;
  /** Gives back a VEN's commitment, if this event still holds it (an event that could not be started). */
  uncommit(venId: string, eventId: string): Promise<void>;
  /** The commitments of these VENs still running at `now`, by venId. */
  commitments(venIds: readonly string[], now: number): Promise<Map<string, VenCommitment>>;
  /** Stores a new fleet event; false when the eventId is taken. */
  create(event: FleetEventRecord): Promise<boolean>;
  get(eventId: string): Promise<FleetEventRecord | undefined>;
  /** Newest first by `startedAt`, over the last two years. */
  list(page: { limit: number; next?: string }): Promise<Page<FleetEventRecord>>;
  /** Stores the event's report unless one is stored already: false then (the first stays). */
  putReport(event: FleetEventRecord, report: StoredReport): Promise<boolean>;
  /** The stored report; its parts only when asked for (another read). */
  getReport(eventId: string, withParts: boolean): Promise<StoredReport | undefined>;
  /** Marks the event settled (once: a second mark keeps the first time). */
  markSettled(eventId: string, at: number): Promise<void>;
}

/** The first response to an `Idempotency-Key`, kept for a retry to get again. */
export interface StoredResponse {
  readonly statusCode: number;
  /** The JSON body as sent. */
  readonly body: string;
}

export interface IdempotencyClaim {
  /** A hash of the request (method, path, body): the same key with another request is refused. */
  readonly fingerprint: string;
  /** Done: the first response. Absent: the first request is still under way. */
  readonly response?: StoredResponse;
}

/** Idempotency keys, each scoped to one caller, kept 24 h from the first request. */
export interface IdempotencyStore {
  /**
   * Claims `key` for a request as `owner`: true when this request may run (the key is new, expired, or held by a
   * request that stopped answering before `staleAfterMs`); false when another holds or completed it.
   */
  claim(key: string, owner: string, fingerprint: string, now: number, staleAfterMs: number): Promise<boolean>;
  /** The key's claim, unless it has expired by `now`. */
  get(key: string, now: number): Promise<IdempotencyClaim | undefined>;
  /** Keeps the response for retries; only the owner may. */
  complete(key: string, owner: string, response: StoredResponse): Promise<void>;
  /** Gives the key up (the request failed and sent nothing), so a retry runs afresh; only the owner may. */
  release(key: string, owner: string): Promise<void>;
}
