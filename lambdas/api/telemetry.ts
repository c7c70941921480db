// `POST /api/telemetry`: the HTTP fallback for VENs that cannot reach MQTT (seeds 000/004). One metering payload
// or `{items: [...]}` (at most 100), each through the very validation and stores of the `metering` rule.
//
// Identity: the caller holds an operator token (admin role only), not a device certificate, so there is no client id
// to check `venId` against. The admin is trusted to speak for any VEN: `venId` is taken as the identity, and both the
// time series (`source` on every ven_telemetry record) and the registry summary record `source: 'http'`. A reading
// never replaces one the device sent itself: a time that already has an MQTT reading is a 409 naming `timestamp`.
// Devices themselves should publish over IoT Core's HTTPS endpoint with their certificate (README).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ConflictError, RejectedRecordsError, ValidationError } from '../core/contracts/errors.js';
import { ingestMetering } from '../core/ingest/ingest.js';
import { parse } from '../core/contracts/schemas.js';
import { topics } from '../core/contracts/topics.js';
import { jsonBody } from './body.js';
import { telemetryBatchSchema, telemetryItemSchema } from './bodies.js';
import type { ApiPorts } from './ports.js';

type ItemResult = { index: number; ok: true } | { index: number; ok: false; field?: string; reason: string; conflict?: true };

export async function postTelemetry(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const body = jsonBody(event);
  const isBatch = typeof body === 'object' && body !== null && 'items' in body;
  const items = isBatch ? batchItems(body) : [body];
  const receivedAt = Date.now();
  const results: ItemResult[] = [];
  for (const [index, item] of items.entries()) results.push(await ingestItem(ports, item, index, receivedAt));
  const first = results[0]!;
  if (!isBatch && !first.ok) {
    if (first.conflict) throw new ConflictError(first.reason, first.field);
    const field = first.field === undefined || first.field === '(root)' ? 'body' : first.field;
    throw new ValidationError(field, first.field === '(root)' ? `body: ${first.reason.slice('(root): '.length)}` : first.reason);
  }
  return { accepted: results.filter((r) => r.ok).length, rejected: results.filter((r) => !r.ok).length, results };
}

function batchItems(body: unknown): unknown[] {
  const batch = parse(telemetryBatchSchema, body);
  if (!batch.ok) throw new ValidationError(batch.field, batch.message);
  return batch.value.items;
}

async function ingestItem(ports: ApiPorts, item: unknown, index: number, receivedAt: number): Promise<ItemResult> {
  const parsed = parse(telemetryItemSchema, item);
  if (!parsed.ok) return { index, ok: false, field: parsed.field, reason: parsed.message };
  const other = await otherSource(ports, parsed.value.venId, parsed.value.timestamp * 1000);
  if (other) {
    const reason = `conflict: timestamp: ${parsed.value.venId} already has a reading at ${new Date(parsed.value.timestamp * 1000).toISOString()} that came over ${other}`;
    return { index, ok: false, field: 'timestamp', reason, conflict: true };
  }
  try {
    const result = await ingestMetering(
      { payload: item as Record<string, unknown>, topic: topics.metering, clientId: parsed.value.venId, receivedAt, source: 'http' },
      ports,
    );
    if (result.ok) return { index, ok: true };
    // a clock-skew refusal names the sample's `timestamp`, as a schema refusal names its field
    return { index, ok: false, ...(result.reason === 'clock-skew' && { field: 'timestamp' }), reason: `${result.reason}: ${result.message}` };
  } catch (err) {
    if (err instanceof RejectedRecordsError) return { index, ok: false, reason: `store-rejected: ${err.message}` };
    throw err;
  }
}

/**
 * The path of a reading already stored for this VEN and time when it is not this fallback's (`mqtt`, or none recorded:
 * from before readings carried their source). The store keeps the first reading of a time; this says so out loud.
 */
async function otherSource(ports: ApiPorts, venId: string, time: number): Promise<string | undefined> {
  const { items } = await ports.telemetry.query({ series: 'ven_telemetry', deviceId: venId, start: time, end: time, limit: 1 });
  const source = items[0]?.measures.source;
  return items.length && source !== 'http' ? String(source ?? 'mqtt') : undefined;
}
