// A node's load for the next 24 h in 15-minute slots, by a method an operator can check by hand:
//
//  1. Profile, per slot: the mean of the same slot on the same weekday over the last PROFILE_WEEKS weeks (fewer when
//     the history is shorter); with none, the mean of the same slot on the last PROFILE_DAYS days; with none either,
//     the recent level (the mean of the last LEVEL_MS), and with no reading there, the last slot's mean.
//  2. Adjustment: the last LEVEL_MS's actual mean over what the profile says for those slots, capped to
//     1 ± ADJUSTMENT_CAP as the DR baseline's (baseline.ts), scales every profile point (not the level fallback).
//  3. Error: each of the last HOLDOUT_DAYS days (as many as the history allows) is forecast from the history before
//     it and compared with what was read; the naive forecast holds the last slot's mean flat for the day. Both MAEs
//     are over the same slots.
// Pure: 15-minute means in (quarter-hour-loads.ts reads them), numbers out.
import { ADJUSTMENT_CAP, DAY_MS, kw, mean } from './baseline.js';

export const SLOT_MS = 15 * 60_000;
export const HORIZON_SLOTS = 96;
export const WEEK_MS = 7 * DAY_MS;
export const PROFILE_WEEKS = 4;
export const PROFILE_DAYS = 7;
export const LEVEL_MS = 3 * 3_600_000;
export const HOLDOUT_DAYS = 7;
/** What a forecast with its error reads at most: the oldest held-out day's four weeks before it. */
export const HISTORY_MS = PROFILE_WEEKS * WEEK_MS + HOLDOUT_DAYS * DAY_MS;

/** Slot start (epoch ms, a multiple of SLOT_MS) → mean kW in that slot. */
export type QuarterHourLoads = ReadonlyMap<number, number>;

export type PointSource = 'weekly' | 'daily' | 'level';

export interface ForecastPoint {
  readonly start: number;
  readonly kw: number;
  readonly source: PointSource;
}

export interface Adjustment {
  readonly factor: number;
  readonly uncapped: number;
  readonly capped: boolean;
}

export interface Forecast {
  /** Empty when there is no reading before the origin at all. */
  readonly points: ForecastPoint[];
  readonly adjustment: Adjustment | null;
}

export interface ForecastError {
  readonly held_out_days: number;
  readonly mae_kw: number;
  readonly naive_mae_kw: number;
}

export const FORECAST_METHOD =
  `per 15-minute slot, the mean load in the same slot on the same weekday over the last ${PROFILE_WEEKS} weeks (fewer when ` +
  `the history is shorter; with none, the same slot on any of the last ${PROFILE_DAYS} days; with none either, the mean of the ` +
  `last ${LEVEL_MS / 3_600_000} h, else the last slot's mean), scaled by the last ${LEVEL_MS / 3_600_000} h's load over what ` +
  `that profile says for them (capped to ±${ADJUSTMENT_CAP * 100}%); error: each of the last ${HOLDOUT_DAYS} days (as the ` +
  `history allows) forecast from the history before it, mean absolute error against a naive forecast holding the last ` +
  `slot's mean flat for 24 h, over the same slots`;

export const slotOf = (time: number) => Math.floor(time / SLOT_MS) * SLOT_MS;
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The profile of slot `t` from the history before `origin`. */
function profile(loads: QuarterHourLoads, origin: number, t: number): { kw: number; source: PointSource } | null {
  const at = (back: number) => (t - back < origin ? (loads.get(t - back) ?? []) : []);
  const weekly = mean(upTo(PROFILE_WEEKS).flatMap((k) => at(k * WEEK_MS)));
  if (weekly !== null) return { kw: weekly, source: 'weekly' };
  const daily = mean(upTo(PROFILE_DAYS).flatMap((d) => at(d * DAY_MS)));
  return daily === null ? null : { kw: daily, source: 'daily' };
}

/** The newest slot's mean before `origin`: the naive forecast. */
export function lastLoad(loads: QuarterHourLoads, origin: number): number | null {
  let last: number | undefined;
  for (const t of loads.keys()) if (t < origin && (last === undefined || t > last)) last = t;
  return last === undefined ? null : loads.get(last)!;
}

/** `slots` points from `origin` (a slot start), from the history before it only. */
export function forecastLoads(loads: QuarterHourLoads, origin: number, slots = HORIZON_SLOTS): Forecast {
  const recent = Array.from({ length: LEVEL_MS / SLOT_MS }, (_, i) => origin - LEVEL_MS + i * SLOT_MS).filter((t) =>
    loads.has(t),
  );
  const level = mean(recent.map((t) => loads.get(t)!)) ?? lastLoad(loads, origin);
  if (level === null) return { points: [], adjustment: null };
  const adjustment = adjust(loads, origin, recent);
  const factor = adjustment?.factor ?? 1;
  const points = Array.from({ length: slots }, (_, i): ForecastPoint => {
    const start = origin + i * SLOT_MS;
    const p = profile(loads, origin, start);
    return p ? { start, kw: p.kw * factor, source: p.source } : { start, kw: level, source: 'level' };
  });
  return { points, adjustment };
}

function adjust(loads: QuarterHourLoads, origin: number, recent: readonly number[]): Adjustment | null {
  const pairs = recent.flatMap((t) => {
    const p = profile(loads, origin, t);
    return p ? [{ actual: loads.get(t)!, usual: p.kw }] : [];
  });
  const actual = mean(pairs.map((p) => p.actual));
  const usual = mean(pairs.map((p) => p.usual));
  if (actual === null || !usual) return null;
  const uncapped = actual / usual;
  const factor = Math.min(1 + ADJUSTMENT_CAP, Math.max(1 - ADJUSTMENT_CAP, uncapped));
  return { factor, uncapped, capped: factor !== uncapped };
}

/**
 * The forecast's and the naive forecast's mean absolute error over the last `days` days before `origin`, each forecast
 * from the history before its day; a day with no reading in it or none before it is left out. Null: no day left.
 */
export function heldOutError(loads: QuarterHourLoads, origin: number, days = HOLDOUT_DAYS): ForecastError | null {
  let heldOut = 0;
  let n = 0;
  let error = 0;
  let naiveError = 0;
  for (const d of upTo(days)) {
    const dayStart = origin - d * DAY_MS;
    const naive = lastLoad(loads, dayStart);
    const actual = forecastLoads(loads, dayStart).points.filter((p) => loads.has(p.start));
    if (naive === null || actual.length === 0) continue;
    heldOut++;
    for (const p of actual) {
      n++;
      error += Math.abs(p.kw - loads.get(p.start)!);
      naiveError += Math.abs(naive - loads.get(p.start)!);
    }
  }
  return heldOut ? { held_out_days: heldOut, mae_kw: kw(error / n)!, naive_mae_kw: kw(naiveError / n)! } : null;
}

/** The mean of a forecast's points: what the allocation compares with the current load. */
export const meanLoad = (f: Forecast) => mean(f.points.map((p) => p.kw));
