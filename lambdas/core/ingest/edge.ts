// Data-centre edge nodes (rule `edge`): telemetry on `edge/{dc_id}/telemetry` into the `edge_telemetry` series and
// the registry (kind `edge`, its rating and battery from `meta`), status on `edge/{dc_id}/status` into its online
// state, and the ACKs of its commands on `edge/{dc_id}/ack` into the command log and the ledger. The sender must be the
// node of the topic (its certificate's thing) and of `dc_id`. The HTTP fallback stores through acceptEdgeTelemetry and
// storeEdgeTelemetry too, so a payload is kept the same whichever way it came. Pure: ports in, no clients.
import { recordEntry } from '../records/ledger.js';
import {
  EDGE_RESERVED_KEYS,
  edgeAckSchema,
  edgeStatusSchema,
  edgeTelemetrySchema,
  edgeTimeMs,
  type EdgeTelemetry,
} from '../contracts/edge-schemas.js';
import { MAX_CLOCK_SKEW_MS, parse } from '../contracts/schemas.js';
import type { IngestResult, RuleMessage } from './ingest.js';
import type { IngestPorts, RejectReason } from './ingest-ports.js';
import type { MeasureValue, SeriesRecord } from '../timeseries/telemetry-store.js';

export const EDGE_SERIES = 'edge_telemetry';
/** The registry kind of a data-centre edge node. */
export const EDGE_KIND = 'edge';

type Refusal = Extract<IngestResult, { ok: false }>;
const refuse = (reason: RejectReason, message: string): Refusal => ({ ok: false, reason, message });

/** A telemetry message that passed its identity, schema and clock checks. */
export interface AcceptedEdgeTelemetry {
  readonly dcId: string;
  readonly telemetry: EdgeTelemetry;
  /** The sample's time (its `timestamp`, or when it was received if it has none), epoch ms. */
  readonly time: number;
  readonly receivedAt: number;
  readonly source: 'mqtt' | 'http';
}

/** The node a topic `edge/{dc_id}/…` is about. */
export const edgeNodeOfTopic = (topic: string) => topic.split('/')[1] ?? '';

/**
 * Checks one telemetry payload. Over MQTT the topic's node must be the sender; either way `dc_id` must be that node.
 * A sample more than MAX_CLOCK_SKEW_MS ahead of its receive time is refused (it would hide every real one after it).
 */
export function acceptEdgeTelemetry(msg: RuleMessage): { ok: true; value: AcceptedEdgeTelemetry } | Refusal {
  const dcId = edgeNodeOfTopic(msg.topic);
  if (dcId !== msg.clientId) return refuse('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  const parsed = parse(edgeTelemetrySchema, msg.payload);
  if (!parsed.ok) return refuse('schema', parsed.message);
  const telemetry = parsed.value;
  if (telemetry.dc_id !== dcId)
    return refuse('identity-mismatch', `dc_id: ${telemetry.dc_id} was published on ${msg.topic} by ${msg.clientId}`);
  const time = telemetry.timestamp === undefined ? msg.receivedAt : edgeTimeMs(telemetry.timestamp);
  if (time > msg.receivedAt + MAX_CLOCK_SKEW_MS) {
    return refuse(
      'clock-skew',
      `timestamp: ${new Date(time).toISOString()} is more than ${MAX_CLOCK_SKEW_MS / 60_000} min ahead of its receive time ${new Date(msg.receivedAt).toISOString()}`,
    );
  }
  return { ok: true, value: { dcId, telemetry, time, receivedAt: msg.receivedAt, source: msg.source ?? 'mqtt' } };
}

/** Measures that hold a nested field as JSON text, and the sent `timestamp` under its own name. */
const JSON_MEASURES = new Set(['meta', 'battery']);
const [SENT_TIMESTAMP, SOURCE] = EDGE_RESERVED_KEYS;

/** One sample as an `edge_telemetry` record: every field a measure (meta, battery as JSON), dimension `dc_id`. */
export function edgeRecord({ dcId, telemetry, time, source }: AcceptedEdgeTelemetry): SeriesRecord {
  const measures: Record<string, MeasureValue> = {};
  for (const [key, value] of Object.entries(telemetry)) {
    if (key === 'dc_id' || value === undefined) continue;
    if (key === 'timestamp') measures[SENT_TIMESTAMP] = value as string | number;
    else if (JSON_MEASURES.has(key) || value === null) measures[key] = JSON.stringify(value);
    else measures[key] = value as MeasureValue;
  }
  measures[SOURCE] = source;
  return { series: EDGE_SERIES, deviceId: dcId, time, dimensions: { dc_id: dcId }, measures };
}

/** A stored record back as the node sent it: `{time, source, payload}`, the payload field for field. */
export function edgeReading(record: Pick<SeriesRecord, 'deviceId' | 'time' | 'measures'>) {
  const payload: Record<string, unknown> = { dc_id: record.deviceId };
  let source: unknown = null;
  for (const [key, value] of Object.entries(record.measures)) {
    if (key === SOURCE) source = value;
    else if (key === SENT_TIMESTAMP) payload.timestamp = value;
    else if (typeof value === 'string' && (JSON_MEASURES.has(key) || value === 'null')) payload[key] = parseJson(value);
    else payload[key] = value;
  }
  return { time: new Date(record.time).toISOString(), source, payload };
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** Into the time series, then the registry: registered on first sight, its rating and battery from `meta`. */
export async function storeEdgeTelemetry(
  accepted: AcceptedEdgeTelemetry,
  ports: Pick<IngestPorts, 'telemetry' | 'registry'>,
): Promise<void> {
  const record = edgeRecord(accepted);
  await ports.telemetry.write([record]);
  const { meta } = accepted.telemetry;
  await ports.registry.recordHeartbeat(
    EDGE_KIND,
    accepted.dcId,
    accepted.time,
    { ...edgeReading(record), capacity_kw: meta.capacity_kw, battery_kwh: meta.battery_kwh },
    // the HTTP fallback is no sign of the node's own connection: its online state is left alone
    accepted.source === 'mqtt' ? accepted.receivedAt : null,
  );
}

export async function ingestEdgeTelemetry(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const accepted = acceptEdgeTelemetry(msg);
  if (!accepted.ok) return accepted;
  await storeEdgeTelemetry(accepted.value, ports);
  return { ok: true, stored: true };
}

/** `online` / `offline` from the node itself (its last will among them): its connection state in the registry. */
export async function ingestEdgeStatus(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const dcId = edgeNodeOfTopic(msg.topic);
  if (dcId !== msg.clientId) return refuse('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  const parsed = parse(edgeStatusSchema, msg.payload);
  if (!parsed.ok) return refuse('schema', parsed.message);
  if (parsed.value.dc_id !== undefined && parsed.value.dc_id !== dcId) {
    return refuse('identity-mismatch', `dc_id: ${parsed.value.dc_id} was published on ${msg.topic} by ${msg.clientId}`);
  }
  await ports.registry.recordPresence(dcId, parsed.value.status === 'online', msg.receivedAt, {
    reason: `status ${parsed.value.status}`,
  });
  return { ok: true, stored: true };
}

/** An ACK completes the node's command (once: a redelivery finds it done) and goes into the node's ledger. */
export async function ingestEdgeAck(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const dcId = edgeNodeOfTopic(msg.topic);
  if (dcId !== msg.clientId) return refuse('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  const parsed = parse(edgeAckSchema, msg.payload);
  if (!parsed.ok) return refuse('schema', parsed.message);
  const ack = parsed.value;
  const status = ack.status === 'accepted' ? 'acked' : 'rejected';
  const completed = await ports.commands.complete(ack.correlationId, dcId, status, ack, msg.receivedAt);
  if (completed) {
    await recordEntry(
      ports.ledger,
      { nodeId: dcId, type: 'command-outcome', ref: ack.correlationId, data: { status, ack } },
      msg.receivedAt,
    );
  }
  return { ok: true, stored: completed !== false };
}

/** Rule `edge`: by the topic's last level. */
export function ingestEdge(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const kind = msg.topic.split('/')[2];
  if (kind === 'telemetry') return ingestEdgeTelemetry(msg, ports);
  if (kind === 'status') return ingestEdgeStatus(msg, ports);
  if (kind === 'ack') return ingestEdgeAck(msg, ports);
  return Promise.resolve(refuse('schema', `${msg.topic}: not an edge node's telemetry, status or ack topic`));
}
