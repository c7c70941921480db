// The rollup arithmetic on hand-computed figures: interval means, net import/export, demand peak, SOC, shed, groups.
import { describe, expect, it } from 'vitest';
import { committedKwh, nodeMetrics, percentileRank } from '../../../lambdas/core/analytics/node-benchmarks.js';
import {
  bucketEnd,
  bucketStart,
  combine,
  groupInterval,
  intervalRow,
  rollupSample,
  rollupView,
} from '../../../lambdas/core/analytics/rollups.js';

const T0 = Date.UTC(2026, 10, 1); // 2026-11-01T00:00Z
const MIN = 60_000;

describe('rollup arithmetic', () => {
  it('a VEN interval: the mean kW of its samples × 0.25 h, SOC min and mean, shed only over samples of an event', () => {
    const row = intervalRow(
      T0,
      [
        { time: T0, kw: 2, socPct: 80 },
        { time: T0 + 5 * MIN, kw: 4, socPct: 70, shedKw: 1 },
        { time: T0 + 10 * MIN, kw: 6, socPct: 60, shedKw: 3 },
      ],
      true,
    );
    expect(rollupView(row)).toEqual({
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-11-01T00:15:00.000Z',
      samples: 3,
      import_kwh: 1,
      export_kwh: 0,
      mean_kw: 4,
      peak_kw: 4,
      min_soc_pct: 60,
      mean_soc_pct: 70,
      shed_kwh: 0.5,
      online_hours: 0.25,
    });
  });

  it('a day of a device: energy sums, mean over intervals with samples, the peak is the highest 15-minute mean', () => {
    const a = intervalRow(
      T0,
      [
        { time: T0, kw: 2 },
        { time: T0 + MIN, kw: 10 },
      ],
      false,
    ); // mean 6 → 1.5 kWh
    const b = intervalRow(T0 + 3_600_000, [{ time: T0 + 3_600_000, kw: -4 }], false); // export 1 kWh
    const day = combine('1d', T0, [combine('1h', T0, [a]), combine('1h', T0 + 3_600_000, [b])]);
    expect(rollupView(day)).toMatchObject({
      end: '2026-11-02T00:00:00.000Z',
      samples: 3,
      import_kwh: 1.5,
      export_kwh: 1,
      mean_kw: 1,
      peak_kw: 6,
      shed_kwh: null,
      online_hours: 0.5,
    });
  });

  it('a group nets its members per interval: a site of a battery charging and a PV exporting', () => {
    const bess = intervalRow(T0, [{ time: T0, kw: 3, socPct: 40 }], false);
    const pv = intervalRow(T0, [{ time: T0, kw: -5 }], false);
    expect(rollupView(groupInterval(T0, [bess, pv]))).toMatchObject({
      import_kwh: 0,
      export_kwh: 0.5,
      mean_kw: -2,
      peak_kw: -2,
      min_soc_pct: 40,
      mean_soc_pct: 40,
      online_hours: 0.5,
      shed_kwh: null,
    });
  });

  it('reads kW per series: VEN usedPowerKw, DER mw × −1000 (generation negative), Winter River power_kw', () => {
    expect(
      rollupSample('ven_telemetry', {
        time: 1,
        measures: { usedPowerKw: 3, baselinePowerKw: 5, eventId: 'e1', batterySOC: 50 },
      }),
    ).toEqual({ time: 1, kw: 3, socPct: 50, shedKw: 2 });
    expect(rollupSample('ven_telemetry', { time: 1, measures: { usedPowerKw: 3, baselinePowerKw: 5 } })).toEqual({
      time: 1,
      kw: 3,
    });
    expect(rollupSample('der_asset_sample', { time: 1, measures: { mw: 0.002, soc_pct: 55 } })).toEqual({
      time: 1,
      kw: -2,
      socPct: 55,
    });
    expect(rollupSample('winter_river_status', { time: 1, measures: { power_kw: 7.5 } })).toEqual({ time: 1, kw: 7.5 });
  });

  it('buckets: UTC quarter hours, hours, days and calendar months', () => {
    const t = Date.UTC(2026, 1, 14, 13, 44, 59);
    expect(new Date(bucketStart('15m', t)).toISOString()).toBe('2026-02-14T13:30:00.000Z');
    expect(new Date(bucketStart('1mo', t)).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(new Date(bucketEnd('1mo', bucketStart('1mo', t))).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('benchmarks: committed shed counts only the part of an event inside the window; percentile rank counts ties', () => {
    const event = {
      eventId: 'e',
      requested_kw: 5,
      duration_sec: 7200,
      startedAt: T0 - 3_600_000,
      endsAt: T0 + 3_600_000,
      shortfall_kw: 0,
      excluded: [],
      allocations: [
        { venId: 'v1', shed_kw: 3, correlationId: 'c1' },
        { venId: 'v2', shed_kw: 2, correlationId: 'c2' },
      ],
    };
    expect([...committedKwh([event], T0, T0 + 86_400_000)]).toEqual([
      ['v1', 3],
      ['v2', 2],
    ]);
    expect(percentileRank([0.1, 0.1, 0.5, null], 0.1)).toBe(67);
    expect(percentileRank([0.1, 0.5], null)).toBeNull();
    const day = combine('1d', T0, [intervalRow(T0, [{ time: T0, kw: 4, shedKw: 8 }], true)]); // 2 kWh shed
    expect(nodeMetrics([day], 24, 4)).toEqual({ load_factor: 1, availability: 0.01, shed_delivered_ratio: 0.5 });
    expect(nodeMetrics([], 24, undefined)).toEqual({ load_factor: null, availability: 0, shed_delivered_ratio: null });
  });
});
