// `POST /api/telemetry`: the HTTP fallback for VENs that cannot reach MQTT (the VPP aggregation platform and the data
// and persistence layer service do this). One metering payload or `{items: [...]}` (at most 100), each through the very
// validation and stores of the `metering` rule.
//
// Identity: the caller holds an operator token (admin role only), not a device certificate, so there is no client id
// to check `venId` against. The admin is trusted to speak for any VEN: `venId` is taken as the identity, and both the
// time series (`source` on every ven_telemetry record) and the registry summary record `source: 'http'`. A reading
// never replaces one the device sent itself: a time that already has an MQTT reading is a 409 naming `timestamp`.
// Devices themselves should publish over IoT Core's HTTPS endpoint with their certificate (README).
//
// A data-centre edge node's payload (it carries `dc_id`) is taken the same way, through the validation and stores of
// rule `edge`; so are `POST /api/telemetry/{nodeId}` (one reading of that node) and `POST /api/telemetry/batch`
// (readings of any nodes: a bad field anywhere is a 400 naming it, `items.3.soc`, and nothing is stored).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ConflictError, RejectedRecordsError, ValidationError } from '../core/contracts/errors.js';
import { ingestMetering } from '../core/ingest/ingest.js';
import {
  acceptEdgeTelemetry,
  EDGE_SERIES,
  storeEdgeTelemetry,
  type AcceptedEdgeTelemetry,
} from '../core/ingest/edge.js';
import { deviceIdParam } from './params.js';
import { parse } from '../core/contracts/schemas.js';
import { topics } from '../core/contracts/topics.js';
import { jsonBody } from './body.js';
import { telemetryBatchSchema, telemetryItemSchema } from './bodies.js';
import type { ApiPorts } from './ports.js';

type ItemResult =
  { index: number; ok: true } | { index: number; ok: false; field?: string; reason: string; conflict?: true };

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
    throw new ValidationError(
      field,
      first.field === '(root)' ? `body: ${first.reason.slice('(root): '.length)}` : first.reason,
    );
  }
  return { accepted: results.filter((r) => r.ok).length, rejected: results.filter((r) => !r.ok).length, results };
}

function batchItems(body: unknown): unknown[] {
  const batch = parse(telemetryBatchSchema, body);
  if (!batch.ok) throw new ValidationError(batch.field, batch.message);
  return batch.value.items;
}

/** An edge node's payload (it names `dc_id`) rather than a VEN's metering. */
const isEdgePayload = (item: unknown): item is Record<string, unknown> =>
  typeof item === 'object' && item !== null && !Array.isArray(item) && 'dc_id' in item;

async function ingestItem(ports: ApiPorts, item: unknown, index: number, receivedAt: number): Promise<ItemResult> {
  if (isEdgePayload(item)) return ingestEdgeItem(ports, item, index, receivedAt);
  const parsed = parse(telemetryItemSchema, item);
  if (!parsed.ok) return { index, ok: false, field: parsed.field, reason: parsed.message };
  const other = await otherSource(ports, parsed.value.venId, parsed.value.timestamp * 1000);
  if (other) {
    const reason = `conflict: timestamp: ${parsed.value.venId} already has a reading at ${new Date(parsed.value.timestamp * 1000).toISOString()} that came over ${other}`;
    return { index, ok: false, field: 'timestamp', reason, conflict: true };
  }
  try {
    const result = await ingestMetering(
      {
        payload: item as Record<string, unknown>,
        topic: topics.metering,
        clientId: parsed.value.venId,
        receivedAt,
        source: 'http',
      },
      ports,
    );
    if (result.ok) return { index, ok: true };
    // a clock-skew refusal names the sample's `timestamp`, as a schema refusal names its field
    return {
      index,
      ok: false,
      ...(result.reason === 'clock-skew' && { field: 'timestamp' }),
      reason: `${result.reason}: ${result.message}`,
    };
  } catch (err) {
    if (err instanceof RejectedRecordsError) return { index, ok: false, reason: `store-rejected: ${err.message}` };
    throw err;
  }
}

/**
 * The path of a reading already stored for this VEN and time when it is not this fallback's (`mqtt`, or none recorded:
 * from before readings carried their source). The store keeps the first reading of a time; this says so out loud.
 * Consistent: a reading stored a moment ago must still answer 409, not an "accepted" the store then ignores.
 */
async function otherSource(ports: ApiPorts, venId: string, time: number): Promise<string | undefined> {
  const { items } = await ports.telemetry.query({
    series: 'ven_telemetry',
    deviceId: venId,
    start: time,
    end: time,
    limit: 1,
    consistent: true,
  });
  const source = items[0]?.measures.source;
  return items.length && source !== 'http' ? String(source ?? 'mqtt') : undefined;
}

/** An edge payload as rule `edge` would take it from its node: the same checks, the same rows, `source: 'http'`. */
function acceptEdgeItem(item: Record<string, unknown>, receivedAt: number) {
  const dcId = typeof item.dc_id === 'string' ? item.dc_id : '';
  return acceptEdgeTelemetry({
    payload: item,
    topic: topics.edgeTelemetry(dcId),
    clientId: dcId,
    receivedAt,
    source: 'http',
  });
}

const refusalField = (message: string) => /^([^:\s]+): /.exec(message)?.[1];

async function ingestEdgeItem(
  ports: ApiPorts,
  item: Record<string, unknown>,
  index: number,
  receivedAt: number,
): Promise<ItemResult> {
  const accepted = acceptEdgeItem(item, receivedAt);
  if (!accepted.ok)
    return { index, ok: false, field: refusalField(accepted.message) ?? 'dc_id', reason: accepted.message };
  const conflict = await edgeConflict(ports, accepted.value);
  if (conflict) return { index, ok: false, field: 'timestamp', reason: conflict, conflict: true };
  try {
    await storeEdgeTelemetry(accepted.value, ports);
    return { index, ok: true };
  } catch (err) {
    if (err instanceof RejectedRecordsError) return { index, ok: false, reason: `store-rejected: ${err.message}` };
    throw err;
  }
}

/** As for a VEN: a time the node already sent over MQTT is not overwritten by the fallback, and says so (consistently). */
async function edgeConflict(ports: ApiPorts, { dcId, time }: AcceptedEdgeTelemetry): Promise<string | undefined> {
  const { items } = await ports.telemetry.query({
    series: EDGE_SERIES,
    deviceId: dcId,
    start: time,
    end: time,
    limit: 1,
    consistent: true,
  });
  const source = items[0]?.measures.source;
  if (!items.length || source === 'http') return undefined;
  return `conflict: timestamp: ${dcId} already has a reading at ${new Date(time).toISOString()} that came over ${String(source ?? 'mqtt')}`;
}

/** A single item's refusal as the route's error: 409 for a conflict, else a 400 naming the field. */
function throwRefusal(result: Extract<ItemResult, { ok: false }>, prefix = ''): never {
  if (result.conflict) throw new ConflictError(result.reason, result.field);
  const field =
    result.field === undefined || result.field === '(root)'
      ? prefix
        ? prefix.slice(0, -1)
        : 'body'
      : `${prefix}${result.field}`;
  const why = result.reason.replace(/^(schema|identity-mismatch|clock-skew): /, '').replace(/^[^:\s]+: /, '');
  throw new ValidationError(field, `${field}: ${why}`);
}

/**
 * `POST /api/telemetry/{nodeId}`: one reading of that node, an edge payload or a VEN's metering (it has `venId` or
 * `usedPowerKw`). Its id may be left out (the path names the node); if given it must be the path's.
 */
export async function postNodeTelemetry(ports: ApiPorts, nodeId: string | undefined, event: APIGatewayProxyEventV2) {
  const id = deviceIdParam('nodeId', nodeId);
  const body = jsonBody(event);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError('body', 'body: must be a JSON object (one reading)');
  const reading = body as Record<string, unknown>;
  const isVen = 'venId' in reading || 'usedPowerKw' in reading;
  const idField = isVen ? 'venId' : 'dc_id';
  if (reading[idField] !== undefined && reading[idField] !== id) {
    throw new ValidationError(idField, `${idField}: ${String(reading[idField])} is not the node of the path, ${id}`);
  }
  const item = { ...reading, [idField]: id };
  const result = await ingestItem(ports, item, 0, Date.now());
  if (!result.ok) throwRefusal(result);
  return { accepted: 1, rejected: 0, results: [result] };
}

/**
 * `POST /api/telemetry/batch`: `{items: [...]}`, up to 100 readings of any nodes. All are checked first (schema, and an
 * edge payload's clock): one bad item is a 400 naming it and nothing is stored. Then each is stored as a single one
 * would be; what only the store can tell (a time already reported over MQTT) is that item's refusal in `results`.
 */
export async function postTelemetryBatch(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const items = batchItems(jsonBody(event));
  const receivedAt = Date.now();
  for (const [index, item] of items.entries()) {
    const check = isEdgePayload(item) ? acceptEdgeItem(item, receivedAt) : parse(telemetryItemSchema, item);
    if (!check.ok)
      throwRefusal(
        {
          index,
          ok: false,
          field: 'field' in check ? check.field : refusalField(check.message),
          reason: check.message,
        },
        `items.${index}.`,
      );
  }
  const results: ItemResult[] = [];
  for (const [index, item] of items.entries()) results.push(await ingestItem(ports, item, index, receivedAt));
  return { accepted: results.filter((r) => r.ok).length, rejected: results.filter((r) => !r.ok).length, results };
}
