// Data-centre edge nodes: the list, a node (its rating, battery and latest sample), its telemetry over a range, its
// forecast, and its commands (`POST /api/edge/{dcId}/commands`: charge, discharge, set_power, stop on
// `edge/{dc_id}/control`, tracked like a VEN's until the node's ACK on `edge/{dc_id}/ack`, or its time-out).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { sendCommand } from '../core/commands/commands.js';
import { EDGE_ACTIONS, edgeParamsSchemas, type EdgeCommand } from '../core/contracts/edge-schemas.js';
import { NotFoundError, ValidationError } from '../core/contracts/errors.js';
import { parse } from '../core/contracts/schemas.js';
import { topics } from '../core/contracts/topics.js';
import type { Device } from '../core/fleet/registry.js';
import { EDGE_KIND, EDGE_SERIES, edgeReading } from '../core/ingest/edge.js';
import { parseBody } from './body.js';
import { nodeForecast } from './forecast.js';
import { booleanParam, deviceIdParam, limitParam, rangeParams } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';
import { accepted } from './reply.js';

/** A node as the API shows it: its rating and battery (from its last `meta`), connection, and latest sample. */
const edgeView = ({ deviceId, kind: _kind, latest, ...rest }: Device) => {
  const { capacity_kw, battery_kwh, ...sample } = latest ?? {};
  return {
    dcId: deviceId,
    capacity_kw: capacity_kw ?? null,
    battery_kwh: battery_kwh ?? null,
    ...rest,
    latest: latest ? sample : null,
  };
};

export async function listEdgeNodes(ports: ApiPorts, query: Query) {
  const result = await ports.registry.list(EDGE_KIND, {
    limit: limitParam(query?.limit),
    online: booleanParam('online', query?.online),
    ...(query?.next && { next: query.next }),
  });
  return page(result, edgeView);
}

async function existingEdgeNode(ports: ApiPorts, dcId: string | undefined): Promise<Device> {
  const device = await ports.registry.get(deviceIdParam('dcId', dcId));
  if (device?.kind !== EDGE_KIND) throw new NotFoundError(`edge node ${dcId}`);
  return device;
}

export async function getEdgeNode(ports: ApiPorts, dcId: string | undefined) {
  return edgeView(await existingEdgeNode(ports, dcId));
}

/** Newest first; each item `{time, source, payload}`, the payload as the node sent it. */
export async function edgeTelemetry(ports: ApiPorts, dcId: string | undefined, query: Query) {
  const { deviceId } = await existingEdgeNode(ports, dcId);
  const result = await ports.telemetry.query({ series: EDGE_SERIES, deviceId, ...rangeParams(query) });
  return { dcId: deviceId, ...page(result, edgeReading) };
}

/** `GET /api/edge/{dcId}/forecast`: the node's draw for the next 24 h, by the method VENs' and sites' use. */
export async function edgeForecast(ports: ApiPorts, dcId: string | undefined) {
  const { deviceId } = await existingEdgeNode(ports, dcId);
  return { dcId: deviceId, ...(await nodeForecast(ports, EDGE_KIND, deviceId)) };
}

/** `POST /api/edge/{dcId}/commands`: `{action, params}` as the node gets it, and `dry_run`. */
export const edgeCommandBodySchema = z.strictObject({
  action: z.enum(EDGE_ACTIONS, { error: 'must be charge, discharge, set_power or stop' }),
  params: z.record(z.string(), z.unknown()).optional(),
  dry_run: z.boolean().optional(),
});

export async function edgeCommand(ports: ApiPorts, dcId: string | undefined, event: APIGatewayProxyEventV2) {
  deviceIdParam('dcId', dcId);
  const { action, params: raw, dry_run } = parseBody(edgeCommandBodySchema, event);
  const params = parse(edgeParamsSchemas[action], raw ?? {});
  if (!params.ok) {
    const field = params.field === '(root)' ? 'params' : `params.${params.field}`;
    throw new ValidationError(field, `${field}: ${params.message.replace(/^[^:]*: /, '')}`);
  }
  const node = await existingEdgeNode(ports, dcId);
  const topic = topics.edgeControl(node.deviceId);
  if (dry_run)
    return {
      dry_run: true,
      dcId: node.deviceId,
      online: node.online,
      topic,
      command: { action, params: params.value },
    };
  const ctx = commandContext(ports);
  const command = { action, params: params.value, correlationId: ctx.newId() } as EdgeCommand;
  const record = await sendCommand(ports, node.deviceId, command, ctx);
  return accepted({ correlationId: record.correlationId, status: 'sent', dcId: node.deviceId, topic, command });
}
