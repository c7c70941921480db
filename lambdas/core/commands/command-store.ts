// The command ports: commands as sent and tracked, the ACKs received, and how the backend publishes to devices.
import type { Ack, Command } from '../contracts/schemas.js';
import type { EdgeAck, EdgeCommand } from '../contracts/edge-schemas.js';

/** What a tracked command may be: a VEN's or gateway's (`op`), or an edge node's (`action`, no `op`). */
export type AnyCommand = Command | (EdgeCommand & { readonly op?: undefined });
export type AnyAck = Ack | (EdgeAck & { readonly op?: undefined });
/** A command's kind: its `op`, or an edge command's `action`. */
export const opOf = (command: AnyCommand): CommandOp => command.op ?? command.action;
export type CommandOp = Command['op'] | EdgeCommand['action'];
import type { Page, TimeRange } from '../common/page.js';

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
  /** Moves a `sent` command addressed to `target` to its final status: its op and send time, or false when there is none. */
  complete(
    correlationId: string,
    target: string,
    status: 'acked' | 'rejected',
    ack: AnyAck,
    at: number,
  ): Promise<CompletedCommand | false>;
}

/** What the ACK path learns of the command it completed, from the write itself (no second read). */
export type CompletedCommand = Pick<CommandRecord, 'op' | 'sentAt'>;

/** A command as sent and tracked: `sent` until an ACK (`acked` | `rejected`) or its expiry (`timed-out`). */
export interface CommandRecord {
  readonly correlationId: string;
  /** The thing the command was published to (VEN, gateway, edge node). */
  readonly target: string;
  readonly topic: string;
  readonly op: CommandOp;
  readonly status: CommandStatus;
  /** Epoch milliseconds. */
  readonly sentAt: number;
  readonly expiresAt: number;
  readonly completedAt?: number;
  /** The payload as published. */
  readonly command: AnyCommand;
  readonly ack?: AnyAck;
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
  listDue(
    now: number,
    page: { limit: number; next?: string },
  ): Promise<Page<Pick<CommandRecord, 'correlationId' | 'expiresAt'>>>;
  /** Moves a `sent` command to `timed-out`; false when an ACK got there first. */
  timeOut(correlationId: string, at: number): Promise<boolean>;
}

/** Publishes to devices as the backend does (IoT data-plane Publish). */
export interface CommandPublisher {
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
}
