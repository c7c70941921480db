// The fleet shed split and the per-VEN sheddable capability: pure functions.
import { describe, expect, it } from 'vitest';
import { allocateShed, type ShedCandidate } from '../../lambdas/core/dr/allocation.js';
import { planShed } from '../../lambdas/core/contracts/shed-plan.js';
import { meteringSchema } from '../../lambdas/core/contracts/schemas.js';
import { shedCapability } from '../../lambdas/core/fleet/shed-capability.js';
import { fixture } from '../fixture.js';

const watts = (kw: number) => Math.round(kw * 1000);

describe('allocateShed', () => {
  const fleet = [
    { venId: 'b', loads: [{ priority: 5, kw: 6 }] },
    {
      venId: 'a',
      loads: [
        { priority: 4, kw: 1.5 },
        { priority: 2, kw: 3 },
      ],
    },
    { venId: 'c', loads: [{ priority: 0, kw: 2 }] },
  ];
  /** What each VEN sheds for the kW it is given, by its own rule (the agent's planShed). */
  const shedBy = (candidates: readonly ShedCandidate[], allocations: { venId: string; shed_kw: number }[]) =>
    allocations.map((a) => {
      const loads = candidates
        .find((c) => c.venId === a.venId)!
        .loads.map((l, i) => ({ id: `l${i}`, priority: l.priority, powerKw: l.kw }));
      return planShed(loads, a.shed_kw).totalKw;
    });

  it('takes whole loads, highest priority first, skipping one that would overshoot', () => {
    // 6 (b, p5) + 1.5 (a, p4) = 7.5; a's 3 kW would overshoot 8 by 1.5 > the 0.5 left, c's 2 kW by 1.5: stop short
    expect(allocateShed(8, fleet)).toEqual({
      allocations: [
        { venId: 'a', shed_kw: 1.5 },
        { venId: 'b', shed_kw: 6 },
      ],
      allocated_kw: 7.5,
      shortfall_kw: 0.5,
    });
    // 9: 7.5, then c's 2 kW lands at 9.5, closer than 7.5 (one load past the request)
    expect(allocateShed(9, fleet)).toMatchObject({
      allocations: [
        { venId: 'a', shed_kw: 1.5 },
        { venId: 'b', shed_kw: 6 },
        { venId: 'c', shed_kw: 2 },
      ],
      allocated_kw: 9.5,
      shortfall_kw: 0,
    });
    // 10.5: b 6 + a 1.5 + a 3 = 10.5 exactly
    expect(allocateShed(10.5, fleet).allocations).toEqual([
      { venId: 'a', shed_kw: 4.5 },
      { venId: 'b', shed_kw: 6 },
    ]);
  });

  it('reports the shortfall when the fleet has too little', () => {
    expect(allocateShed(20, fleet)).toEqual({
      allocations: [
        { venId: 'a', shed_kw: 4.5 },
        { venId: 'b', shed_kw: 6 },
        { venId: 'c', shed_kw: 2 },
      ],
      allocated_kw: 12.5,
      shortfall_kw: 7.5,
    });
    expect(allocateShed(5, [])).toEqual({ allocations: [], allocated_kw: 0, shortfall_kw: 5 });
  });

  it('gives no VEN a kW for which its own rule would shed something else', () => {
    // 5 kW: w's 3.1, then v's 2 would overshoot (skipped), its 0.5 fits (3.6, 1.4 left), its 1.6 would overshoot.
    // One load past: v's 1.6 lands closest (5.2), but v asked for 2.1 would shed its 2 kW load (2.0, within 5%) and
    // stop; its 2 kW load (2.5 asked, 2.5 shed: 5.6) is the closest the VENs will really deliver.
    const fleet = [
      { venId: 'w', loads: [{ priority: 6, kw: 3.1 }] },
      {
        venId: 'v',
        loads: [
          { priority: 5, kw: 2 },
          { priority: 4, kw: 0.5 },
          { priority: 3, kw: 1.6 },
        ],
      },
    ];
    const plan = allocateShed(5, fleet);
    expect(plan.allocations).toEqual([
      { venId: 'v', shed_kw: 2.5 },
      { venId: 'w', shed_kw: 3.1 },
    ]);
    expect(shedBy(fleet, plan.allocations)).toEqual([2.5, 3.1]);
  });

  it('lands on target where a smooth split over-delivered by a third (20 kW over three default panels)', () => {
    // the agent's default panel at its typical draw: EV 6.48 (p5), water heater 2.25 and pool pump 1.2 (p4),
    // kitchen 0.54 and lighting 0.48 (p3), HVAC 2.5 (p2); the fridge and well pump are critical
    const panel = [6.48, 2.25, 1.2, 0.54, 0.48, 2.5].map((kw, i) => ({ priority: [5, 4, 4, 3, 3, 2][i]!, kw }));
    const vens = ['ven-001', 'ven-002', 'ven-003'].map((venId) => ({ venId, loads: panel }));
    const plan = allocateShed(20, vens);
    // three EV chargers (19.44), then the one kitchen circuit that fits (0.54): 19.98
    expect(plan).toEqual({
      allocations: [
        { venId: 'ven-001', shed_kw: 7.02 },
        { venId: 'ven-002', shed_kw: 6.48 },
        { venId: 'ven-003', shed_kw: 6.48 },
      ],
      allocated_kw: 19.98,
      shortfall_kw: 0.02,
    });
    expect(shedBy(vens, plan.allocations)).toEqual([7.02, 6.48, 6.48]);
  });

  it("counts a VEN's loads by what its forecast expects over the window, and still sends it its loads' kW now", () => {
    // a draws 5 kW now, forecast to draw 20% less over the window: 4 kW expected; b's loads count as they draw
    const vens = [
      { venId: 'a', loads: [{ priority: 3, kw: 5 }], factor: 0.8 },
      {
        venId: 'b',
        loads: [
          { priority: 3, kw: 4 },
          { priority: 3, kw: 1 },
        ],
      },
    ];
    expect(allocateShed(8, vens)).toEqual({
      allocations: [
        { venId: 'a', shed_kw: 5, expected_kw: 4 },
        { venId: 'b', shed_kw: 4 },
      ],
      allocated_kw: 8,
      shortfall_kw: 0,
    });
    expect(shedBy(vens, allocateShed(8, vens).allocations)).toEqual([5, 4]);
    // by the loads now: 5 + 1, b's 4 kW would overshoot by 2: the window would see 4 + 1 = 5 kW shed of 8
    expect(
      allocateShed(
        8,
        vens.map(({ factor, ...v }) => v),
      ),
    ).toMatchObject({ allocated_kw: 6, shortfall_kw: 2 });
  });

  it('on random fleets, some VENs with forecast factors: each VEN sheds exactly what it is sent, the fleet lands within 10% when it can cover the request (with factors: in 99% of the fleets)', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    let misses = 0;
    for (let run = 0; run < 600; run++) {
      const withFactors = run % 2 === 1;
      const candidates = Array.from({ length: 3 + Math.floor(rand() * 30) }, (_, i) => ({
        venId: `v${String(i).padStart(2, '0')}`,
        loads: Array.from({ length: 1 + Math.floor(rand() * 8) }, () => ({
          priority: Math.floor(rand() * 6),
          kw: Math.round(0.2 + rand() * 7_000) / 1000,
        })),
        ...(withFactors && rand() < 0.7 && { factor: 0.8 + rand() * 0.4 }),
      }));
      /** What a VEN's load is expected to give over the window. */
      const expectedW = (c: ShedCandidate, kw: number) => Math.round(watts(kw) * (c.factor ?? 1));
      const available = candidates.reduce((s, c) => s + c.loads.reduce((t, x) => t + expectedW(c, x.kw), 0), 0);
      const requested = Math.round(5_000 + rand() * available * 1.2) / 1000;
      const plan = allocateShed(requested, candidates);
      const expected = plan.allocations.reduce((s, a) => s + watts(a.expected_kw ?? a.shed_kw), 0);
      expect(expected).toBe(watts(plan.allocated_kw));
      expect(watts(plan.shortfall_kw)).toBe(Math.max(0, watts(requested) - expected));
      expect(shedBy(candidates, plan.allocations).map(watts)).toEqual(plan.allocations.map((a) => watts(a.shed_kw)));
      for (const a of plan.allocations) {
        const c = candidates.find((x) => x.venId === a.venId)!;
        expect(watts(a.shed_kw)).toBeGreaterThan(0);
        // no factor, no expected_kw; else the kW sent × its factor, one rounding per load
        if (c.factor === undefined) expect(a.expected_kw).toBeUndefined();
        else expect(Math.abs(watts(a.expected_kw!) - watts(a.shed_kw) * c.factor)).toBeLessThanOrEqual(c.loads.length);
      }
      const miss = available >= watts(requested) && Math.abs(plan.allocated_kw - requested) / requested > 0.1;
      // without factors never; with them a greedy walk over uneven units can miss (one run of 300 lands at +10.3%)
      if (withFactors) misses += Number(miss);
      else expect(miss).toBe(false);
    }
    expect(misses).toBeLessThanOrEqual(3);
  });
});

describe('shedCapability', () => {
  const metering = (over: Record<string, unknown>) =>
    meteringSchema.parse({ venId: 'v', timestamp: 1729700000, usedPowerKw: 1, ...over });

  it('gives what the VOLTTRON metering can shed: the HVAC draw, not its capability', () => {
    expect(shedCapability(meteringSchema.parse(fixture('volttron-metering')))).toEqual({
      availableShedKw: 2.1,
      shedTiers: [{ priority: 2, kw: 2.1 }],
      shedLoads: [{ priority: 2, kw: 2.1 }],
    });
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
    expect(shedCapability(m)).toEqual({
      availableShedKw: 4,
      shedTiers: [{ priority: 5, kw: 4 }],
      shedLoads: [{ priority: 5, kw: 4 }],
    });
  });

  it('lists each load on its own in the order the VEN sheds them, beside the tiers', () => {
    const m = metering({
      loads: [
        { loadId: 'b', currentPowerKw: 1, enabled: true, priority: 3 },
        { loadId: 'a', currentPowerKw: 1, enabled: true, priority: 3 },
        { loadId: 'ev', currentPowerKw: 6, enabled: true, priority: 5 },
        { loadId: 'hvac', currentPowerKw: 2.5, enabled: true, priority: 3 },
      ],
    });
    expect(shedCapability(m)).toEqual({
      availableShedKw: 10.5,
      shedTiers: [
        { priority: 5, kw: 6 },
        { priority: 3, kw: 4.5 },
      ],
      shedLoads: [
        { priority: 5, kw: 6 },
        { priority: 3, kw: 2.5 },
        { priority: 3, kw: 1 },
        { priority: 3, kw: 1 },
      ],
    });
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
    expect(shedCapability(m)).toEqual({
      availableShedKw: 2,
      shedTiers: [{ priority: 0, kw: 2 }],
      shedLoads: [{ priority: 0, kw: 2 }],
    });
  });
});
