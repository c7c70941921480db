// The read side of the operator API: plain parameters in, response bodies out.
import { NotFoundError } from '../core/contracts/errors.js';
import type { Device } from '../core/fleet/registry.js';
import type { Page } from '../core/common/page.js';
import { booleanParam, circuitIdParam, deviceIdParam, limitParam, rangeParams } from './params.js';
import type { ApiPorts } from './ports.js';

export type { ApiPorts } from './ports.js';

export type Query = Record<string, string | undefined> | undefined;

const iso = (ms: number) => new Date(ms).toISOString();
export const page = <T, U>(p: Page<T>, map: (t: T) => U) => ({
  items: p.items.map(map),
  ...(p.next && { next: p.next }),
});

const venView = ({ deviceId, kind: _kind, ...rest }: Device) => ({ venId: deviceId, ...rest });
const nodeView = ({ deviceId, kind: _kind, ...rest }: Device) => ({
  nodeId: deviceId,
  status: rest.latest?.status ?? null,
  ...rest,
});

export async function listVens(ports: ApiPorts, query: Query) {
  const result = await ports.registry.list('ven', {
    limit: limitParam(query?.limit),
    online: booleanParam('online', query?.online),
    ...(query?.next && { next: query.next }),
  });
  return page(result, venView);
}

export async function getVen(ports: ApiPorts, venId: string | undefined) {
  const device = await ports.registry.get(deviceIdParam('venId', venId));
  if (device?.kind !== 'ven') throw new NotFoundError(`VEN ${venId}`);
  return venView(device);
}

export async function venTelemetry(ports: ApiPorts, venId: string | undefined, query: Query) {
  const id = await existingVen(ports, venId);
  const result = await ports.telemetry.query({ series: 'ven_telemetry', deviceId: id, ...rangeParams(query) });
  return { venId: id, ...page(result, (r) => ({ timestamp: iso(r.time), ...r.measures })) };
}

export async function circuitHistory(ports: ApiPorts, venId: string | undefined, query: Query) {
  const id = await existingVen(ports, venId);
  const loadId = query?.load_id ? circuitIdParam('load_id', query.load_id) : undefined;
  const result = await ports.telemetry.query({
    series: 'ven_load_sample',
    deviceId: id,
    ...rangeParams(query),
    ...(loadId && { where: { dimension: 'load_id', value: loadId } }),
  });
  return {
    venId: id,
    ...page(result, (r) => ({ timestamp: iso(r.time), load_id: r.dimensions.load_id, ...r.measures })),
  };
}

export async function venEvents(ports: ApiPorts, venId: string | undefined, query: Query) {
  const id = await existingVen(ports, venId);
  const result = await ports.events.list(id, rangeParams(query));
  return {
    venId: id,
    ...page(result, ({ ack, receivedAt }) => ({ timestamp: iso(ack.ts * 1000), receivedAt: iso(receivedAt), ...ack })),
  };
}

export async function venShadow(ports: ApiPorts, venId: string | undefined) {
  const id = deviceIdParam('venId', venId);
  const shadow = await ports.shadows.get(id);
  if (!shadow) throw new NotFoundError(`shadow of ${id}`);
  return shadow;
}

export async function listWinterRiverNodes(ports: ApiPorts, query: Query) {
  const result = await ports.registry.list('winter-river', {
    limit: limitParam(query?.limit),
    online: booleanParam('online', query?.online),
    ...(query?.next && { next: query.next }),
  });
  return page(result, nodeView);
}

export async function existingVen(ports: ApiPorts, venId: string | undefined): Promise<string> {
  return (await getVen(ports, venId)).venId;
}
