// Rollup reads (data and persistence layer): a node's daily and monthly rows, the portfolio's, a node's 15m / 1h / 1d history, and how
// a node compares with its peers.
// Each is one Query on the rollups table (rollups-dynamodb.ts). nodeId: a VEN, DER asset, Winter River node or
// site id. A node with no rows that the platform does not know (registry, inventory) is a 404; a known one with
// no rows in the window answers `items: []`.
import { NotFoundError, ValidationError } from '../core/contracts/errors.js';
import { PORTFOLIO, allDeviceIds } from '../core/analytics/rollup-pass.js';
import { allAssets } from '../core/fleet/registry-pages.js';
import { mapLimited } from '../core/common/map-limited.js';
import { committedKwh, nodeMetrics, percentileRank, type NodeMetrics } from '../core/analytics/node-benchmarks.js';
import type { FleetEventRecord } from '../core/dr/fleet-event-store.js';
import { bucketStart, rollupView, type Tier } from '../core/analytics/rollups.js';
import { addDays, localDate, zonedInstant } from '../core/programs/market-time.js';
import { deviceIdParam, limitParam, numberParam, timeParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';

const DAY_MS = 86_400_000;
const INTERVALS = { '15m': '15m', '1h': '1h', '1d': '1d' } as const satisfies Record<string, Tier>;
/** The default window of each tier: ending now, starting this many of its buckets back. */
const DEFAULT_BACK: Record<Tier, (now: number, zone: string) => number> = {
  '15m': (now) => now - DAY_MS,
  '1h': (now) => now - 7 * DAY_MS,
  // days and months are the portfolio's local ones (PORTFOLIO_TIME_ZONE)
  '1d': (now, zone) => daysBack(now, 29, zone),
  '1mo': (now, zone) => {
    const [y, m] = localDate(now, zone).split('-').map(Number) as [number, number];
    return zonedInstant(new Date(Date.UTC(y, m - 12, 1)).toISOString().slice(0, 10), 0, zone);
  },
};

/** Local midnight `n` local days before the day of `now`. */
const daysBack = (now: number, n: number, zone: string) => zonedInstant(addDays(localDate(now, zone), -n), 0, zone);

/** `from` and `to`: ISO-8601 or epoch seconds; `to` exclusive (default now), `from` the tier's default window before it. */
function windowParams(tier: Tier, query: Query, zone: string, now = Date.now()) {
  const to = timeParam('to', query?.to, now + 1);
  const from = timeParam('from', query?.from, DEFAULT_BACK[tier](Math.min(to, now), zone));
  if (from >= to) throw new ValidationError('from', 'from: must be before to');
  return { from, to, limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) };
}

async function rows(ports: ApiPorts, nodeId: string, tier: Tier, query: Query) {
  const page = await ports.rollups.query(nodeId, tier, windowParams(tier, query, ports.settings.portfolioTimeZone));
  if (page.items.length === 0 && !query?.next && nodeId !== PORTFOLIO && !(await known(ports, nodeId))) {
    throw new NotFoundError(`node ${nodeId}`);
  }
  return { items: page.items.map(rollupView), ...(page.next && { next: page.next }) };
}

async function known(ports: ApiPorts, nodeId: string): Promise<boolean> {
  const [device, asset, site] = await Promise.all([
    ports.registry.get(nodeId),
    ports.inventory.getAsset(nodeId),
    ports.inventory.getSite(nodeId),
  ]);
  return Boolean(device ?? asset ?? site);
}

export async function nodeRollups(
  ports: ApiPorts,
  nodeId: string | undefined,
  period: 'daily' | 'monthly',
  query: Query,
) {
  const id = deviceIdParam('nodeId', nodeId);
  return { nodeId: id, period, ...(await rows(ports, id, period === 'daily' ? '1d' : '1mo', query)) };
}

export async function portfolioRollups(ports: ApiPorts, query: Query) {
  const period = query?.period ?? 'daily';
  if (period !== 'daily' && period !== 'monthly')
    throw new ValidationError('period', 'period: must be daily or monthly');
  return { nodeId: PORTFOLIO, period, ...(await rows(ports, PORTFOLIO, period === 'daily' ? '1d' : '1mo', query)) };
}

export async function historical(ports: ApiPorts, nodeId: string | undefined, query: Query) {
  const id = deviceIdParam('nodeId', nodeId);
  const interval = query?.interval ?? '15m';
  if (!Object.hasOwn(INTERVALS, interval)) throw new ValidationError('interval', 'interval: must be 15m, 1h or 1d');
  const tier = INTERVALS[interval as keyof typeof INTERVALS];
  return { nodeId: id, interval, ...(await rows(ports, id, tier, query)) };
}

const MAX_BENCHMARK_DAYS = 366;
const PEER_CONCURRENCY = 16;

/**
 * `GET /api/analytics/{nodeId}/benchmarks?days=30`: the node against its peers over the last `days` whole UTC days.
 * Peers: VENs, Winter River nodes, assets of the same asset type, or sites. One Query per peer: fine for a fleet of a
 * few thousand; beyond that the distribution belongs in the pass (README).
 */
export async function benchmarks(ports: ApiPorts, nodeId: string | undefined, query: Query) {
  const id = deviceIdParam('nodeId', nodeId);
  const days =
    query?.days === undefined || query.days === '' ? 30 : numberParam('days', query.days, 1, MAX_BENCHMARK_DAYS, true);
  const peerSet = await peersOf(ports, id);
  if (!peerSet) throw new NotFoundError(`node ${id}`);
  const zone = ports.settings.portfolioTimeZone;
  const to = bucketStart('1d', Date.now(), zone);
  const from = daysBack(to, days, zone);
  const committed = peerSet.type === 'ven' ? committedKwh(await fleetEvents(ports, from), from, to) : undefined;
  const metrics = new Map<string, NodeMetrics>();
  await mapLimited(peerSet.ids, PEER_CONCURRENCY, async (peer) => {
    const page = await ports.rollups.query(peer, '1d', { from, to, limit: MAX_BENCHMARK_DAYS, oldestFirst: true });
    metrics.set(peer, nodeMetrics(page.items, days * 24, committed ? (committed.get(peer) ?? 0) : undefined));
  });
  const own = metrics.get(id)!;
  const metric = (name: keyof NodeMetrics) => ({
    value: own[name],
    percentile: percentileRank(
      [...metrics.values()].map((m) => m[name]),
      own[name],
    ),
  });
  return {
    nodeId: id,
    type: peerSet.type,
    peers: peerSet.ids.length,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    metrics: {
      load_factor: metric('load_factor'),
      availability: metric('availability'),
      shed_delivered_ratio: metric('shed_delivered_ratio'),
    },
  };
}

/** The node's type and its peers (itself included), or undefined for a node the platform does not know. */
async function peersOf(ports: ApiPorts, id: string): Promise<{ type: string; ids: string[] } | undefined> {
  const [device, asset, site] = await Promise.all([
    ports.registry.get(id),
    ports.inventory.getAsset(id),
    ports.inventory.getSite(id),
  ]);
  if (device?.kind === 'ven' || device?.kind === 'winter-river') {
    const ids = await allDeviceIds(ports.registry, device.kind);
    return { type: device.kind, ids: ids.includes(id) ? ids : [id, ...ids] };
  }
  if (!asset && !site) return undefined;
  const assets = await allAssets(ports.inventory);
  if (asset)
    return {
      type: asset.asset_type,
      ids: assets.filter((a) => a.asset_type === asset.asset_type).map((a) => a.asset_id),
    };
  return { type: 'site', ids: [...new Set(assets.map((a) => a.site_id))] };
}

async function fleetEvents(ports: ApiPorts, from: number): Promise<FleetEventRecord[]> {
  const out: FleetEventRecord[] = [];
  let next: string | undefined;
  do {
    const page = await ports.fleetEvents.list({ limit: 100, ...(next && { next }) });
    out.push(...page.items.filter((e) => e.endsAt > from));
    // newest first by start: past the window's start (and any event that could still overlap it) nothing more counts
    if (page.items.some((e) => e.startedAt < from - DAY_MS)) break;
    next = page.next;
  } while (next);
  return out;
}
