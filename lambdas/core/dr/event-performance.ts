// How an event performed, per 5-minute interval: measured shed (baseline less metered load) against the commitment,
// per VEN and for the fleet. An interval is judged only once it has closed and only on enough data: it passes when the
// shed is within PERFORMANCE_TOLERANCE of the commitment and at least MIN_COVERAGE of the readings expected (one every
// READING_MS) were used; above the commitment it is `over` (with why), below it `fail`. A VEN's commitment is what it
// was expected to shed (its expected_kw, else its allocated kW); the fleet's is the kW requested. Pure.
import { kw, mean, type Baseline, type MeterSample } from '../analytics/baseline.js';
import { PERFORMANCE_TOLERANCE } from '../contracts/performance.js';

export { PERFORMANCE_TOLERANCE };

/** How often a VEN meters (the device agent's default period; an economy VEN batches them but keeps the period). */
export const READING_MS = 5_000;
/** The share of expected readings an interval needs before it is judged: below it, `insufficient`. */
export const MIN_COVERAGE = 0.8;

/**
 * An interval's verdict: `running` while it has not closed, `no-data` with no reading, `insufficient` under
 * MIN_COVERAGE, else `pass`, `over` (shed above commitment + tolerance) or `fail` (below commitment − tolerance).
 */
export type IntervalResult = 'running' | 'no-data' | 'insufficient' | 'pass' | 'over' | 'fail';

export interface IntervalPerformance {
  readonly start: number;
  readonly end: number;
  readonly samples: number;
  readonly baseline_kw: number | null;
  readonly metered_kw: number | null;
  readonly shed_kw: number | null;
  readonly commitment_kw: number;
  /** Readings one every READING_MS would give over the interval (so far, while it runs). */
  readonly expected_samples: number;
  /** samples / expected_samples, 0..1 (two decimals). */
  readonly coverage: number;
  readonly result: IntervalResult;
  /** Why, for `over`, `fail`, `insufficient` and `no-data`. */
  readonly reason?: string;
  /** true only for `pass`; false for `over` and `fail`; null while not judged. */
  readonly pass: boolean | null;
}

export interface VenPerformance {
  readonly metered_kw: number | null;
  /** The baseline over the event's samples (each sample at its interval's baseline). */
  readonly baseline_kw: number | null;
  readonly measured_shed_kw: number | null;
  readonly samples: number;
  readonly intervals: IntervalPerformance[];
}

/** How many readings an interval should have by `now`. */
export const expectedSamples = (start: number, end: number, now: number) =>
  Math.max(1, Math.floor((Math.min(end, now) - start) / READING_MS));

/** The judgement of an interval: see IntervalResult. */
export function judge(
  iv: { end: number; samples: number; expected_samples: number; shed_kw: number | null; commitment_kw: number },
  now: number,
): Pick<IntervalPerformance, 'result' | 'reason' | 'pass' | 'coverage'> {
  const coverage = Math.min(1, Math.round((iv.samples / iv.expected_samples) * 100) / 100);
  const shares = `${iv.samples} of ${iv.expected_samples} readings`;
  if (now < iv.end) return { coverage, result: 'running', pass: null };
  if (iv.samples === 0 || iv.shed_kw === null)
    return { coverage, result: 'no-data', reason: 'no readings in the interval', pass: null };
  if (iv.samples < MIN_COVERAGE * iv.expected_samples) {
    return {
      coverage,
      result: 'insufficient',
      reason: `${shares}: under ${MIN_COVERAGE * 100}% of them, not judged`,
      pass: null,
    };
  }
  const high = iv.commitment_kw * (1 + PERFORMANCE_TOLERANCE);
  const low = iv.commitment_kw * (1 - PERFORMANCE_TOLERANCE);
  if (iv.shed_kw > high + 1e-9) {
    return {
      coverage,
      result: 'over',
      reason: `shed ${iv.shed_kw} kW is above the commitment ${iv.commitment_kw} kW + ${PERFORMANCE_TOLERANCE * 100}% (${kw(high)} kW)`,
      pass: false,
    };
  }
  if (iv.shed_kw < low - 1e-9) {
    return {
      coverage,
      result: 'fail',
      reason: `shed ${iv.shed_kw} kW is below the commitment ${iv.commitment_kw} kW − ${PERFORMANCE_TOLERANCE * 100}% (${kw(low)} kW)`,
      pass: false,
    };
  }
  return { coverage, result: 'pass', pass: true };
}

export function venPerformance(
  baseline: Baseline,
  during: readonly MeterSample[],
  commitmentKw: number,
  now: number,
): VenPerformance {
  const intervals = baseline.intervals.map((iv): IntervalPerformance => {
    const inside = during.filter((s) => s.time >= iv.start && s.time < iv.end);
    const metered = mean(inside.map((s) => s.usedPowerKw));
    const shed = metered !== null && iv.baseline_kw !== null ? kw(iv.baseline_kw - metered) : null;
    const measured = {
      start: iv.start,
      end: iv.end,
      samples: inside.length,
      baseline_kw: iv.baseline_kw,
      metered_kw: kw(metered),
      shed_kw: shed,
      commitment_kw: commitmentKw,
    };
    const expected = { ...measured, expected_samples: expectedSamples(iv.start, iv.end, now) };
    return { ...expected, ...judge(expected, now) };
  });
  const perSample = during.flatMap((s) => {
    const b = baseline.intervals.find((iv) => s.time >= iv.start && s.time < iv.end)?.baseline_kw;
    return b === null || b === undefined ? [] : [b];
  });
  const metered = mean(during.map((s) => s.usedPowerKw));
  const base = mean(perSample);
  return {
    metered_kw: kw(metered),
    baseline_kw: kw(base),
    measured_shed_kw: metered !== null && base !== null ? kw(base - metered) : null,
    samples: during.length,
    intervals,
  };
}

/**
 * The fleet per interval: the VENs' baselines, loads and sheds added up (over the VENs measured there); its coverage
 * over every VEN in the interval, so VENs that dropped out count against it.
 */
export function fleetIntervals(
  vens: readonly VenPerformance[],
  commitmentKw: number,
  now: number,
): (IntervalPerformance & { vens: number })[] {
  // a VEN released early has fewer intervals: the longest list spans the event
  const first = vens.reduce<readonly IntervalPerformance[]>(
    (longest, v) => (v.intervals.length > longest.length ? v.intervals : longest),
    [],
  );
  return first.map((iv, i) => {
    const present = vens.flatMap((v) => v.intervals[i] ?? []);
    const measured = present.filter((x) => x.shed_kw !== null);
    const sum = (key: 'baseline_kw' | 'metered_kw' | 'shed_kw') => kw(measured.reduce((s, x) => s + x[key]!, 0));
    const shed = measured.length ? sum('shed_kw') : null;
    const fleet = {
      start: iv.start,
      end: iv.end,
      vens: measured.length,
      samples: measured.reduce((s, x) => s + x.samples, 0),
      baseline_kw: measured.length ? sum('baseline_kw') : null,
      metered_kw: measured.length ? sum('metered_kw') : null,
      shed_kw: shed,
      commitment_kw: commitmentKw,
      expected_samples: Math.max(
        1,
        present.reduce((s, x) => s + x.expected_samples, 0),
      ),
    };
    return { ...fleet, ...judge(fleet, now) };
  });
}

/**
 * An event's result from its fleet intervals: none while any runs (or none exists); `pass` when every one passed;
 * `fail` when any failed or could not be judged (no data, too few readings); else `over`.
 */
export function eventResult(
  intervals: readonly Pick<IntervalPerformance, 'result'>[],
): 'pass' | 'fail' | 'over' | null {
  if (intervals.length === 0 || intervals.some((iv) => iv.result === 'running')) return null;
  if (intervals.every((iv) => iv.result === 'pass')) return 'pass';
  return intervals.some((iv) => iv.result !== 'pass' && iv.result !== 'over') ? 'fail' : 'over';
}
