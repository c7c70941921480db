// Measured shed (baseline method) and portfolio totals: pure functions.
import { describe, expect, it } from 'vitest';
import { measureShed } from '../../lambdas/core/baseline.js';
import { shedTiersOf } from '../../lambdas/core/fleet-event.js';
import { summarizePortfolio } from '../../lambdas/core/portfolio.js';

describe('measureShed', () => {
  it('takes the mean of the prior days that have non-event samples as the baseline', () => {
    const m = measureShed(
      [{ usedPowerKw: 4 }, { usedPowerKw: 6, baselinePowerKw: 50 }],
      [[{ usedPowerKw: 10 }, { usedPowerKw: 12 }], [], [{ usedPowerKw: 14 }, { usedPowerKw: 0, eventId: 'e' }], [{ usedPowerKw: 1, eventId: 'e' }]],
    );
    expect(m).toEqual({ metered_kw: 5, baseline_kw: 12.5, baseline_source: 'history', baseline_days: 2, measured_shed_kw: 7.5, samples: 2 });
  });

  it("falls back to the VEN's own baselinePowerKw without history, and to nothing without data", () => {
    expect(measureShed([{ usedPowerKw: 2, baselinePowerKw: 8 }, { usedPowerKw: 1, baselinePowerKw: 7 }], [[], []])).toMatchObject({
      baseline_kw: 7.5,
      baseline_source: 'payload',
      measured_shed_kw: 6,
    });
    expect(measureShed([{ usedPowerKw: 2 }], [])).toMatchObject({ baseline_kw: null, baseline_source: null, measured_shed_kw: null });
    expect(measureShed([], [[{ usedPowerKw: 3 }]])).toMatchObject({ metered_kw: null, baseline_kw: 3, measured_shed_kw: null, samples: 0 });
  });
});

describe('summarizePortfolio', () => {
  const ven = (online: boolean, latest: Record<string, unknown>) => ({ deviceId: 'v', kind: 'ven' as const, online, latest });

  it('totals online VENs only', () => {
    const p = summarizePortfolio(
      [ven(true, { usedPowerKw: 8.2, shedPowerKw: 4.8, availableShedKw: 2.1 }), ven(true, { usedPowerKw: 1.1 }), ven(false, { usedPowerKw: 100, availableShedKw: 50 })],
      [],
      0,
    );
    expect(p).toEqual({ at: '1970-01-01T00:00:00.000Z', vens: { total: 3, online: 2 }, used_kw: 9.3, shed_kw: 4.8, available_shed_kw: 2.1, bess: null });
  });

  it('adds BESS MW and energy-weighted state of charge from gateway telemetry when there is some', () => {
    const gateway = {
      deviceId: 'gw',
      kind: 'gateway' as const,
      online: true,
      latest: { mw: 3.5, assets: [{ soc_mwh: 6, energy_mwh: 12 }, { soc_mwh: 4, energy_mwh: 4 }] },
    };
    expect(summarizePortfolio([], [gateway], 0).bess).toEqual({ gateways: 1, online: 1, mw: 3.5, energy_mwh: 16, soc_pct: 62.5 });
  });
});

describe('shedTiersOf', () => {
  it('reads the tiers of a registry summary, and none from one that predates them', () => {
    expect(shedTiersOf({ deviceId: 'v', online: true, latest: { shedTiers: [{ priority: 2, kw: 1 }, { priority: 1, kw: 0 }] } })).toEqual([{ priority: 2, kw: 1 }]);
    expect(shedTiersOf({ deviceId: 'v', online: true, latest: { usedPowerKw: 3 } })).toEqual([]);
  });
});
