// `GET /api/data-quality/{nodeId}` and the fleet summary `GET /api/data-quality`: a device's raw samples over a
// bounded window through the TelemetryStore port, its refusals through the refusal log, figured by
// core/analytics/data-quality.ts. A node is a VEN, a DER asset (inventory) or a Winter River node (registry or topology).
import { DER_SERIES } from '../core/ingest/der.js';
import { dataQuality, type QualitySample } from '../core/analytics/data-quality.js';
import { mapLimited } from '../core/common/map-limited.js';
import { NotFoundError, ValidationError } from '../core/contracts/errors.js';
import { decodeToken, encodeToken } from '../core/common/page-token.js';
import type { Device } from '../core/fleet/registry.js';
import { allAssets, listAll } from '../core/fleet/registry-pages.js';
import { MAX_CLOCK_SKEW_MS } from '../core/contracts/schemas.js';
import type { SeriesName } from '../core/contracts/tables.js';
import { deviceIdParam, limitParam, timeParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const MAX_DEVICE_WINDOW_MS = 7 * DAY_MS;
export const MAX_FLEET_WINDOW_MS = DAY_MS;
/** Devices figured at once by the fleet summary. */
const FLEET_CONCURRENCY = 8;
const PAGE = 1000;

export type NodeKind = 'ven' | 'asset' | 'winter-river' | 'edge';

/** A device as data quality reads it: its series, its registry entry (an asset's: its gateway's), who sends for it. */
export interface NodeRef {
  readonly nodeId: string;
  readonly kind: NodeKind;
  readonly series: SeriesName;
  readonly device?: Device;
  /** The client id its messages come from (refusals are kept by sender): an asset's gateway. */
  readonly sender: string;
}

const SERIES_OF: Record<NodeKind, SeriesName> = {
  ven: 'ven_telemetry',
  asset: DER_SERIES,
  'winter-river': 'winter_river_status',
  edge: 'edge_telemetry',
};
const ref = (nodeId: string, kind: NodeKind, device: Device | undefined, sender = nodeId): NodeRef => ({
  nodeId,
  kind,
  series: SERIES_OF[kind],
  ...(device && { device }),
  sender,
});

/** The node of an id: a VEN or Winter River node of the registry, an inventory asset, or a topology node not yet heard. */
export async function resolveNode(ports: ApiPorts, id: string | undefined): Promise<NodeRef> {
  const nodeId = deviceIdParam('nodeId', id);
  const device = await ports.registry.get(nodeId);
  if (device?.kind === 'ven' || device?.kind === 'winter-river' || device?.kind === 'edge')
    return ref(nodeId, device.kind, device);
  const asset = await ports.inventory.getAsset(nodeId);
  if (asset) return ref(nodeId, 'asset', await ports.registry.get(asset.gateway), asset.gateway);
  if (ports.powerSystem.topology.byId.has(nodeId)) return ref(nodeId, 'winter-river', undefined);
  throw new NotFoundError(`node ${nodeId} (not a VEN, DER asset or Winter River node)`);
}

/** `from`/`to` (ISO-8601 or epoch seconds): `to` now and `from` `defaultMs` before it by default, at most `maxMs` long. */
export function windowParams(query: Query, now: number, defaultMs: number, maxMs: number) {
  const to = timeParam('to', query?.to, now);
  const from = timeParam('from', query?.from, to - defaultMs);
  if (to > now + MAX_CLOCK_SKEW_MS) throw new ValidationError('to', 'to: must not be in the future');
  if (from >= to) throw new ValidationError('from', 'from: must be before to');
  if (to - from > maxMs)
    throw new ValidationError(
      'from',
      `from: the window from ${new Date(from).toISOString()} to ${new Date(to).toISOString()} is longer than ${maxMs / HOUR_MS} hours`,
    );
  return { from, to };
}

export async function nodeDataQuality(ports: ApiPorts, nodeId: string | undefined, query: Query) {
  const now = Date.now();
  const { from, to } = windowParams(query, now, DAY_MS, MAX_DEVICE_WINDOW_MS);
  const node = await resolveNode(ports, nodeId);
  const q = await qualityOf(ports, node, from, to, now);
  return {
    nodeId: node.nodeId,
    kind: node.kind,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    ...q,
  };
}

/** One node's figures over [from, to): every sample of the window, its newest sample and its sender's refusals. */
export async function qualityOf(ports: ApiPorts, node: NodeRef, from: number, to: number, now: number) {
  const [samples, refusals] = await Promise.all([
    windowSamples(ports, node, from, to),
    refusalsOf(ports, node.sender, from, to),
  ]);
  // with the window reaching now its newest sample is the newest there is; otherwise one more read
  const windowNewest = samples.reduce((m, s) => Math.max(m, s.time), -Infinity);
  const lastSampleAt = to >= now && samples.length ? windowNewest : await newestSample(ports, node, now);
  const figures = dataQuality({
    from,
    to,
    now,
    samples,
    reportIntervalMs: node.device?.reportIntervalMs,
    lastSampleAt,
  });
  return {
    ...figures,
    refusals,
    last_seen: lastSampleAt !== undefined && lastSampleAt > -Infinity ? new Date(lastSampleAt).toISOString() : null,
    online: (node.device?.online ?? false) && !figures.quiet,
  };
}

async function windowSamples(ports: ApiPorts, node: NodeRef, from: number, to: number): Promise<QualitySample[]> {
  const out: QualitySample[] = [];
  let next: string | undefined;
  do {
    const page = await ports.telemetry.query({
      series: node.series,
      deviceId: node.nodeId,
      start: from,
      end: to - 1,
      limit: PAGE,
      withWriteTime: true,
      ...(next && { next }),
    });
    for (const r of page.items)
      out.push({ time: r.time, ...(r.writtenAt !== undefined && { writtenAt: r.writtenAt }) });
    next = page.next;
  } while (next);
  return out;
}

/** The newest sample's time up to now, looking back as far as a window may reach. */
async function newestSample(ports: ApiPorts, node: NodeRef, now: number): Promise<number | undefined> {
  const { items } = await ports.telemetry.query({
    series: node.series,
    deviceId: node.nodeId,
    start: now - MAX_DEVICE_WINDOW_MS,
    end: now,
    limit: 1,
  });
  return items[0]?.time;
}

/** The sender's refusals in [from, to), by reason (the log keeps a week, newest first). */
async function refusalsOf(ports: ApiPorts, sender: string, from: number, to: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next: string | undefined;
  do {
    const page = await ports.refusals.list({ deviceId: sender, limit: PAGE, ...(next && { next }) });
    for (const r of page.items) if (r.at >= from && r.at < to) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
    next = page.items.at(-1) && page.items.at(-1)!.at >= from ? page.next : undefined;
  } while (next);
  return counts;
}

/** Every device of the fleet, in a stable order: registry VENs, inventory assets, Winter River topology nodes, edge nodes. */
async function fleetNodes(ports: ApiPorts): Promise<NodeRef[]> {
  const [vens, gateways, nodes, assets, edges] = await Promise.all([
    listAll(ports.registry, 'ven'),
    listAll(ports.registry, 'gateway'),
    listAll(ports.registry, 'winter-river'),
    allAssets(ports.inventory),
    listAll(ports.registry, 'edge'),
  ]);
  const gatewayOf = new Map(gateways.map((g) => [g.deviceId, g]));
  const byId = new Map(nodes.map((n) => [n.deviceId, n]));
  const sorted = <T>(list: T[], id: (t: T) => string) =>
    list.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  return [
    ...sorted(vens, (v) => v.deviceId).map((v) => ref(v.deviceId, 'ven', v)),
    ...sorted(assets, (a) => a.asset_id).map((a) => ref(a.asset_id, 'asset', gatewayOf.get(a.gateway), a.gateway)),
    ...sorted(
      ports.powerSystem.topology.nodes.map((n) => n.id),
      (id) => id,
    ).map((id) => ref(id, 'winter-river', byId.get(id))),
    ...sorted(edges, (e) => e.deviceId).map((e) => ref(e.deviceId, 'edge', e)),
  ];
}

/**
 * The fleet over [from, to) (default the last hour, at most 24 h): every device's figures, FLEET_CONCURRENCY at a
 * time, the fleet's completeness (received ÷ expected over every device) and the quiet devices; the lines paged.
 */
export async function fleetDataQuality(ports: ApiPorts, query: Query) {
  const now = Date.now();
  const { from, to } = windowParams(query, now, HOUR_MS, MAX_FLEET_WINDOW_MS);
  const limit = limitParam(query?.limit);
  const after = query?.next ? afterOf(query.next) : undefined;
  const nodes = await fleetNodes(ports);
  const figures = await mapLimited(nodes, FLEET_CONCURRENCY, (n) => qualityOf(ports, n, from, to, now));
  const lines = nodes.map((n, i) => ({ node: n, q: figures[i]! }));
  const start = after === undefined ? 0 : lines.findIndex((l) => l.node.nodeId === after) + 1;
  if (after !== undefined && start === 0) throw new ValidationError('next', 'next: not a page token of this fleet');
  const pageLines = lines.slice(start, start + limit);
  const expected = figures.reduce((s, q) => s + q.expected, 0);
  const received = figures.reduce((s, q) => s + q.received, 0);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    devices: nodes.length,
    completeness_pct: expected ? Math.round(Math.min(100, (received / expected) * 100) * 100) / 100 : null,
    quiet: lines.filter((l) => l.q.quiet).map((l) => l.node.nodeId),
    items: pageLines.map(({ node, q }) => ({
      nodeId: node.nodeId,
      kind: node.kind,
      completeness_pct: q.completeness_pct,
      expected: q.expected,
      received: q.received,
      gaps: q.gaps.length,
      late: q.late,
      out_of_order: q.out_of_order,
      refusals: q.refusals,
      quiet: q.quiet,
      online: q.online,
    })),
    ...(start + limit < lines.length && { next: encodeToken({ after: pageLines.at(-1)!.node.nodeId }) }),
  };
}

function afterOf(token: string): string {
  const { after } = decodeToken<{ after?: unknown }>(token);
  if (typeof after !== 'string') throw new ValidationError('next', 'next: not a page token this API issued');
  return after;
}
