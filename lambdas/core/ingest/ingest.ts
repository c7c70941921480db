// Pure ingest logic: plain typed data in, port calls out. Runs in Lambda, the local stack and unit tests.
import { recordEntry } from '../records/ledger.js';
import { businessMetrics } from '../common/metrics.js';
import { CLAIM_CLIENT_PREFIX, OPERATOR_CLIENT_PREFIX } from '../contracts/policy.js';
import type { IngestPorts, RejectReason } from './ingest-ports.js';
import type { MeasureValue, SeriesRecord } from '../timeseries/telemetry-store.js';
import {
  MAX_CLOCK_SKEW_MS,
  ackSchema,
  meteringBatchSchema,
  meteringSchema,
  parse,
  presenceEventSchema,
  winterRiverStatusSchema,
  type Metering,
  type WinterRiverStatus,
} from '../contracts/schemas.js';
import { applyStatuses } from '../power-system/controller.js';
import { shedCapability } from '../fleet/shed-capability.js';

/** A message as a rule delivers it: the device's JSON plus what the broker knows about it. */
export interface RuleMessage {
  readonly payload: Record<string, unknown>;
  readonly topic: string;
  readonly clientId: string;
  readonly receivedAt: number;
  /** How it arrived: an IoT rule (default) or the operator API's HTTP fallback (`POST /api/telemetry`). */
  readonly source?: 'mqtt' | 'http';
}

export type IngestResult = { ok: true; stored: boolean } | { ok: false; reason: RejectReason; message: string };

const reject = (reason: RejectReason, message: string): IngestResult => ({ ok: false, reason, message });

/** A metering message that passed its schema and identity checks: its VEN and its samples (one, or a batch). */
export interface AcceptedMetering {
  readonly venId: string;
  readonly samples: readonly Metering[];
  readonly source: 'mqtt' | 'http';
  /** When the message was received (IoT's `timestamp()`, or the API's clock). */
  readonly receivedAt: number;
}

/** Validates one metering message (single, or `{venId, batch}` when allowed) and checks that its sender is the VEN it names. */
export function acceptMetering(
  msg: RuleMessage,
  allowBatch = true,
): { ok: true; value: AcceptedMetering } | Extract<IngestResult, { ok: false }> {
  const parsed =
    allowBatch && 'batch' in msg.payload ? parse(meteringBatchSchema, msg.payload) : parse(meteringSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message) as Extract<IngestResult, { ok: false }>;
  const venId = parsed.value.venId;
  if (venId !== msg.clientId) {
    return reject('identity-mismatch', `venId ${venId} was published by ${msg.clientId}`) as Extract<
      IngestResult,
      { ok: false }
    >;
  }
  const samples = 'batch' in parsed.value ? parsed.value.batch : [parsed.value];
  const ahead = samples.findIndex((s) => s.timestamp * 1000 > msg.receivedAt + MAX_CLOCK_SKEW_MS);
  if (ahead >= 0) {
    const field = 'batch' in parsed.value ? `batch.${ahead}.timestamp` : 'timestamp';
    return reject('clock-skew', aheadMessage(field, samples[ahead]!.timestamp * 1000, msg.receivedAt)) as Extract<
      IngestResult,
      { ok: false }
    >;
  }
  return { ok: true, value: { venId, samples, source: msg.source ?? 'mqtt', receivedAt: msg.receivedAt } };
}

/**
 * A device's time more than MAX_CLOCK_SKEW_MS ahead of when the message arrived: refused, since the registry keeps the
 * newest sample and one from the future would hide every real one after it. Older samples are backfill and welcome.
 */
const aheadMessage = (field: string, at: number, receivedAt: number) =>
  `${field}: ${timeText(at)} is more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead of its receive time ${timeText(receivedAt)}`;
/** ISO-8601, or the number itself past what a Date holds (±8.64e15 ms: a property run sent 2^53 − 1 ms). */
const timeText = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`);

/** One metering payload (the operator API's HTTP fallback takes no batches). */
export function ingestMetering(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  return storeAccepted(acceptMetering(msg, false), ports);
}

/** What the `metering` rule receives: one metering payload, or a batch of them (`{venId, batch: [...]}`). */
export function ingestMeteringMessage(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  return storeAccepted(acceptMetering(msg), ports);
}

async function storeAccepted(accepted: ReturnType<typeof acceptMetering>, ports: IngestPorts): Promise<IngestResult> {
  if (!accepted.ok) return accepted;
  await storeMetering([accepted.value], ports);
  return { ok: true, stored: true };
}

/**
 * Stores accepted metering messages, any number of VENs: every sample's records in one time-series write (a
 * sample repeated, e.g. a QoS 1 resend in the same batch, is written once: the first of its VEN and time), then one registry heartbeat per VEN with
 * its newest sample. Idempotent: the same messages stored twice leave the same items.
 */
export async function storeMetering(messages: readonly AcceptedMetering[], ports: IngestPorts): Promise<void> {
  const records: SeriesRecord[] = [];
  const taken = new Set<string>();
  const newest = new Map<string, { sample: Metering; source: 'mqtt' | 'http' }>();
  /** Per VEN, when it was last heard over its own connection (null: only over the HTTP fallback). */
  const heard = new Map<string, number | null>();
  for (const { venId, samples, source, receivedAt } of messages) {
    if (source === 'mqtt') heard.set(venId, Math.max(receivedAt, heard.get(venId) ?? 0));
    else if (!heard.has(venId)) heard.set(venId, null);
    for (const sample of samples) {
      // one sample per VEN and time: a QoS 1 resend, or another reading of that second, is the first one's (the store keeps the first too)
      const key = `${venId}\u0000${sample.timestamp}`;
      if (taken.has(key)) continue;
      taken.add(key);
      records.push(...meteringRecords(sample, source));
      const current = newest.get(venId);
      if (!current || sample.timestamp > current.sample.timestamp) newest.set(venId, { sample, source });
    }
  }
  await ports.telemetry.write(records);
  await Promise.all(
    [...newest].map(([venId, { sample, source }]) =>
      ports.registry.recordHeartbeat(
        'ven',
        venId,
        sample.timestamp * 1000,
        heartbeatSummary(sample, source),
        heard.get(venId),
      ),
    ),
  );
}

/** The registry's `latest` for one metering payload. */
function heartbeatSummary(m: Metering, source: 'mqtt' | 'http'): Record<string, unknown> {
  let enabledCircuits = 0;
  for (const c of m.circuits) if (c.enabled) enabledCircuits++;
  const shed = shedCapability(m);
  return {
    timestamp: new Date(m.timestamp * 1000).toISOString(),
    usedPowerKw: m.usedPowerKw,
    shedPowerKw: m.shedPowerKw ?? 0,
    eventId: m.eventId ?? null,
    batterySOC: m.batterySOC ?? null,
    panelMaxKw: m.panelMaxKw ?? null,
    circuits: m.circuits.length,
    enabledCircuits,
    availableShedKw: shed.availableShedKw,
    shedTiers: shed.shedTiers,
    shedLoads: shed.shedLoads,
    source,
  };
}

/** Payload keys that are not aggregate measures of `ven_telemetry`. */
const NOT_AGGREGATE = new Set(['venId', 'timestamp', 'circuits', 'loads', 'eventId']);
const CIRCUIT_ID = 'id';
const LOAD_ID = 'loadId';

/**
 * One `ven_telemetry` record plus one `ven_load_sample` per circuit or load id (circuits and loads merged: a load's
 * keys override its circuit's). Measures keep the payload's key order, `eventId` then `source` (the path the reading
 * came by: `mqtt` from the device's own connection, `http` from the operator API's fallback) last; null and undefined
 * are left out.
 * Plain loops rather than rest/spread copies: this runs once per metering message (bench/metering-domain.ts).
 */
export function meteringRecords(m: Metering, source?: 'mqtt' | 'http'): SeriesRecord[] {
  const time = m.timestamp * 1000;
  const venId = m.venId;
  const aggregate: Record<string, MeasureValue> = {};
  for (const key in m) {
    if (NOT_AGGREGATE.has(key)) continue;
    const value = (m as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) aggregate[key] = value as MeasureValue;
  }
  if (m.eventId !== undefined && m.eventId !== null) aggregate.eventId = m.eventId;
  if (source) aggregate.source = source;
  const records: SeriesRecord[] = [
    { series: 'ven_telemetry', deviceId: venId, time, dimensions: { ven_id: venId }, measures: aggregate },
  ];
  const samples = new Map<string, Record<string, MeasureValue | undefined>>();
  for (const circuit of m.circuits) samples.set(circuit.id, copyWithout(circuit, CIRCUIT_ID));
  for (const load of m.loads) samples.set(load.loadId, copyWithout(load, LOAD_ID, samples.get(load.loadId)));
  for (const [loadId, measures] of samples) {
    records.push({
      series: 'ven_load_sample',
      deviceId: venId,
      time,
      dimensions: { ven_id: venId, load_id: loadId },
      measures: definedOnly(measures),
    });
  }
  return records;
}

/** `{ ...into, ...source }` without `source[skip]`, written into `into`: the later keys win, first positions stay. */
function copyWithout(
  source: object,
  skip: string,
  into: Record<string, MeasureValue | undefined> = {},
): Record<string, MeasureValue | undefined> {
  for (const key in source) if (key !== skip) into[key] = (source as Record<string, MeasureValue | undefined>)[key];
  return into;
}

export async function ingestAck(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const venId = msg.topic.split('/')[2] ?? '';
  if (venId !== msg.clientId) {
    return reject('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  }
  const parsed = parse(ackSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message);
  const ack = parsed.value;
  const isNew = ack.op === 'ping' || (await ports.events.record({ venId, receivedAt: msg.receivedAt, ack }));
  if (isNew) {
    const ok = ack.op === 'ping' || ack.status === 'accepted' || ack.status === 'success';
    const status = ok ? 'acked' : 'rejected';
    const completed = await ports.commands.complete(ack.correlationId, venId, status, ack, msg.receivedAt);
    if (completed) businessMetrics.commandAckLatency(completed.op, Math.max(0, msg.receivedAt - completed.sentAt));
    if (completed && ack.op !== 'ping') {
      await recordEntry(
        ports.ledger,
        { nodeId: venId, type: 'command-outcome', ref: ack.correlationId, data: { status, ack } },
        msg.receivedAt,
      );
    }
  }
  return { ok: true, stored: isNew };
}

/** A Winter River status that passed its identity, schema and topology checks, with its receive time. */
export interface AcceptedStatus {
  readonly status: WinterRiverStatus;
  readonly receivedAt: number;
}

export function acceptWinterRiverStatus(
  msg: RuleMessage,
  ports: Pick<IngestPorts, 'power'>,
): { ok: true; value: AcceptedStatus } | Extract<IngestResult, { ok: false }> {
  const refuse = (reason: RejectReason, message: string) =>
    reject(reason, message) as Extract<IngestResult, { ok: false }>;
  const nodeId = msg.topic.split('/')[1] ?? '';
  if (nodeId !== msg.clientId) return refuse('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  const parsed = parse(winterRiverStatusSchema, msg.payload);
  if (!parsed.ok) return refuse('schema', parsed.message);
  const status = parsed.value;
  if (status.node_id !== nodeId)
    return refuse('identity-mismatch', `node_id ${status.node_id} was published on ${msg.topic}`);
  if (ports.power && !ports.power.topology.byId.has(nodeId)) {
    return refuse('unknown-node', `node_id: ${nodeId} is not a node of the Winter River topology`);
  }
  return { ok: true, value: { status, receivedAt: msg.receivedAt } };
}

/** The status into the time series and the node registry (idempotent: a redelivery writes the same). */
export async function storeWinterRiverStatus(
  { status, receivedAt }: AcceptedStatus,
  ports: IngestPorts,
): Promise<void> {
  const nodeId = status.node_id;
  const fields = Object.fromEntries(
    Object.entries(status).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
  );
  await ports.telemetry.write([
    {
      series: 'winter_river_status',
      deviceId: nodeId,
      time: receivedAt,
      dimensions: { node_id: nodeId, status: status.status },
      measures: fields,
    },
  ]);
  await ports.registry.recordHeartbeat('winter-river', nodeId, receivedAt, {
    timestamp: new Date(receivedAt).toISOString(),
    status: status.status,
    ...fields,
  });
}

/** What the power engine takes from a status: the node, whether it is in service, a server's load. */
export const powerReport = ({ status, receivedAt }: AcceptedStatus) => ({
  node_id: status.node_id,
  status: status.status,
  at: receivedAt,
  ...(status.power_kw !== undefined && { power_kw: status.power_kw }),
});

/** One status on its own: stored, then (with a power system) folded into the system state. */
export async function ingestWinterRiverStatus(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const accepted = acceptWinterRiverStatus(msg, ports);
  if (!accepted.ok) return accepted;
  await storeWinterRiverStatus(accepted.value, ports);
  if (ports.power) await applyStatuses(ports.power, [powerReport(accepted.value)]);
  return { ok: true, stored: true };
}

export async function ingestPresence(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const parsed = parse(presenceEventSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message);
  const event = parsed.value;
  if (event.timestamp > msg.receivedAt + MAX_CLOCK_SKEW_MS)
    return reject('clock-skew', aheadMessage('timestamp', event.timestamp, msg.receivedAt));
  // The dashboard's live feed (operator-…) and devices on their claim certificate (claim-…) connect too: not devices
  if (event.clientId.startsWith(OPERATOR_CLIENT_PREFIX) || event.clientId.startsWith(CLAIM_CLIENT_PREFIX))
    return { ok: true, stored: false };
  await ports.registry.recordPresence(event.clientId, event.eventType === 'connected', event.timestamp, {
    ...(event.sessionIdentifier !== undefined && { sessionId: event.sessionIdentifier }),
    ...(event.ipAddress !== undefined && { peer: event.ipAddress }),
    ...(event.disconnectReason !== undefined && { reason: event.disconnectReason }),
  });
  return { ok: true, stored: true };
}

function definedOnly(values: Record<string, MeasureValue | null | undefined>): Record<string, MeasureValue> {
  const out: Record<string, MeasureValue> = {};
  for (const key in values) {
    const value = values[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}
