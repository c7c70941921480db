// Sending a command: the payloads exactly as the VOLTTRON VEN writes them, recorded as `sent` before they leave (so an ACK
// that beats the write cannot be lost), then published QoS 1 on the target's command topic.
import { recordEntry, type EntryInput, type LedgerStore } from '../records/ledger.js';
import { logger } from '../common/logger.js';
import {
  opOf,
  type AnyCommand,
  type CommandPublisher,
  type CommandRecord,
  type CommandStore,
} from './command-store.js';
import type { Command, DispatchCommand, EventCommand } from '../contracts/schemas.js';
import { topics } from '../contracts/topics.js';

export interface CommandPorts {
  readonly commands: CommandStore;
  readonly publisher: CommandPublisher;
  /** Where each command sent is recorded (the operator API has one; a test may leave it out). */
  readonly ledger?: LedgerStore;
}

/** When and with which ids a command goes out; built at the edge so the domain stays deterministic in tests. */
export interface CommandContext {
  /** Epoch milliseconds. */
  readonly now: number;
  /** How long a command waits for its ACK before the sweep marks it `timed-out`. */
  readonly timeoutSec: number;
  newId(): string;
}

export const eventCommand = (
  eventId: string,
  shedKw: number,
  durationSec: number,
  correlationId: string,
): EventCommand => ({
  op: 'event',
  event_id: eventId,
  shed_kw: shedKw,
  duration_sec: durationSec,
  correlationId,
  data: { requestedReductionKw: shedKw, duration_s: durationSec },
});

export const restoreCommand = (correlationId: string): Command => ({ op: 'restore', correlationId });

export const dispatchCommand = (
  dispatchId: string,
  target: { asset_id: string } | { site_id: string },
  mw: number,
  correlationId: string,
): DispatchCommand => ({ op: 'dispatch', dispatch_id: dispatchId, ...target, mw, correlationId });

export async function sendCommand(
  ports: CommandPorts,
  target: string,
  command: AnyCommand,
  ctx: CommandContext,
  extra: Pick<CommandRecord, 'dispatch' | 'fleetEventId'> = {},
): Promise<CommandRecord> {
  const record: CommandRecord = {
    correlationId: command.correlationId,
    target,
    // an edge node's `{action, params}` goes to its control topic; every other command to the VEN command topic
    topic: command.op === undefined ? topics.edgeControl(target) : topics.command(target),
    op: opOf(command),
    status: 'sent',
    sentAt: ctx.now,
    expiresAt: ctx.now + ctx.timeoutSec * 1000,
    command,
    ...extra,
  };
  const context = { correlationId: record.correlationId, target, op: record.op };
  await ports.commands.record(record);
  try {
    await ports.publisher.publish(record.topic, JSON.stringify(command), 1);
  } catch (err) {
    logger.error('command publish failed: record discarded', { ...context, error: err as Error });
    await ports.commands.discard(record.correlationId);
    throw err;
  }
  logger.info('command sent', context);
  await recordEntry(ports.ledger, commandEntry(record), ctx.now);
  return record;
}

/** A command in its target's ledger: a dispatch, a share of a DR event, or another command. */
function commandEntry({ target, command, correlationId, fleetEventId }: CommandRecord): EntryInput {
  const type = command.op === 'dispatch' ? 'dispatch' : command.op === 'event' ? 'dr-event' : 'command';
  return { nodeId: target, type, ref: correlationId, data: { command, ...(fleetEventId && { fleetEventId }) } };
}

/** A command as the API shows it: ISO times, and the ACK latency once there is one. */
export function commandView(c: CommandRecord) {
  return {
    correlationId: c.correlationId,
    target: c.target,
    topic: c.topic,
    op: c.op,
    status: c.status,
    sentAt: new Date(c.sentAt).toISOString(),
    expiresAt: new Date(c.expiresAt).toISOString(),
    completedAt: c.completedAt !== undefined ? new Date(c.completedAt).toISOString() : null,
    latency_ms: c.completedAt !== undefined ? c.completedAt - c.sentAt : null,
    command: c.command,
    ack: c.ack ?? null,
  };
}
