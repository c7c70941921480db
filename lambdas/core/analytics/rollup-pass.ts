// The rollup pass (every 15 minutes): closes the 15-minute buckets that ended before now − grace, recomputes the
// buckets late samples marked dirty, then each touched node's hour, day and month from their children. Every row is
// recomputed whole and put, so a pass may run again, late or twice, and leave the same rows.
import type { DeviceRegistry } from '../fleet/registry.js';
import type { InventoryStore } from '../inventory/inventory-store.js';
import type { TelemetryStore } from '../timeseries/telemetry-store.js';
import type { DirtyMarker, RollupStore } from './rollups-dynamodb.js';
import {
  INTERVAL_MS,
  bucketEnd,
  bucketStart,
  childTier,
  combine,
  groupInterval,
  intervalRow,
  measuresShed,
  rollupSample,
  type RollupRow,
  type RollupSample,
  type RollupSeries,
  type Tier,
} from './rollups.js';
import { allAssets, listAll } from '../fleet/registry-pages.js';
import { rules } from '../contracts/rules.js';

/**
 * A bucket closes this long after its end: the longest batching window of a rule's stream (60 s, metering) plus a
 * minute for the consumer to store it. A sample stored later than that is late and marks its bucket dirty.
 */
export const ROLLUP_GRACE_MS = Math.max(...rules.map((r) => r.stream.maxBatchingWindowSec)) * 1000 + 60_000;
/** Buckets one pass closes at most (a day): a scheduler that was down catches up a day per pass. */
const MAX_BUCKETS = 96;
/** Dirty markers one pass takes at most; the rest wait for the next. */
const MAX_MARKERS = 10_000;
const CONCURRENCY = 16;
/** A device's dirty buckets closer than this are read in one query. */
const MERGE_GAP_MS = 3_600_000;

export const PORTFOLIO = 'portfolio';

export interface RollupDevice {
  readonly deviceId: string;
  readonly series: RollupSeries;
}

/**
 * Who is rolled up: every VEN, DER asset, Winter River node and edge node; sites (their assets); the portfolio (VENs,
 * assets and edge nodes).
 */
export interface RollupFleet {
  readonly devices: readonly RollupDevice[];
  readonly sites: ReadonlyMap<string, readonly string[]>;
  readonly portfolio: readonly string[];
}

export interface PassPorts {
  readonly telemetry: TelemetryStore;
  readonly rollups: RollupStore;
  readonly fleet: () => Promise<RollupFleet>;
  /** The portfolio's time zone: whose local hours, days and months the higher tiers are (default UTC). */
  readonly timeZone?: string;
}

export interface PassResult {
  /** The buckets closed on time: [from, to). */
  readonly from: number;
  readonly to: number;
  readonly rows: number;
  readonly dirty: number;
}

/** The ids of every device of a kind in the registry. */
export const allDeviceIds = async (registry: Pick<DeviceRegistry, 'list'>, kind: 'ven' | 'winter-river' | 'edge') =>
  (await listAll(registry, kind)).map((d) => d.deviceId);

/** The fleet from the registry (VENs, Winter River and edge nodes) and the inventory (assets and their sites). */
export async function rollupFleet(
  registry: DeviceRegistry,
  inventory: Pick<InventoryStore, 'listAssets'>,
): Promise<RollupFleet> {
  const [vens, nodes, assets, edges] = await Promise.all([
    allDeviceIds(registry, 'ven'),
    allDeviceIds(registry, 'winter-river'),
    allAssets(inventory),
    allDeviceIds(registry, 'edge'),
  ]);
  const sites = new Map<string, string[]>();
  for (const a of assets) sites.set(a.site_id, [...(sites.get(a.site_id) ?? []), a.asset_id]);
  return {
    devices: [
      ...vens.map((deviceId) => ({ deviceId, series: 'ven_telemetry' as const })),
      ...assets.map((a) => ({ deviceId: a.asset_id, series: 'der_asset_sample' as const })),
      ...nodes.map((deviceId) => ({ deviceId, series: 'winter_river_status' as const })),
      ...edges.map((deviceId) => ({ deviceId, series: 'edge_telemetry' as const })),
    ],
    sites,
    portfolio: [...new Set([...vens, ...assets.map((a) => a.asset_id), ...edges])],
  };
}

export async function runRollupPass(ports: PassPorts, now = Date.now()): Promise<PassResult> {
  const closeUntil = bucketStart('15m', now - ROLLUP_GRACE_MS);
  const from = (await ports.rollups.watermark()) ?? closeUntil - INTERVAL_MS;
  const to = Math.min(closeUntil, from + MAX_BUCKETS * INTERVAL_MS);
  const markers = await ports.rollups.dirty(MAX_MARKERS);
  if (to <= from && markers.length === 0) return { from, to, rows: 0, dirty: 0 };
  const fleet = await ports.fleet();
  /** Per node, the 15-minute buckets whose rows this pass put: the higher tiers to recompute. */
  const touched = new Map<string, Set<number>>();
  const touch = (nodeId: string, bucket: number) => {
    const set = touched.get(nodeId) ?? new Set<number>();
    set.add(bucket);
    touched.set(nodeId, set);
  };
  let rows = 0;
  const put = async (nodeId: string, tier: Tier, list: RollupRow[]) => {
    if (!list.length) return;
    await ports.rollups.put(nodeId, tier, list);
    rows += list.length;
    if (tier === '15m') for (const r of list) touch(nodeId, r.start);
  };

  // on time: every device's closed buckets, then the groups from the rows in hand
  const onTime = new Map<string, Map<number, RollupRow>>();
  if (to > from) {
    await inParallel(fleet.devices, async (device) => {
      const computed = await deviceRows(ports.telemetry, device, from, to);
      onTime.set(device.deviceId, computed);
      await put(device.deviceId, '15m', [...computed.values()]);
    });
    for (let bucket = from; bucket < to; bucket += INTERVAL_MS) {
      await putGroups(fleet, bucket, (id) => onTime.get(id)?.get(bucket), put);
    }
  }

  // late: the buckets marked dirty, each device's read in as few queries as its buckets allow
  const byDevice = new Map<string, DirtyMarker[]>();
  for (const m of markers)
    byDevice.set(`${m.series}\u0000${m.deviceId}`, [...(byDevice.get(`${m.series}\u0000${m.deviceId}`) ?? []), m]);
  await inParallel([...byDevice.values()], async (list) => {
    const device = { deviceId: list[0]!.deviceId, series: list[0]!.series };
    const wanted = new Set(list.map((m) => m.bucket));
    for (const [start, end] of spans([...wanted])) {
      const computed = await deviceRows(ports.telemetry, device, start, end);
      await put(
        device.deviceId,
        '15m',
        [...computed.values()].filter((r) => wanted.has(r.start)),
      );
    }
  });
  for (const bucket of new Set(markers.map((m) => m.bucket))) {
    const members = await ports.rollups.intervals(fleet.portfolio, bucket);
    await putGroups(fleet, bucket, (id) => members.get(id), put);
  }

  // up the tiers, each from the one below (already put), in the portfolio's local hours, days and months
  const zone = ports.timeZone ?? 'UTC';
  await inParallel([...touched], async ([nodeId, buckets]) => {
    let starts = [...buckets];
    for (const tier of ['1h', '1d', '1mo'] as const) {
      starts = [...new Set(starts.map((s) => bucketStart(tier, s, zone)))];
      for (const start of starts) {
        const children = await ports.rollups.query(nodeId, childTier(tier), {
          from: start,
          to: bucketEnd(tier, start, zone),
          limit: 100,
          oldestFirst: true,
          consistent: true,
        });
        if (children.items.length) await put(nodeId, tier, [combine(tier, start, children.items, zone)]);
      }
    }
  });

  await inParallel(markers, (m) => ports.rollups.clean(m));
  if (to > from) await ports.rollups.setWatermark(to);
  return { from, to, rows, dirty: markers.length };
}

/** A device's 15-minute rows over [from, to) from its samples (buckets without samples have no row). */
async function deviceRows(
  telemetry: TelemetryStore,
  device: RollupDevice,
  from: number,
  to: number,
): Promise<Map<number, RollupRow>> {
  const byBucket = new Map<number, RollupSample[]>();
  let next: string | undefined;
  do {
    // consistent: a sample stored just before the pass is on time, and would otherwise be left out for good
    const page = await telemetry.query({
      series: device.series,
      deviceId: device.deviceId,
      start: from,
      end: to - 1,
      limit: 1000,
      consistent: true,
      ...(next && { next }),
    });
    for (const record of page.items) {
      const sample = rollupSample(device.series, record);
      if (!sample) continue;
      const bucket = bucketStart('15m', sample.time);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), sample]);
    }
    next = page.next;
  } while (next);
  const out = new Map<number, RollupRow>();
  for (const [bucket, samples] of [...byBucket].sort((a, b) => a[0] - b[0])) {
    out.set(bucket, intervalRow(bucket, samples, measuresShed(device.series)));
  }
  return out;
}

/** Each site's and the portfolio's row of one bucket, from their members' rows. */
async function putGroups(
  fleet: RollupFleet,
  bucket: number,
  rowOf: (deviceId: string) => RollupRow | undefined,
  put: (nodeId: string, tier: Tier, rows: RollupRow[]) => Promise<void>,
) {
  const group = (ids: readonly string[]) => {
    const members = ids.map(rowOf).filter((r): r is RollupRow => r !== undefined);
    return members.length ? [groupInterval(bucket, members)] : [];
  };
  for (const [siteId, assets] of fleet.sites) await put(siteId, '15m', group(assets));
  await put(PORTFOLIO, '15m', group(fleet.portfolio));
}

/** Bucket starts → [start, end) ranges to read, buckets closer than MERGE_GAP_MS in one. */
function spans(buckets: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const b of buckets.sort((x, y) => x - y)) {
    const last = out.at(-1);
    if (last && b - last[1] < MERGE_GAP_MS) last[1] = b + INTERVAL_MS;
    else out.push([b, b + INTERVAL_MS]);
  }
  return out;
}

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/**
 * The time-series store as the ingest consumers use it: after each write (never before: a pass that read before the
 * write would miss it), the 15-minute buckets of its samples that had already closed are marked dirty.
 */
export function markingLateSamples(
  store: TelemetryStore,
  rollups: Pick<RollupStore, 'markDirty'>,
  clock: () => number = Date.now,
): TelemetryStore {
  const series = new Set<string>(['ven_telemetry', 'der_asset_sample', 'winter_river_status', 'edge_telemetry']);
  return {
    query: (q) => store.query(q),
    async write(records) {
      await store.write(records);
      const now = clock();
      const late = new Map<string, Omit<DirtyMarker, 'at'>>();
      for (const r of records) {
        if (!series.has(r.series)) continue;
        const bucket = bucketStart('15m', r.time);
        if (bucket + INTERVAL_MS + ROLLUP_GRACE_MS > now) continue;
        late.set(`${bucket}#${r.series}#${r.deviceId}`, {
          deviceId: r.deviceId,
          series: r.series as RollupSeries,
          bucket,
        });
      }
      if (late.size) await rollups.markDirty([...late.values()], now);
    },
  };
}
