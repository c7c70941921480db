// A VEN's baseline for a DR event: what it would have drawn without the event, per 5-minute interval, as the
// demand-response markets define it (CAISO's and NYISO's "10-in-10" customer baseline with a day-of adjustment).
//
//  1. Eligible days: the days before the event, searched back LOOKBACK_DAYS, of the event day's type (weekday:
//     Monday–Friday, or weekend; days in UTC) with readings in the event window and no reading that carries an
//     `eventId` (a day the VEN was in an event) in what is read of it. The BASELINE_DAYS most recent are used.
//  2. Per interval (event start + k × 5 min): the mean `usedPowerKw` of each eligible day's readings in the same
//     clock interval, then the mean over the days that have one ("10-of-10"; "n-of-10" with fewer days).
//  3. Same-day adjustment: the event day's mean load in the adjustment window (from 4 h to 1 h before the event
//     start: the hour just before is left out, when a notified site may pre-cool) over the same days' mean in that
//     window. The ratio, capped to 1 ± ADJUSTMENT_CAP, scales every interval. No readings there: no adjustment.
//  4. No eligible day: each interval falls back to the mean `baselinePowerKw` the VEN itself reported in it (seed
//     001's metering: load plus what the event holds off); an interval with no history on the days used, likewise.
// Pure: samples in, numbers out. Hand-computed fixtures in test/api/baseline.test.ts pin the arithmetic.

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
  /** `priorDays[k - 1]`: the readings of k days before, from its adjustment window to its event window's end. */
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

export const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : null);
export const kw = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);
const loadIn = (samples: readonly MeterSample[], from: number, to: number) =>
  mean(samples.filter((s) => s.time >= from && s.time < to && s.eventId === undefined).map((s) => s.usedPowerKw));
export const isWeekend = (time: number) => [0, 6].includes(new Date(time).getUTCDay());
const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The event window in 5-minute intervals from its start; the last one may be shorter. */
export function eventIntervals(start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let t = start; t < end; t += INTERVAL_MS) out.push({ start: t, end: Math.min(end, t + INTERVAL_MS) });
  return out;
}

export function computeBaseline(input: BaselineInput): Baseline {
  const { start, end } = input;
  const weekend = isWeekend(start);
  const days = input.priorDays
    .map((samples, i) => ({ back: (i + 1) * DAY_MS, samples }))
    .filter(({ back, samples }) =>
      isWeekend(start - back) === weekend &&
      !samples.some((s) => s.eventId !== undefined) &&
      loadIn(samples, start - back, end - back) !== null,
    )
    .slice(0, BASELINE_DAYS);
  const adjustment = days.length ? adjust(input, days) : null;
  const factor = adjustment?.factor ?? 1;
  const intervals = eventIntervals(start, end).map((iv): BaselineInterval => {
    const history = mean(days.flatMap(({ back, samples }) => loadIn(samples, iv.start - back, iv.end - back) ?? []));
    if (history !== null) return { ...iv, baseline_kw: kw(history * factor), source: 'history' };
    const own = mean(input.during.filter((s) => s.time >= iv.start && s.time < iv.end && s.baselinePowerKw !== undefined).map((s) => s.baselinePowerKw!));
    return { ...iv, baseline_kw: kw(own), source: own === null ? null : 'payload' };
  });
  const method = days.length
    ? `${days.length}-of-${BASELINE_DAYS}`
    : intervals.some((i) => i.source === 'payload')
      ? 'payload'
      : 'none';
  return { method, days: days.map(({ back }) => dayOf(start - back)), adjustment, intervals };
}

function adjust(input: BaselineInput, days: readonly { back: number; samples: readonly MeterSample[] }[]): Baseline['adjustment'] {
  const from = input.start - ADJUSTMENT_FROM_MS;
  const to = input.start - ADJUSTMENT_TO_MS;
  const actual = loadIn(input.before, from, to);
  const usual = mean(days.flatMap(({ back, samples }) => loadIn(samples, from - back, to - back) ?? []));
  if (actual === null || !usual) return null;
  const uncapped = actual / usual;
  const factor = Math.min(1 + ADJUSTMENT_CAP, Math.max(1 - ADJUSTMENT_CAP, uncapped));
  return { factor: kw(factor)!, uncapped: kw(uncapped)!, capped: factor !== uncapped };
}
