// The edge for `ven/cmd/{id}`: every command is parsed with the shared schema; an invalid one that still names a
// correlationId gets a rejected/failed ACK built from what it did say, anything else is logged and dropped.
import {
  ackSchema,
  commandSchema,
  dispatchCommandSchema,
  eventCommandSchema,
  parse,
  pingCommandSchema,
  restoreCommandSchema,
  type Ack,
  type Command,
} from '../lambdas/core/contracts/schemas.js';

export type Inbound =
  { ok: true; command: Command } | { ok: false; message: string; correlationId?: string; reply?: Ack };

const specific = {
  event: eventCommandSchema,
  restore: restoreCommandSchema,
  ping: pingCommandSchema,
  dispatch: dispatchCommandSchema,
} as const;

export function readCommand(payload: string, nowMs: number): Inbound {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { ok: false, message: '(root): not JSON' };
  }
  const parsed = parse(commandSchema, raw);
  if (parsed.ok) return { ok: true, command: parsed.value };
  const obj = isRecord(raw) ? raw : {};
  const op = typeof obj['op'] === 'string' ? obj['op'] : undefined;
  const schema = op !== undefined && op in specific ? specific[op as keyof typeof specific] : undefined;
  const detail = schema ? parse(schema, raw) : undefined;
  const message = detail && !detail.ok ? detail.message : op === undefined ? 'op: required' : `op: unknown op ${op}`;
  const correlationId = validCorrelationId(obj['correlationId']);
  if (correlationId === undefined) return { ok: false, message };
  const reply = rejection(op, obj, correlationId, message, nowMs);
  return { ok: false, message, correlationId, ...(reply ? { reply } : {}) };
}

/** An ACK refusing a valid command (wrong device kind, unknown target); the shape comes from the ACK schema. */
export function rejection(
  op: string | undefined,
  cmd: Record<string, unknown>,
  correlationId: string,
  reason: string,
  nowMs: number,
): Ack | undefined {
  const ts = Math.floor(nowMs / 1000);
  const text = reason.slice(0, 512);
  const candidate =
    op === 'event'
      ? {
          op,
          status: 'rejected',
          event_id: idOr(cmd['event_id'], 'unknown'),
          requested_shed_kw: numberIn(cmd['shed_kw'], 0, 1_000_000) ?? 0,
          actual_shed_kw: 0,
          circuits_curtailed: [],
          reason: text,
          ts,
          correlationId,
        }
      : op === 'restore'
        ? { op, status: 'failed', reason: text, ts, correlationId }
        : op === 'dispatch'
          ? {
              op,
              status: 'rejected',
              ...optionalId('dispatch_id', cmd['dispatch_id']),
              ...optionalId('asset_id', cmd['asset_id']),
              ...optionalId('site_id', cmd['site_id']),
              requested_mw: numberIn(cmd['mw'], -10_000, 10_000) ?? 0,
              split: [],
              reason: text,
              ts,
              correlationId,
            }
          : undefined;
  if (!candidate) return undefined;
  const checked = parse(ackSchema, candidate);
  return checked.ok ? checked.value : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 128;

const validCorrelationId = (v: unknown): string | undefined => (isId(v) ? v : undefined);

const idOr = (v: unknown, fallback: string): string => (isId(v) ? v : fallback);

const optionalId = (key: string, v: unknown): Record<string, string> => (isId(v) ? { [key]: v } : {});

const numberIn = (v: unknown, min: number, max: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;

export interface CommandHandling {
  readonly recent: { get(correlationId: string): Ack | undefined; set(correlationId: string, ack: Ack): void };
  readonly log: {
    warn(message: string, fields?: Record<string, unknown>): void;
    info(message: string, fields?: Record<string, unknown>): void;
  };
  apply(command: Command, nowMs: number): Ack;
  sendAck(ack: Ack): void;
}

/**
 * One inbound command, end to end: parse it (an invalid one with a correlationId gets its rejection ACK), answer a
 * QoS 1 redelivery with the ACK already sent, otherwise apply it once and ACK. Returns the command it applied.
 */
export function handleCommand(payload: string, nowMs: number, device: CommandHandling): Command | undefined {
  const inbound = readCommand(payload, nowMs);
  if (!inbound.ok) {
    device.log.warn('invalid command', {
      error: inbound.message,
      correlationId: inbound.correlationId,
      acked: !!inbound.reply,
    });
    if (inbound.reply) device.sendAck(inbound.reply);
    return undefined;
  }
  const cmd = inbound.command;
  const seen = device.recent.get(cmd.correlationId);
  if (seen) {
    device.log.info('command redelivered: same ACK again', { op: cmd.op, correlationId: cmd.correlationId });
    device.sendAck(seen);
    return undefined;
  }
  const ack = device.apply(cmd, nowMs);
  device.recent.set(cmd.correlationId, ack);
  device.sendAck(ack);
  return cmd;
}
