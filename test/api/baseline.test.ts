// The DR baseline (10-of-10 with a capped same-day adjustment, its fallbacks) and event performance per interval:
// pure functions over hand-computed fixtures.
import { describe, expect, it } from 'vitest';
import { computeBaseline, DAY_MS, LOOKBACK_DAYS, type MeterSample } from '../../lambdas/core/analytics/baseline.js';
import { fleetIntervals, venPerformance } from '../../lambdas/core/dr/event-performance.js';

// Wednesday 2024-10-23, 14:00–14:10 UTC: two 5-minute intervals.
const S = Date.UTC(2024, 9, 23, 14, 0);
const E = S + 10 * 60_000;
const MIN = 60_000;
const at = (back: number, offsetMin: number, usedPowerKw: number, extra: Partial<MeterSample> = {}): MeterSample => ({
  time: S - back * DAY_MS + offsetMin * MIN,
  usedPowerKw,
  ...extra,
});
/** Prior days (k days back) in the layout the report reads them: priorDays[k - 1]. */
const history = (days: Record<number, MeterSample[]>) =>
  Array.from({ length: LOOKBACK_DAYS }, (_, i) => days[i + 1] ?? []);

// Weekdays back from Wed 23 Oct: 1 Tue 22, 2 Mon 21, 5 Fri 18 … 9 Mon 14, 12 Fri 11 … 16 Mon 7 (3, 4, 10, 11 are weekends).
const WEEKDAYS = [1, 2, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16];
/** Each eligible weekday, newest first, draws 10, 11, 12 … kW in the first interval and twice that in the second. */
function tenOfTen(adjustmentKw?: number): Record<number, MeterSample[]> {
  const days: Record<number, MeterSample[]> = {};
  let n = 0;
  for (const back of WEEKDAYS) {
    if (back === 2) {
      // Monday 21 had an event (a reading carries its id): not eligible, whatever it drew
      days[back] = [at(back, 1, 1), at(back, 6, 1, { eventId: 'evt-old' })];
      continue;
    }
    const kw = 10 + n++;
    days[back] = [
      at(back, 1, kw - 1),
      at(back, 3, kw + 1),
      at(back, 7, 2 * kw),
      ...(adjustmentKw !== undefined ? [at(back, -200, adjustmentKw)] : []),
    ];
  }
  // weekends draw 100 kW: never a weekday's baseline
  for (const back of [3, 4, 10, 11]) days[back] = [at(back, 1, 100), at(back, 7, 100)];
  return days;
}

describe('computeBaseline', () => {
  it('10-of-10: per interval, the mean of the 10 most recent eligible weekdays (no event, same day type)', () => {
    const b = computeBaseline({ start: S, end: E, before: [], during: [], priorDays: history(tenOfTen()) });
    // eligible: 1, 5, 6, 7, 8, 9, 12, 13, 14, 15 (10 … 19 kW); 16 (20 kW) is the 11th, Monday 21 had an event
    expect(b.method).toBe('10-of-10');
    expect(b.days).toEqual([
      '2024-10-22',
      '2024-10-18',
      '2024-10-17',
      '2024-10-16',
      '2024-10-15',
      '2024-10-14',
      '2024-10-11',
      '2024-10-10',
      '2024-10-09',
      '2024-10-08',
    ]);
    expect(b.adjustment).toBeNull();
    // first interval: (10 + … + 19) / 10 = 14.5; second: 2 × 14.5 = 29
    expect(b.intervals).toEqual([
      { start: S, end: S + 5 * MIN, baseline_kw: 14.5, source: 'history' },
      { start: S + 5 * MIN, end: E, baseline_kw: 29, source: 'history' },
    ]);
  });

  it('scales by the event day against those days from 4 h to 1 h before the start, capped to ±20%', () => {
    const priorDays = history(tenOfTen(10));
    // the last hour before the event does not count (a site may pre-cool when notified)
    const lastHour = at(0, -30, 100);
    const adjusted = computeBaseline({
      start: S,
      end: E,
      before: [at(0, -200, 11), at(0, -100, 12), lastHour],
      during: [],
      priorDays,
    });
    // 11.5 kW today over the days' 10 kW: × 1.15 → 14.5 × 1.15 = 16.675, 29 × 1.15 = 33.35
    expect(adjusted.adjustment).toEqual({ factor: 1.15, uncapped: 1.15, capped: false });
    expect(adjusted.intervals.map((i) => i.baseline_kw)).toEqual([16.675, 33.35]);
    const capped = computeBaseline({ start: S, end: E, before: [at(0, -200, 15)], during: [], priorDays });
    // 15 / 10 = 1.5, capped to 1.2: 17.4 and 34.8
    expect(capped.adjustment).toEqual({ factor: 1.2, uncapped: 1.5, capped: true });
    expect(capped.intervals.map((i) => i.baseline_kw)).toEqual([17.4, 34.8]);
    const low = computeBaseline({ start: S, end: E, before: [at(0, -200, 5)], during: [], priorDays });
    expect(low.adjustment).toEqual({ factor: 0.8, uncapped: 0.5, capped: true });
    expect(low.intervals.map((i) => i.baseline_kw)).toEqual([11.6, 23.2]);
  });

  it("falls back to fewer days, then per interval to the VEN's own baselinePowerKw", () => {
    const three = computeBaseline({
      start: S,
      end: E,
      before: [],
      during: [],
      priorDays: history({ 1: [at(1, 1, 6)], 5: [at(5, 2, 9)], 6: [at(6, 4, 3)] }),
    });
    // 6, 9, 3 kW in the first interval: 6; nothing in the second on those days, and no VEN baseline: null
    expect(three).toMatchObject({ method: '3-of-10', days: ['2024-10-22', '2024-10-18', '2024-10-17'] });
    expect(three.intervals.map((i) => [i.baseline_kw, i.source])).toEqual([
      [6, 'history'],
      [null, null],
    ]);
    const during = [
      at(0, 1, 2, { baselinePowerKw: 8 }),
      at(0, 2, 1, { baselinePowerKw: 7 }),
      at(0, 6, 1, { baselinePowerKw: 9 }),
    ];
    const own = computeBaseline({ start: S, end: E, before: [], during, priorDays: history({ 3: [at(3, 1, 50)] }) });
    expect(own).toMatchObject({ method: 'payload', days: [], adjustment: null });
    expect(own.intervals.map((i) => [i.baseline_kw, i.source])).toEqual([
      [7.5, 'payload'],
      [9, 'payload'],
    ]);
    expect(
      computeBaseline({ start: S, end: E, before: [], during: [at(0, 1, 2)], priorDays: history({}) }).method,
    ).toBe('none');
  });
});

describe('venPerformance and fleetIntervals', () => {
  const baseline = computeBaseline({ start: S, end: E, before: [], during: [], priorDays: history(tenOfTen()) });

  it('measures shed per interval against the commitment, judging no interval on a few readings', () => {
    // interval 1: load 4 and 6 → 5, shed 14.5 − 5 = 9.5; interval 2: 20.5 → 8.5; 2 and 1 of 60 readings: not judged
    const p = venPerformance(baseline, [at(0, 1, 4), at(0, 2, 6), at(0, 6, 20.5)], 10, E);
    const few = (n: number) => ({
      expected_samples: 60,
      coverage: Math.round((n / 60) * 100) / 100,
      result: 'insufficient',
      reason: `${n} of 60 readings: under 80% of them, not judged`,
      pass: null,
    });
    expect(p.intervals).toEqual([
      {
        start: S,
        end: S + 5 * MIN,
        samples: 2,
        baseline_kw: 14.5,
        metered_kw: 5,
        shed_kw: 9.5,
        commitment_kw: 10,
        ...few(2),
      },
      {
        start: S + 5 * MIN,
        end: E,
        samples: 1,
        baseline_kw: 29,
        metered_kw: 20.5,
        shed_kw: 8.5,
        commitment_kw: 10,
        ...few(1),
      },
    ]);
    // over the event: load (4 + 6 + 20.5) / 3 = 10.167, baseline per sample (14.5 + 14.5 + 29) / 3 = 19.333: 9.167
    expect(p).toMatchObject({ metered_kw: 10.167, baseline_kw: 19.333, measured_shed_kw: 9.167, samples: 3 });
    // a reading every 5 s: judged, ±10% of the commitment passes, above it is over, below it fails
    const every5s = (kw: number) => Array.from({ length: 60 }, (_, i) => ({ ...at(0, 0, kw), time: S + i * 5000 }));
    expect(venPerformance(baseline, every5s(5.5), 10, E).intervals[0]).toMatchObject({
      shed_kw: 9,
      coverage: 1,
      result: 'pass',
      pass: true,
    });
    expect(venPerformance(baseline, every5s(3.4), 10, E).intervals[0]).toMatchObject({
      shed_kw: 11.1,
      result: 'over',
      pass: false,
    });
    expect(venPerformance(baseline, every5s(6.5), 10, E).intervals[0]).toMatchObject({
      shed_kw: 8,
      result: 'fail',
      pass: false,
    });
    expect(venPerformance(baseline, [], 10, E).intervals[0]).toMatchObject({
      samples: 0,
      shed_kw: null,
      result: 'no-data',
      pass: null,
    });
  });

  it('adds the VENs up per interval against the fleet commitment, coverage over every VEN', () => {
    const a = venPerformance(baseline, [at(0, 1, 5), at(0, 6, 20)], 10, E);
    const b = venPerformance(baseline, [at(0, 2, 10.5)], 5, E);
    expect(fleetIntervals([a, b], 15, E)).toMatchObject([
      // 9.5 + 4 = 13.5 of 15 on 2 of 120 readings
      {
        start: S,
        end: S + 5 * MIN,
        vens: 2,
        samples: 2,
        baseline_kw: 29,
        metered_kw: 15.5,
        shed_kw: 13.5,
        commitment_kw: 15,
        expected_samples: 120,
        result: 'insufficient',
      },
      // only a measured: 9 of 15, 1 of 120 readings
      {
        start: S + 5 * MIN,
        end: E,
        vens: 1,
        samples: 1,
        baseline_kw: 29,
        metered_kw: 20,
        shed_kw: 9,
        commitment_kw: 15,
        expected_samples: 120,
        result: 'insufficient',
      },
    ]);
  });
});
