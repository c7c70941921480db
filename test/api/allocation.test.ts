// The fleet shed split and the per-VEN sheddable capability: pure functions.
import { describe, expect, it } from 'vitest';
import { allocateShed, proportional } from '../../lambdas/core/allocation.js';
import { meteringSchema } from '../../lambdas/core/schemas.js';
import { shedCapability } from '../../lambdas/core/shed-capability.js';
import { fixture } from '../fixture.js';

const watts = (kw: number) => Math.round(kw * 1000);
const sumW = (allocations: { shed_kw: number }[]) => allocations.reduce((s, a) => s + watts(a.shed_kw), 0);

describe('allocateShed', () => {
  const fleet = [
    { venId: 'b', tiers: [{ priority: 5, kw: 6 }] },
    { venId: 'a', tiers: [{ priority: 4, kw: 1.5 }, { priority: 2, kw: 3 }] },
    { venId: 'c', tiers: [{ priority: 0, kw: 2 }] },
  ];

  it('takes whole tiers, highest priority first, and shares the last one', () => {
    expect(allocateShed(8, fleet)).toEqual({
      allocations: [{ venId: 'a', shed_kw: 2 }, { venId: 'b', shed_kw: 6 }],
      allocated_kw: 8,
      shortfall_kw: 0,
    });
  });

  it('reports the shortfall when the fleet has too little', () => {
    expect(allocateShed(20, fleet)).toEqual({
      allocations: [{ venId: 'a', shed_kw: 4.5 }, { venId: 'b', shed_kw: 6 }, { venId: 'c', shed_kw: 2 }],
      allocated_kw: 12.5,
      shortfall_kw: 7.5,
    });
    expect(allocateShed(5, [])).toEqual({ allocations: [], allocated_kw: 0, shortfall_kw: 5 });
  });

  it('shares a tier in proportion to what each VEN has there, summing to the watt', () => {
    const tier = [
      { venId: 'x', tiers: [{ priority: 1, kw: 1 }] },
      { venId: 'y', tiers: [{ priority: 1, kw: 1 }] },
      { venId: 'z', tiers: [{ priority: 1, kw: 1 }] },
    ];
    const plan = allocateShed(1, tier);
    expect(plan.allocations).toEqual([{ venId: 'x', shed_kw: 0.334 }, { venId: 'y', shed_kw: 0.333 }, { venId: 'z', shed_kw: 0.333 }]);
    expect(sumW(plan.allocations)).toBe(1000);
    const uneven = allocateShed(3, [{ venId: 'p', tiers: [{ priority: 1, kw: 2 }] }, { venId: 'q', tiers: [{ priority: 1, kw: 6 }] }]);
    expect(uneven.allocations).toEqual([{ venId: 'p', shed_kw: 0.75 }, { venId: 'q', shed_kw: 2.25 }]);
  });

  it('never gives a VEN more than it has, and always sums exactly to min(request, available)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let run = 0; run < 200; run++) {
      const candidates = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) => ({
        venId: `v${i}`,
        tiers: Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ priority: Math.floor(rand() * 4), kw: Math.round(rand() * 10_000) / 1000 })),
      }));
      const available = candidates.reduce((s, c) => s + c.tiers.reduce((t, x) => t + watts(x.kw), 0), 0);
      const requested = Math.round(rand() * 40_000) / 1000;
      const plan = allocateShed(requested, candidates);
      expect(sumW(plan.allocations)).toBe(Math.min(watts(requested), available));
      expect(watts(plan.shortfall_kw)).toBe(watts(requested) - sumW(plan.allocations));
      for (const a of plan.allocations) {
        const has = candidates.find((c) => c.venId === a.venId)!.tiers.reduce((t, x) => t + watts(x.kw), 0);
        expect(watts(a.shed_kw)).toBeGreaterThan(0);
        expect(watts(a.shed_kw)).toBeLessThanOrEqual(has);
      }
    }
  });

  it('proportional hands the rounding remainder to the largest fractions', () => {
    expect(proportional(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(proportional(5, [3, 1])).toEqual([4, 1]);
  });
});

describe('shedCapability', () => {
  const metering = (over: Record<string, unknown>) => meteringSchema.parse({ venId: 'v', timestamp: 1729700000, usedPowerKw: 1, ...over });

  it('gives what the seed-001 metering can shed: the HVAC draw, not its capability', () => {
    expect(shedCapability(meteringSchema.parse(fixture('seed-001-metering')))).toEqual({ availableShedKw: 2.1, shedTiers: [{ priority: 2, kw: 2.1 }] });
  });

  it('never counts critical loads, whether the load or its circuit says so', () => {
    const m = metering({
      circuits: [{ id: 'fridge', currentKw: 10, enabled: true, critical: true }],
      loads: [
        { loadId: 'fridge', currentPowerKw: 10, shedCapabilityKw: 10, enabled: true, priority: 9 },
        { loadId: 'well', currentPowerKw: 2, enabled: true, priority: 9, critical: true },
        { loadId: 'ev', currentPowerKw: 6, shedCapabilityKw: 4, enabled: true, priority: 5 },
      ],
    });
    expect(shedCapability(m)).toEqual({ availableShedKw: 4, shedTiers: [{ priority: 5, kw: 4 }] });
  });

  it('skips disabled loads and counts bare circuits at priority 0', () => {
    const m = metering({
      circuits: [
        { id: 'c1', currentKw: 2, enabled: true },
        { id: 'c2', currentKw: 5, enabled: true, critical: true },
        { id: 'pool', currentKw: 0, enabled: false },
      ],
      loads: [{ loadId: 'pool', currentPowerKw: 1.5, enabled: true, priority: 4 }],
    });
    expect(shedCapability(m)).toEqual({ availableShedKw: 2, shedTiers: [{ priority: 0, kw: 2 }] });
  });
});
