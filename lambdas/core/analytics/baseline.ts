// A VEN's baseline for a DR event: what it would have drawn without the event, per 5-minute interval, as the
// demand-response markets define it (CAISO's and NYISO's "10-in-10" customer baseline with a day-of adjustment), in
// the local days of the event's program (market-days.ts; the built-in program: UTC days, no holidays, 10-of-10).
//
//  1. Eligible days: the local days before the event, searched back the rule's `lookback_days`, of the event day's
//     type (weekday: Monday–Friday and not a holiday of the program's calendar; or weekend/holiday) with readings in
//     the event window and no reading that carries an `eventId` (a day the VEN was in an event) in what is read of it.
//     The rule's m most recent are kept; of those the n with the highest mean load in the event window are used.
//  2. Per interval (event start + k × 5 min): the mean `usedPowerKw` of each eligible day's readings in the same
//     wall-clock interval of that day (across a DST change that is 23 or 25 hours from the same time a day later), then
//     the mean over the days that have one ("10-of-10"; "n-of-10" with fewer days).
//  3. Same-day adjustment: the event day's mean load in the adjustment window (by default from 4 h to 1 h before the
//     event start: the hour just before is left out, when a notified site may pre-cool) over the same days' mean in
//     that window. The ratio, capped to 1 ± the rule's cap, scales every interval. No readings there: no adjustment.
//  4. No eligible day: each interval falls back to the mean `baselinePowerKw` the VEN itself reported in it (the VOLTTRON
//     VEN's metering: load plus what the event holds off); an interval with no history on the days used, likewise.
// Pure: samples in, numbers out. Hand-computed fixtures in test/api/baseline.test.ts and test/unit/market-time.test.ts
// pin the arithmetic.
import { DEFAULT_TERMS, marketDays, type MarketDays, type MarketTerms } from '../programs/market-days.js';

export const BASELINE_DAYS = 10;
/** Calendar days searched back for eligible days: 10 weekdays with a few event days and holidays among them. */
export const LOOKBACK_DAYS = 21;
export const INTERVAL_MS = 5 * 60_000;
export const DAY_MS = 86_400_000;
/** The adjustment window, before the event start. */
export const ADJUSTMENT_FROM_MS = 4 * 3_600_000;
export const ADJUSTMENT_TO_MS = 1 * 3_600_000;
/** The adjustment factor is kept within 1 ± this (±20%). */
export const ADJUSTMENT_CAP = 0.2;

export interface MeterSample {
  /** Epoch ms. */
  readonly time: number;
  readonly usedPowerKw: number;
  readonly baselinePowerKw?: number;
  readonly eventId?: string;
}

export interface BaselineInput {
  /** The event window, epoch ms. */
  readonly start: number;
  readonly end: number;
  /** The event day's readings in the adjustment window. */
  readonly before: readonly MeterSample[];
  /** Readings during the event. */
  readonly during: readonly MeterSample[];
  /** `priorDays[k - 1]`: the readings of the local day k days before, from its adjustment window to its event window's end. */
  readonly priorDays: readonly (readonly MeterSample[])[];
}

export interface BaselineInterval {
  readonly start: number;
  readonly end: number;
  readonly baseline_kw: number | null;
  readonly source: 'history' | 'payload' | null;
}

export interface Baseline {
  /** `10-of-10`, `n-of-10`, `payload` (the VEN's own baselinePowerKw) or `none`. */
  readonly method: string;
  /** The days used, newest first (YYYY-MM-DD, UTC). */
  readonly days: string[];
  readonly adjustment: { readonly factor: number; readonly uncapped: number; readonly capped: boolean } | null;
  readonly intervals: BaselineInterval[];
}

export const mean = (values: readonly number[]) =>
  values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
export const kw = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);
const loadIn = (samples: readonly MeterSample[], from: number, to: number) =>
  mean(samples.filter((s) => s.time >= from && s.time < to && s.eventId === undefined).map((s) => s.usedPowerKw));

/** The event window in 5-minute intervals from its start; the last one may be shorter. */
export function eventIntervals(start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let t = start; t < end; t += INTERVAL_MS) out.push({ start: t, end: Math.min(end, t + INTERVAL_MS) });
  return out;
}

/**
 * `priorDays[k - 1]`: the readings of the local day k days before (`marketDays(start, terms).prior[k - 1]`), from its
 * adjustment window to its event window's end, each shifted by that day's `back`.
 */
export function computeBaseline(input: BaselineInput, terms: MarketTerms = DEFAULT_TERMS): Baseline {
  const { start, end } = input;
  const market = marketDays(start, terms);
  const { n, m } = market.rule[market.type];
  const recent = market.prior
    .map((day) => ({ ...day, samples: input.priorDays[day.k - 1] ?? [] }))
    .filter(
      ({ type, back, samples }) =>
        type === market.type &&
        !samples.some((s) => s.eventId !== undefined) &&
        loadIn(samples, start - back, end - back) !== null,
    )
    .slice(0, m);
  // n of m: the n with the highest load in the event window, newest first still
  const load = new Map(
    recent.length > n ? recent.map((d) => [d, loadIn(d.samples, start - d.back, end - d.back)!]) : [],
  );
  const highest = new Set([...recent].sort((a, b) => load.get(b)! - load.get(a)!).slice(0, n));
  const days = recent.length > n ? recent.filter((d) => highest.has(d)) : recent;
  const adjustment = days.length ? adjust(input, days, market) : null;
  const factor = adjustment?.factor ?? 1;
  const intervals = eventIntervals(start, end).map((iv): BaselineInterval => {
    const history = mean(days.flatMap(({ back, samples }) => loadIn(samples, iv.start - back, iv.end - back) ?? []));
    if (history !== null) return { ...iv, baseline_kw: kw(history * factor), source: 'history' };
    const own = mean(
      input.during
        .filter((s) => s.time >= iv.start && s.time < iv.end && s.baselinePowerKw !== undefined)
        .map((s) => s.baselinePowerKw!),
    );
    return { ...iv, baseline_kw: kw(own), source: own === null ? null : 'payload' };
  });
  const method = days.length
    ? `${days.length}-of-${m}`
    : intervals.some((i) => i.source === 'payload')
      ? 'payload'
      : 'none';
  return { method, days: days.map((d) => d.date), adjustment, intervals };
}

/** The adjustment window before `start` of a rule, [from, to); null when the rule has none. */
export function adjustmentWindow(start: number, rule: MarketDays['rule']): { from: number; to: number } | null {
  const a = rule.adjustment;
  return a ? { from: start - a.window_start_min * 60_000, to: start - a.window_end_min * 60_000 } : null;
}

function adjust(
  input: BaselineInput,
  days: readonly { back: number; samples: readonly MeterSample[] }[],
  market: MarketDays,
): Baseline['adjustment'] {
  const window = adjustmentWindow(input.start, market.rule);
  if (!window) return null;
  const { from, to } = window;
  const cap = market.rule.adjustment!.cap;
  const actual = loadIn(input.before, from, to);
  const usual = mean(days.flatMap(({ back, samples }) => loadIn(samples, from - back, to - back) ?? []));
  if (actual === null || !usual) return null;
  const uncapped = actual / usual;
  const factor = Math.min(1 + cap, Math.max(1 - cap, uncapped));
  return { factor: kw(factor)!, uncapped: kw(uncapped)!, capped: factor !== uncapped };
}

/**
 * What the baseline of an event over [start, end) reads: the event, the adjustment window before it, and both again
 * on each look-back day of the event day's type at that day's shift (another type is never eligible: not read).
 */
export function baselineReads(start: number, end: number, terms: MarketTerms = DEFAULT_TERMS) {
  const market = marketDays(start, terms);
  const window = adjustmentWindow(start, market.rule);
  return {
    market,
    before: window,
    /** Per look-back day (index k − 1): the windows to read, or null (another day type). */
    priorDays: market.prior.map((day) =>
      day.type !== market.type
        ? null
        : [
            ...(window ? [{ from: window.from - day.back, to: window.to - day.back }] : []),
            { from: start - day.back, to: end - day.back },
          ],
    ),
  };
}
