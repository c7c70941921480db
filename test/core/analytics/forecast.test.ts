// The load forecast (weekly profile, same-day adjustment, fallbacks) and its held-out error: pure functions over
// hand-computed fixtures.
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../lambdas/core/analytics/baseline.js';
import { forecastLoads, heldOutError, lastLoad, SLOT_MS, WEEK_MS } from '../../../lambdas/core/analytics/forecast.js';

// Wednesday 2024-10-23 00:00 UTC.
const O = Date.UTC(2024, 9, 23);
const H = 3_600_000;
const loads = (entries: [number, number][]) => new Map(entries);

describe('forecastLoads', () => {
  it('96 points from the origin; per slot the mean of the same weekday slot over the weeks there are', () => {
    const f = forecastLoads(
      loads([
        [O - WEEK_MS, 10],
        [O - 2 * WEEK_MS, 20],
        [O + SLOT_MS - WEEK_MS, 4],
      ]),
      O,
    );
    expect(f.points).toHaveLength(96);
    expect(f.points[95]!.start).toBe(O + 95 * SLOT_MS);
    // no reading in the last 3 h: no adjustment
    expect(f.adjustment).toBeNull();
    expect(f.points[0]).toEqual({ start: O, kw: 15, source: 'weekly' });
    expect(f.points[1]).toEqual({ start: O + SLOT_MS, kw: 4, source: 'weekly' });
    // no weekly or daily history for the other slots: the last slot's mean (4 kW, a week ago) held
    expect(f.points[2]).toEqual({ start: O + 2 * SLOT_MS, kw: 4, source: 'level' });
  });

  it('scales profile points by the last 3 h over their profile, capped to ±20%', () => {
    const last = O - SLOT_MS;
    const history: [number, number][] = [
      [O - WEEK_MS, 10],
      [O - 2 * WEEK_MS, 20],
      [last - WEEK_MS, 14],
      [last - 2 * WEEK_MS, 16],
    ];
    // 18 kW now over a usual 15: × 1.2 (not capped); the level fallback is left unscaled
    const f = forecastLoads(loads([...history, [last, 18]]), O);
    expect(f.adjustment).toEqual({ factor: 1.2, uncapped: 1.2, capped: false });
    expect(f.points[0]!.kw).toBeCloseTo(18, 9);
    expect(f.points[1]).toMatchObject({ kw: 18, source: 'level' });
    const high = forecastLoads(loads([...history, [last, 30]]), O);
    expect(high.adjustment).toEqual({ factor: 1.2, uncapped: 2, capped: true });
    expect(high.points[0]!.kw).toBeCloseTo(18, 9);
    const low = forecastLoads(loads([...history, [last, 3]]), O);
    expect(low.adjustment).toEqual({ factor: 0.8, uncapped: 0.2, capped: true });
    expect(low.points[0]!.kw).toBeCloseTo(12, 9);
  });

  it('falls back to the same slot on the last days, then to the mean of the last 3 h', () => {
    const f = forecastLoads(
      loads([
        [O - DAY_MS, 6],
        [O - 2 * DAY_MS, 9],
        [O - 2 * H, 2],
        [O - H, 4],
      ]),
      O,
    );
    // slot 0: Tue 6 and Mon 9 → 7.5, with no profile for the last 3 h no adjustment; slot 1: the last 3 h's mean, 3
    expect(f.points.slice(0, 2)).toEqual([
      { start: O, kw: 7.5, source: 'daily' },
      { start: O + SLOT_MS, kw: 3, source: 'level' },
    ]);
  });

  it('reads nothing at or after the origin, and forecasts nothing from no history', () => {
    const f = forecastLoads(
      loads([
        [O, 100],
        [O + WEEK_MS, 100],
        [O - WEEK_MS, 5],
      ]),
      O,
    );
    expect(f.points[0]!.kw).toBe(5);
    expect(f.points[1]!.kw).toBe(5);
    expect(forecastLoads(loads([[O, 100]]), O)).toEqual({ points: [], adjustment: null });
    expect(
      lastLoad(
        loads([
          [O, 1],
          [O - H, 2],
          [O - 2 * H, 3],
        ]),
        O,
      ),
    ).toBe(2);
  });
});

describe('heldOutError', () => {
  it('each held-out day forecast from the history before it, against the last value held flat', () => {
    // a load of 10 kW at 06:00 and 2 kW otherwise, every day for five weeks before O: the daily shape repeats
    const history: [number, number][] = [];
    for (let t = O - 5 * WEEK_MS; t < O; t += SLOT_MS) history.push([t, (t - O) % DAY_MS === -18 * H ? 10 : 2]);
    const e = heldOutError(loads(history), O);
    // the profile repeats exactly: no error; naive holds 2 kW and misses the 8 kW peak once in 96 slots
    expect(e).toEqual({ held_out_days: 7, mae_kw: 0, naive_mae_kw: 0.083 });
    expect(heldOutError(loads(history), O, 2)?.held_out_days).toBe(2);
  });

  it('leaves out days with no reading before them; null when none is left', () => {
    // readings on the last day only: day 1 has none before it
    expect(heldOutError(loads([[O - 3 * SLOT_MS, 4]]), O)).toBeNull();
    // day 1 (Tue) has readings and one before it; day 2 has none before it
    const e = heldOutError(
      loads([
        [O - DAY_MS - SLOT_MS, 4],
        [O - DAY_MS, 6],
        [O - DAY_MS + SLOT_MS, 2],
      ]),
      O,
    );
    // forecast: the last 3 h before Tue 00:00 (4 kW) flat, and so is naive: |4 − 6| and |4 − 2|
    expect(e).toEqual({ held_out_days: 1, mae_kw: 2, naive_mae_kw: 2 });
  });
});
