// Rollup arithmetic ("interval data"), pure: per device and 15-minute interval the mean kW of its samples; every
// higher tier and every group (site, portfolio) is computed from rows below it, never incremented, so recomputing
// any bucket at any time gives the same row. Sign: + import / consumption, − export / generation. README, "Rollups".
import { kw } from './baseline.js';
import type { SeriesRecord } from '../timeseries/telemetry-store.js';
import type { SeriesName } from '../contracts/tables.js';
import { localDate, localDayBounds, localMonthBounds, offsetAt } from '../programs/market-time.js';

export const TIERS = ['15m', '1h', '1d', '1mo'] as const;
export type Tier = (typeof TIERS)[number];

export const INTERVAL_MS = 900_000;
const INTERVAL_H = 0.25;

/** One reading as the rollups see it: kW (+ import), and the SOC and shed it carries, if any. */
export interface RollupSample {
  readonly time: number;
  readonly kw: number;
  readonly socPct?: number;
  /** baselinePowerKw − usedPowerKw of a sample that carries an eventId. */
  readonly shedKw?: number;
}

/**
 * A stored row: sums, so that a higher tier is exact. `kwSum` is the sum of its intervals' mean kW (mean = kwSum /
 * intervals); `socSum`/`socN` the same for SOC; `shedKwh` absent where the node has no such measure.
 */
export interface RollupRow {
  readonly start: number;
  readonly end: number;
  readonly samples: number;
  readonly intervals: number;
  readonly importKwh: number;
  readonly exportKwh: number;
  readonly kwSum: number;
  readonly peakKw: number;
  readonly onlineHours: number;
  readonly socMin?: number;
  readonly socSum: number;
  readonly socN: number;
  readonly shedKwh?: number;
}

/** The row as the API returns it (contract): kW and kWh rounded to 3 decimals, null where not measured. */
export interface RollupView {
  start: string;
  end: string;
  samples: number;
  import_kwh: number;
  export_kwh: number;
  mean_kw: number | null;
  peak_kw: number | null;
  min_soc_pct: number | null;
  mean_soc_pct: number | null;
  shed_kwh: number | null;
  online_hours: number;
}

/**
 * The bucket of `ms` in a tier. Days and months (and hours, in a zone off UTC by a part hour) are the local ones of
 * `zone` (the portfolio's, PORTFOLIO_TIME_ZONE): a DST day is 23 or 25 hours, 92 or 100 intervals.
 */
export function bucketStart(tier: Tier, ms: number, zone = 'UTC'): number {
  if (tier === '15m') return Math.floor(ms / INTERVAL_MS) * INTERVAL_MS;
  if (zone !== 'UTC') {
    if (tier === '1h') return ms - mod(ms + offsetAt(ms, zone), 3_600_000);
    if (tier === '1d') return localDayBounds(localDate(ms, zone), zone).start;
    return localMonthBounds(localDate(ms, zone), zone).start;
  }
  if (tier === '1h') return Math.floor(ms / 3_600_000) * 3_600_000;
  if (tier === '1d') return Math.floor(ms / 86_400_000) * 86_400_000;
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function bucketEnd(tier: Tier, start: number, zone = 'UTC'): number {
  if (tier === '15m') return start + INTERVAL_MS;
  if (tier === '1h') return start + 3_600_000;
  if (zone !== 'UTC') return (tier === '1d' ? localDayBounds : localMonthBounds)(localDate(start, zone), zone).end;
  if (tier === '1d') return start + 86_400_000;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const mod = (a: number, b: number) => ((a % b) + b) % b;

/** The tier a tier is computed from. */
export const childTier = (tier: Exclude<Tier, '15m'>): Tier => TIERS[TIERS.indexOf(tier) - 1]!;

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** One device's interval from its samples (at least one); `shed`: the device measures shed (a VEN). */
export function intervalRow(start: number, samples: readonly RollupSample[], shed: boolean): RollupRow {
  const meanKw = mean(samples.map((s) => s.kw));
  const soc = samples.filter((s) => s.socPct !== undefined).map((s) => s.socPct!);
  const shedding = samples.filter((s) => s.shedKw !== undefined).map((s) => s.shedKw!);
  return {
    start,
    end: start + INTERVAL_MS,
    samples: samples.length,
    intervals: 1,
    importKwh: Math.max(meanKw, 0) * INTERVAL_H,
    exportKwh: Math.max(-meanKw, 0) * INTERVAL_H,
    kwSum: meanKw,
    peakKw: meanKw,
    onlineHours: INTERVAL_H,
    ...(soc.length && { socMin: Math.min(...soc) }),
    socSum: soc.length ? mean(soc) : 0,
    socN: soc.length ? 1 : 0,
    ...(shed && { shedKwh: shedding.length ? mean(shedding) * INTERVAL_H : 0 }),
  };
}

/**
 * A group's interval (site, portfolio) from its members' rows of that interval: the group's kW is the sum of their
 * means, its import/export the net of that sum; online hours and shed add up (device-hours); SOC over the members.
 */
export function groupInterval(start: number, members: readonly RollupRow[]): RollupRow {
  const sumKw = members.reduce((s, r) => s + r.kwSum, 0);
  const socs = members.filter((r) => r.socN > 0);
  const sheds = members.filter((r) => r.shedKwh !== undefined);
  const socMins = socs.map((r) => r.socMin!);
  return {
    start,
    end: start + INTERVAL_MS,
    samples: members.reduce((s, r) => s + r.samples, 0),
    intervals: 1,
    importKwh: Math.max(sumKw, 0) * INTERVAL_H,
    exportKwh: Math.max(-sumKw, 0) * INTERVAL_H,
    kwSum: sumKw,
    peakKw: sumKw,
    onlineHours: members.reduce((s, r) => s + r.onlineHours, 0),
    ...(socMins.length && { socMin: Math.min(...socMins) }),
    socSum: socs.reduce((s, r) => s + r.socSum, 0),
    socN: socs.reduce((s, r) => s + r.socN, 0),
    ...(sheds.length && { shedKwh: sheds.reduce((s, r) => s + r.shedKwh!, 0) }),
  };
}

/** A higher tier's row from its child rows (at least one): sums, and the highest 15-minute mean as its peak. */
export function combine(tier: Tier, start: number, children: readonly RollupRow[], zone = 'UTC'): RollupRow {
  const sum = (f: (r: RollupRow) => number) => children.reduce((s, r) => s + f(r), 0);
  const socMins = children.filter((r) => r.socMin !== undefined).map((r) => r.socMin!);
  const sheds = children.filter((r) => r.shedKwh !== undefined);
  return {
    start,
    end: bucketEnd(tier, start, zone),
    samples: sum((r) => r.samples),
    intervals: sum((r) => r.intervals),
    importKwh: sum((r) => r.importKwh),
    exportKwh: sum((r) => r.exportKwh),
    kwSum: sum((r) => r.kwSum),
    peakKw: Math.max(...children.map((r) => r.peakKw)),
    onlineHours: sum((r) => r.onlineHours),
    ...(socMins.length && { socMin: Math.min(...socMins) }),
    socSum: sum((r) => r.socSum),
    socN: sum((r) => r.socN),
    ...(sheds.length && { shedKwh: sheds.reduce((s, r) => s + r.shedKwh!, 0) }),
  };
}

export function rollupView(row: RollupRow): RollupView {
  return {
    start: new Date(row.start).toISOString(),
    end: new Date(row.end).toISOString(),
    samples: row.samples,
    import_kwh: kw(row.importKwh)!,
    export_kwh: kw(row.exportKwh)!,
    mean_kw: row.intervals ? kw(row.kwSum / row.intervals) : null,
    peak_kw: row.intervals ? kw(row.peakKw) : null,
    min_soc_pct: row.socMin ?? null,
    mean_soc_pct: row.socN ? kw(row.socSum / row.socN) : null,
    shed_kwh: row.shedKwh === undefined ? null : kw(row.shedKwh),
    online_hours: row.onlineHours,
  };
}

/**
 * The series whose samples a device's rollups read, and what "kW" is in each: a VEN's `usedPowerKw` (+ consumption);
 * a DER asset's `mw` × −1000 (its wire sign is + generation / discharge, der-schemas.ts); a Winter River node's
 * `power_kw` (its load); an edge node's `power_kw` (its site's draw) with its battery's `soc`.
 */
export type RollupSeries = Extract<
  SeriesName,
  'ven_telemetry' | 'der_asset_sample' | 'winter_river_status' | 'edge_telemetry'
>;

export function rollupSample(
  series: RollupSeries,
  record: Pick<SeriesRecord, 'time' | 'measures'>,
): RollupSample | undefined {
  const m = record.measures;
  const num = (key: string) => (typeof m[key] === 'number' ? (m[key] as number) : undefined);
  if (series === 'ven_telemetry') {
    const used = num('usedPowerKw');
    if (used === undefined) return undefined;
    const baseline = num('baselinePowerKw');
    const soc = num('batterySOC');
    return {
      time: record.time,
      kw: used,
      ...(soc !== undefined && { socPct: soc }),
      ...(typeof m.eventId === 'string' && baseline !== undefined && { shedKw: baseline - used }),
    };
  }
  if (series === 'der_asset_sample') {
    const mw = num('mw');
    if (mw === undefined) return undefined;
    const soc = num('soc_pct');
    return { time: record.time, kw: -mw * 1000, ...(soc !== undefined && { socPct: soc }) };
  }
  const power = num('power_kw');
  if (power === undefined) return undefined;
  const soc = series === 'edge_telemetry' ? num('soc') : undefined;
  return { time: record.time, kw: power, ...(soc !== undefined && { socPct: soc }) };
}

/** Which device kinds measure shed: VENs only. */
export const measuresShed = (series: RollupSeries) => series === 'ven_telemetry';
