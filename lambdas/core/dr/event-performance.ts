// How an event performed, per 5-minute interval: measured shed (baseline less metered load) against the commitment,
// per VEN and for the fleet, each interval passing when the shed is within PERFORMANCE_TOLERANCE of the commitment.
// A VEN's commitment is what it was expected to shed (its expected_kw, else its allocated kW); the fleet's is the kW requested. Pure.
import { kw, mean, type Baseline, type MeterSample } from '../analytics/baseline.js';
import { PERFORMANCE_TOLERANCE } from '../contracts/performance.js';

export { PERFORMANCE_TOLERANCE };

export interface IntervalPerformance {
  readonly start: number;
  readonly end: number;
  readonly samples: number;
  readonly baseline_kw: number | null;
  readonly metered_kw: number | null;
  readonly shed_kw: number | null;
  readonly commitment_kw: number;
  /** null: nothing measured in the interval. */
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

export const verdict = (shed: number | null, commitment: number) =>
  shed === null ? null : Math.abs(shed - commitment) <= PERFORMANCE_TOLERANCE * commitment + 1e-9;

export function venPerformance(baseline: Baseline, during: readonly MeterSample[], commitmentKw: number): VenPerformance {
  const intervals = baseline.intervals.map((iv): IntervalPerformance => {
    const inside = during.filter((s) => s.time >= iv.start && s.time < iv.end);
    const metered = mean(inside.map((s) => s.usedPowerKw));
    const shed = metered !== null && iv.baseline_kw !== null ? kw(iv.baseline_kw - metered) : null;
    return { start: iv.start, end: iv.end, samples: inside.length, baseline_kw: iv.baseline_kw, metered_kw: kw(metered), shed_kw: shed, commitment_kw: commitmentKw, pass: verdict(shed, commitmentKw) };
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

/** The fleet per interval: the VENs' baselines, loads and sheds added up (over the VENs measured there). */
export function fleetIntervals(vens: readonly VenPerformance[], commitmentKw: number): (IntervalPerformance & { vens: number })[] {
  // a VEN released early has fewer intervals: the longest list spans the event
  const first = vens.reduce<readonly IntervalPerformance[]>((longest, v) => (v.intervals.length > longest.length ? v.intervals : longest), []);
  return first.map((iv, i) => {
    const measured = vens.flatMap((v) => v.intervals[i] ?? []).filter((x) => x.shed_kw !== null);
    const sum = (key: 'baseline_kw' | 'metered_kw' | 'shed_kw') => kw(measured.reduce((s, x) => s + x[key]!, 0));
    const shed = measured.length ? sum('shed_kw') : null;
    return {
      start: iv.start,
      end: iv.end,
      vens: measured.length,
      samples: measured.reduce((s, x) => s + x.samples, 0),
      baseline_kw: measured.length ? sum('baseline_kw') : null,
      metered_kw: measured.length ? sum('metered_kw') : null,
      shed_kw: shed,
      commitment_kw: commitmentKw,
      pass: verdict(shed, commitmentKw),
    };
  });
}
