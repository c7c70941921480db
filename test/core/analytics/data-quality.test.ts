// Data-quality arithmetic (lambdas/core/analytics/data-quality.ts) on hand-made samples: the figures worked out by hand.
import { describe, expect, it } from 'vitest';
import { dataQuality, sampleIntervalMs } from '../../../lambdas/core/analytics/data-quality.js';

const T0 = Date.UTC(2026, 10, 1);
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('sampleIntervalMs', () => {
  it('takes the most frequent spacing in whole seconds, the shorter on a tie, once it is seen twice', () => {
    expect(sampleIntervalMs([0, 5_000, 10_002, 14_999, 60_000])).toBe(5_000);
    expect(sampleIntervalMs([0, 5_000, 10_000, 20_000, 30_000])).toBe(5_000);
  });

  it('falls back to the registry interval, then 60 s, when no spacing repeats', () => {
    expect(sampleIntervalMs([0, 5_000, 60_000], 30_000)).toBe(30_000);
    expect(sampleIntervalMs([])).toBe(60_000);
  });
});

describe('dataQuality', () => {
  // one sample a minute over an hour, written 2 s after its time, with minutes 10-14 and 30 missing
  const minutes = Array.from({ length: 60 }, (_, k) => k).filter((k) => !(k >= 10 && k < 15) && k !== 30);
  const onTime = minutes.map((k) => ({ time: T0 + k * MIN, writtenAt: T0 + k * MIN + 2_000 }));

  it('counts expected, received, completeness and the gaps longer than two intervals', () => {
    const q = dataQuality({ from: T0, to: T0 + 60 * MIN, now: T0 + 60 * MIN, samples: onTime });
    expect(q).toMatchObject({
      expected_interval_sec: 60,
      expected: 60,
      received: 54,
      completeness_pct: 90,
      late: 0,
      out_of_order: 0,
      quiet: false,
    });
    // 9 → 15 is six minutes; 29 → 31 is exactly two intervals: not a gap
    expect(q.gaps).toEqual([{ start: iso(T0 + 9 * MIN), end: iso(T0 + 15 * MIN), length_sec: 360 }]);
  });

  it('counts a gap from the window start and one to now (not past it), and flags a device quiet past two intervals', () => {
    const tail = onTime.filter((s) => s.time >= T0 + 20 * MIN && s.time <= T0 + 40 * MIN);
    const q = dataQuality({ from: T0, to: T0 + 120 * MIN, now: T0 + 60 * MIN, samples: tail });
    expect(q.expected).toBe(60);
    expect(q.received).toBe(20);
    expect(q.gaps).toEqual([
      { start: iso(T0 + 40 * MIN), end: iso(T0 + 60 * MIN), length_sec: 1200 },
      { start: iso(T0), end: iso(T0 + 20 * MIN), length_sec: 1200 },
    ]);
    expect(q.quiet).toBe(true);
    // 2 × 60 s + 15 s after its newest sample the device is quiet, not before
    expect(dataQuality({ from: T0, to: T0 + 42 * MIN, now: T0 + 42 * MIN + 15_000, samples: tail }).quiet).toBe(false);
    expect(dataQuality({ from: T0, to: T0 + 42 * MIN, now: T0 + 42 * MIN + 15_001, samples: tail }).quiet).toBe(true);
  });

  it('counts late samples (stored more than two reporting intervals and the margin after their time) and out-of-order ones', () => {
    const samples = [
      ...onTime.filter((s) => s.time < T0 + 50 * MIN),
      // minutes 50-59 arrive in one write 10 minutes late: late, in order
      ...minutes.filter((k) => k >= 50).map((k) => ({ time: T0 + k * MIN, writtenAt: T0 + 69 * MIN })),
      // minutes 10 and 11 backfilled after everything: late and out of order
      { time: T0 + 10 * MIN, writtenAt: T0 + 70 * MIN },
      { time: T0 + 11 * MIN, writtenAt: T0 + 70 * MIN },
    ];
    const q = dataQuality({ from: T0, to: T0 + 60 * MIN, now: T0 + 70 * MIN, samples });
    expect(q).toMatchObject({ received: 56, late: 12, out_of_order: 2, late_after_sec: 135 });
  });

  it('says null for late and out-of-order where the store keeps no write times (Timestream)', () => {
    const q = dataQuality({
      from: T0,
      to: T0 + 60 * MIN,
      now: T0 + 60 * MIN,
      samples: onTime.map(({ time }) => ({ time })),
    });
    expect(q.late).toBeNull();
    expect(q.out_of_order).toBeNull();
  });

  it('caps completeness at 100% and counts a time given twice once', () => {
    const q = dataQuality({
      from: T0,
      to: T0 + 2 * MIN,
      now: T0 + 2 * MIN,
      samples: [0, 20_000, 40_000, 60_000, 60_000, 80_000, 100_000].map((d) => ({ time: T0 + d })),
      reportIntervalMs: 60_000,
    });
    expect(q).toMatchObject({ expected_interval_sec: 20, expected: 6, received: 6, completeness_pct: 100 });
  });
});
