// Pure ingest logic: plain typed data in, port calls out. Runs in Lambda, the local stack and unit tests.
import type { IngestPorts, MeasureValue, RejectReason, SeriesRecord } from './ports.js';
import {
  ackSchema,
  meteringSchema,
  parse,
  presenceEventSchema,
  winterRiverStatusSchema,
  type Metering,
} from './schemas.js';
import { shedCapability } from './shed-capability.js';

/** A message as a rule delivers it: the device's JSON plus what the broker knows about it. */
export interface RuleMessage {
  readonly payload: Record<string, unknown>;
  readonly topic: string;
  readonly clientId: string;
  readonly receivedAt: number;
  /** How it arrived: an IoT rule (default) or the operator API's HTTP fallback (`POST /api/telemetry`). */
  readonly source?: 'mqtt' | 'http';
}

export type IngestResult =
  | { ok: true; stored: boolean }
  | { ok: false; reason: RejectReason; message: string };

const reject = (reason: RejectReason, message: string): IngestResult => ({ ok: false, reason, message });

export async function ingestMetering(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const parsed = parse(meteringSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message);
  const m = parsed.value;
  if (m.venId !== msg.clientId) {
    return reject('identity-mismatch', `venId ${m.venId} was published by ${msg.clientId}`);
  }
  await ports.telemetry.write(meteringRecords(m));
  await ports.registry.recordHeartbeat('ven', m.venId, m.timestamp * 1000, {
    timestamp: new Date(m.timestamp * 1000).toISOString(),
    usedPowerKw: m.usedPowerKw,
    shedPowerKw: m.shedPowerKw ?? 0,
    eventId: m.eventId ?? null,
    batterySOC: m.batterySOC ?? null,
    panelMaxKw: m.panelMaxKw ?? null,
    circuits: m.circuits.length,
    enabledCircuits: m.circuits.filter((c) => c.enabled).length,
    ...shedCapability(m),
    source: msg.source ?? 'mqtt',
  });
  return { ok: true, stored: true };
}

/** One `ven_telemetry` record plus one `ven_load_sample` per circuit or load id (circuits and loads merged). */
export function meteringRecords(m: Metering): SeriesRecord[] {
  const time = m.timestamp * 1000;
  const { venId, timestamp, circuits, loads, eventId, ...aggregate } = m;
  const telemetry: SeriesRecord = {
    series: 'ven_telemetry',
    deviceId: venId,
    time,
    dimensions: { ven_id: venId },
    measures: definedOnly({ ...aggregate, eventId: eventId ?? undefined }),
  };
  const samples = new Map<string, Record<string, MeasureValue | undefined>>();
  for (const { id, ...circuit } of circuits) samples.set(id, { ...circuit });
  for (const { loadId, ...load } of loads) samples.set(loadId, { ...samples.get(loadId), ...load });
  const loadRecords = [...samples].map(
    ([loadId, measures]): SeriesRecord => ({
      series: 'ven_load_sample',
      deviceId: venId,
      time,
      dimensions: { ven_id: venId, load_id: loadId },
      measures: definedOnly(measures),
    }),
  );
  return [telemetry, ...loadRecords];
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
    await ports.commands.complete(ack.correlationId, venId, ok ? 'acked' : 'rejected', ack, msg.receivedAt);
  }
  return { ok: true, stored: isNew };
}

export async function ingestWinterRiverStatus(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const nodeId = msg.topic.split('/')[1] ?? '';
  if (nodeId !== msg.clientId) {
    return reject('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  }
  const parsed = parse(winterRiverStatusSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message);
  const status = parsed.value;
  if (status.node_id !== nodeId) {
    return reject('identity-mismatch', `node_id ${status.node_id} was published on ${msg.topic}`);
  }
  const fields = Object.fromEntries(
    Object.entries(status).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
  );
  await ports.telemetry.write([
    {
      series: 'winter_river_status',
      deviceId: nodeId,
      time: msg.receivedAt,
      dimensions: { node_id: nodeId, status: status.status },
      measures: fields,
    },
  ]);
  await ports.registry.recordHeartbeat('winter-river', nodeId, msg.receivedAt, {
    timestamp: new Date(msg.receivedAt).toISOString(),
    status: status.status,
    ...fields,
  });
  return { ok: true, stored: true };
}

export async function ingestPresence(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  const parsed = parse(presenceEventSchema, msg.payload);
  if (!parsed.ok) return reject('schema', parsed.message);
  const event = parsed.value;
  await ports.registry.recordPresence(event.clientId, event.eventType === 'connected', event.timestamp);
  return { ok: true, stored: true };
}

function definedOnly(values: Record<string, MeasureValue | null | undefined>): Record<string, MeasureValue> {
  return Object.fromEntries(
    Object.entries(values).filter((e): e is [string, MeasureValue] => e[1] !== undefined && e[1] !== null),
  );
}
