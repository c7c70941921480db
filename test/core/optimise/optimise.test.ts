// Battery schedules from the HiGHS LP (lambdas/core/optimise): hand-checkable optima, limits that bind and bend,
// the naive rule and doing nothing on a generated week, and the tariff's slots on DST days.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/contracts/errors.js';
import { generatedPrices } from '../../../lambdas/core/optimise/price-series.js';
import {
  checkProblem,
  doNothing,
  evaluate,
  naiveSchedule,
  optimiseSchedule,
  optimiseSchedules,
  type Battery,
  type ScheduleProblem,
} from '../../../lambdas/core/optimise/schedule.js';
import { loadSolver, type Solver } from '../../../lambdas/core/optimise/solver.js';
import { tariffPrices, type Tariff } from '../../../lambdas/core/optimise/tariff.js';

let solver: Solver;
beforeAll(async () => {
  solver = await loadSolver();
});

const battery = (over: Partial<Battery> = {}): Battery => ({
  energy_kwh: 100,
  max_charge_kw: 50,
  max_discharge_kw: 50,
  round_trip_efficiency: 0.9,
  min_soc_pct: 0,
  max_soc_pct: 100,
  soft_min_soc_pct: 0,
  soft_max_soc_pct: 100,
  initial_soc_pct: 0,
  final_soc_pct: 0,
  ...over,
});

/** Slot t starts at t × 15 min: hours [from, to) are slots [4·from, 4·to). */
const inHours = (t: number, from: number, to: number) => t >= 4 * from && t < 4 * to;
/** 0.10 from 00 to 06, 0.40 from 17 to 21, 0.25 otherwise. */
const twoPriceDay = Array.from({ length: 96 }, (_, t) => (inHours(t, 0, 6) ? 0.1 : inHours(t, 17, 21) ? 0.4 : 0.25));
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
const energy = (kw: readonly number[]) => sum(kw) / 4;
const slotsWhere = (kw: readonly number[]) => kw.flatMap((v, t) => (v > 1e-6 ? [t] : []));

describe('a two-price day', () => {
  it('charges the battery full in the cheap hours and delivers energy × efficiency in the dear ones', () => {
    // 100 kWh, 50 kW, 90% round trip, empty at start and allowed to end empty. Cheapest plan by hand: draw 100 kWh
    // at 0.10 (cost 10.00), deliver 100 × 0.9 = 90 kWh at 0.40 (earn 36.00): cost −26.00. Charging at 0.25 to
    // deliver at 0.40 × 0.9 = 0.36 would also pay, but the battery is already full by 17:00.
    const s = optimiseSchedule(solver, { battery: battery(), prices: twoPriceDay, soft_penalty_per_kwh: 1 });
    expect(energy(s.charge_kw)).toBeCloseTo(100, 6);
    expect(energy(s.discharge_kw)).toBeCloseTo(90, 6);
    expect(slotsWhere(s.charge_kw).every((t) => inHours(t, 0, 6))).toBe(true);
    expect(slotsWhere(s.discharge_kw).every((t) => inHours(t, 17, 21))).toBe(true);
    expect(s.cost).toBeCloseTo(-26, 6);
    expect(s.objective).toBeCloseTo(-26, 6);
    expect(Math.max(...s.soc_kwh)).toBeCloseTo(100, 6);
    expect(s.binding.map((b) => b.constraint)).toContain('soc_hard_max');
  });

  it('a hard SOC maximum of 80% binds: 80 kWh in, 72 out, cost −20.80', () => {
    // by hand: 80 × 0.10 − 80 × 0.9 × 0.40 = 8.00 − 28.80 = −20.80
    const s = optimiseSchedule(solver, {
      battery: battery({ max_soc_pct: 80, soft_max_soc_pct: 80 }),
      prices: twoPriceDay,
      soft_penalty_per_kwh: 1,
    });
    expect(energy(s.charge_kw)).toBeCloseTo(80, 6);
    expect(energy(s.discharge_kw)).toBeCloseTo(72, 6);
    expect(s.cost).toBeCloseTo(-20.8, 6);
    expect(Math.max(...s.soc_kwh)).toBeLessThanOrEqual(80 + 1e-9);
    const hardMax = s.binding.find((b) => b.constraint === 'soc_hard_max');
    expect(hardMax?.slots.length).toBeGreaterThan(0);
    // the slots where it binds are those the battery sits full, between the cheap and the dear hours
    for (const t of hardMax!.slots) expect(s.soc_kwh[t]).toBeCloseTo(80, 6);
  });

  it('ends at least as full as it started unless told otherwise', () => {
    // from 50 kWh, ending ≥ 50: the same 100 kWh cycle is not possible (only 50 kWh of room before 06:00) … by
    // hand: draw 50 kWh at 0.10 (5.00), deliver the whole 100 × 0.9 = 90 kWh at 0.40 (36.00), draw 50 kWh back
    // after 21:00 at 0.25 (12.50): cost −18.50
    const s = optimiseSchedule(solver, {
      battery: battery({ initial_soc_pct: 50, final_soc_pct: 50 }),
      prices: twoPriceDay,
      soft_penalty_per_kwh: 1,
    });
    expect(s.soc_kwh.at(-1)).toBeGreaterThanOrEqual(50 - 1e-6);
    expect(s.cost).toBeCloseTo(-18.5, 6);
    expect(s.binding.map((b) => b.constraint)).toContain('final_soc');
  });
});

describe('a soft limit that must bend', () => {
  it('a DR commitment larger than the energy above the soft minimum takes the SOC below it, pays the penalty, never below the hard limit', () => {
    // 100 kWh at 50%, soft minimum 20% (20 kWh), hard minimum 0, lossless, flat price 0.20. The commitment: 40 kW
    // for the first hour (slots 0–3), 40 kWh, 10 more than the 30 above the soft minimum. Cheapest by hand: deliver
    // exactly the commitment (SOC 40, 30, 20, 10 kWh), charge back to 20 in slot 4 at once (10 kWh below for one
    // slot: penalty 10 × 2.00 = 20.00), and back to 50 by the end. Energy: 40 kWh out and 40 in at one price, 0.00.
    const problem: ScheduleProblem = {
      battery: battery({
        round_trip_efficiency: 1,
        initial_soc_pct: 50,
        final_soc_pct: 50,
        soft_min_soc_pct: 20,
        max_charge_kw: 100,
        max_discharge_kw: 100,
      }),
      prices: new Array(96).fill(0.2),
      dr_commitments: [{ from_slot: 0, to_slot: 4, min_discharge_kw: 40 }],
      soft_penalty_per_kwh: 2,
    };
    const s = optimiseSchedule(solver, problem);
    expect(s.soc_kwh.slice(0, 4).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([40, 30, 20, 10]);
    expect(Math.min(...s.soc_kwh)).toBeGreaterThanOrEqual(10 - 1e-6);
    expect(s.penalties.soft_soc_kwh).toBeCloseTo(10, 6);
    expect(s.penalties.soft_soc).toBeCloseTo(20, 6);
    expect(s.penalties.dr_shortfall_kwh).toBeCloseTo(0, 9);
    expect(s.cost).toBeCloseTo(0, 6);
    expect(s.objective).toBeCloseTo(20, 6);
    expect(s.binding.map((b) => b.constraint)).toEqual(expect.arrayContaining(['dr_commitment', 'soc_soft_min']));
  });

  it('a commitment beyond the hard minimum is met as far as it can be and its shortfall reported, never infeasible', () => {
    // 60 kW for an hour = 60 kWh from 50: 50 delivered, 10 short
    const s = optimiseSchedule(solver, {
      battery: battery({ round_trip_efficiency: 1, initial_soc_pct: 50, final_soc_pct: 0, max_discharge_kw: 100 }),
      prices: new Array(96).fill(0.2),
      dr_commitments: [{ from_slot: 0, to_slot: 4, min_discharge_kw: 60 }],
      soft_penalty_per_kwh: 1,
    });
    expect(Math.min(...s.soc_kwh)).toBeGreaterThanOrEqual(-1e-9);
    expect(energy(s.discharge_kw.slice(0, 4))).toBeCloseTo(50, 6);
    expect(s.penalties.dr_shortfall_kwh).toBeCloseTo(10, 6);
  });
});

describe('the site connection', () => {
  it('an import limit caps charging on top of the load; the battery covers load above it', () => {
    // 30 kW load, 45 kW import limit: charging is capped at 15 kW, so the cheap hours fill only 90 kWh (the limit
    // binds there); from 17 to 21 the load is 60 kW and the battery must cover at least 15 kW of it
    const load = Array.from({ length: 96 }, (_, t) => (inHours(t, 17, 21) ? 60 : 30));
    const s = optimiseSchedule(solver, {
      battery: battery(),
      prices: twoPriceDay,
      load_kw: load,
      import_limit_kw: 45,
      soft_penalty_per_kwh: 1,
    });
    const grid = load.map((l, t) => l + s.charge_kw[t]! - s.discharge_kw[t]!);
    expect(Math.max(...grid)).toBeLessThanOrEqual(45 + 1e-6);
    expect(Math.max(...s.charge_kw)).toBeLessThanOrEqual(15 + 1e-6);
    expect(energy(s.charge_kw.slice(0, 24))).toBeCloseTo(90, 6);
    expect(s.penalties.site_limit_kwh).toBeCloseTo(0, 9);
    const site = s.binding.find((b) => b.constraint === 'site_import');
    expect(site?.slots.some((t) => inHours(t, 0, 6))).toBe(true);
  });
});

describe('against the naive rule and doing nothing', () => {
  const week = generatedPrices(20261207);
  const batteries: Battery[] = [
    battery({
      initial_soc_pct: 50,
      final_soc_pct: 50,
      min_soc_pct: 5,
      max_soc_pct: 95,
      soft_min_soc_pct: 10,
      soft_max_soc_pct: 90,
      round_trip_efficiency: 0.88,
    }),
    battery({
      energy_kwh: 2000,
      max_charge_kw: 500,
      max_discharge_kw: 1000,
      initial_soc_pct: 20,
      final_soc_pct: 20,
      round_trip_efficiency: 0.92,
    }),
    battery({
      energy_kwh: 13.5,
      max_charge_kw: 5,
      max_discharge_kw: 5,
      initial_soc_pct: 80,
      final_soc_pct: 30,
      soft_min_soc_pct: 20,
    }),
  ];

  it('never costs more on any day of a generated week, and beats the naive rule over the week', () => {
    let optimum = 0;
    let naive = 0;
    let nothing = 0;
    for (const b of batteries) {
      for (const prices of week) {
        const problem: ScheduleProblem = { battery: b, prices, soft_penalty_per_kwh: 0.5 };
        const s = optimiseSchedule(solver, problem);
        const n = naiveSchedule(problem);
        const z = doNothing(problem);
        expect(s.objective).toBeLessThanOrEqual(n.objective + 1e-6);
        expect(s.objective).toBeLessThanOrEqual(z.objective + 1e-6);
        // the naive rule keeps inside the soft limits and ends at the final SOC: its cost is its objective
        expect(n.objective).toBeCloseTo(n.cost, 9);
        expect(s.cost).toBeLessThanOrEqual(n.cost + 1e-6);
        optimum += s.cost;
        naive += n.cost;
        nothing += z.cost;
      }
    }
    expect(optimum).toBeLessThan(naive - 1);
    expect(naive).toBeLessThan(nothing);
  });

  it('the naive rule itself is priced the same way as the LP: evaluate() of the LP schedule gives its objective', () => {
    const problem: ScheduleProblem = { battery: batteries[0]!, prices: week[3]!, soft_penalty_per_kwh: 0.5 };
    const s = optimiseSchedule(solver, problem);
    expect(evaluate(problem, s.charge_kw, s.discharge_kw).objective).toBeCloseTo(s.objective, 9);
  });

  it('one joint LP for several batteries gives each the schedule its own LP gives', () => {
    const problems = batteries.map((b, i) => ({ battery: b, prices: week[i]!, soft_penalty_per_kwh: 0.5 }));
    const joint = optimiseSchedules(solver, problems);
    problems.forEach((p, i) => expect(joint[i]!.objective).toBeCloseTo(optimiseSchedule(solver, p).objective, 6));
  });
});

describe('any problem the checks accept', () => {
  const pct = fc.integer({ min: 0, max: 100 });
  const problem = fc
    .record({
      energy: fc.double({ min: 0.5, max: 50_000, noNaN: true }),
      charge: fc.double({ min: 0, max: 20_000, noNaN: true }),
      discharge: fc.double({ min: 0, max: 20_000, noNaN: true }),
      eta: fc.double({ min: 0.5, max: 1, noNaN: true }),
      hard: fc.tuple(pct, pct).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
      soft: fc.tuple(pct, pct).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
      at: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
      prices: fc.array(fc.double({ min: -0.5, max: 5, noNaN: true }), { minLength: 96, maxLength: 96 }),
      load: fc.option(fc.array(fc.double({ min: -500, max: 2000, noNaN: true }), { minLength: 96, maxLength: 96 }), {
        nil: undefined,
      }),
      importLimit: fc.option(fc.double({ min: 0, max: 3000, noNaN: true }), { nil: undefined }),
      exportLimit: fc.option(fc.double({ min: 0, max: 3000, noNaN: true }), { nil: undefined }),
      dr: fc.option(
        fc.tuple(
          fc.integer({ min: 0, max: 94 }),
          fc.integer({ min: 1, max: 8 }),
          fc.double({ min: 0.1, max: 5000, noNaN: true }),
        ),
        { nil: undefined },
      ),
      penalty: fc.double({ min: 0, max: 1000, noNaN: true }),
    })
    .map((r): ScheduleProblem => {
      const [min, max] = r.hard;
      const within = (f: number) => min + f * (max - min);
      return {
        battery: battery({
          energy_kwh: r.energy,
          max_charge_kw: r.charge,
          max_discharge_kw: r.discharge,
          round_trip_efficiency: r.eta,
          min_soc_pct: min,
          max_soc_pct: max,
          soft_min_soc_pct: r.soft[0],
          soft_max_soc_pct: r.soft[1],
          initial_soc_pct: within(r.at[0]),
          final_soc_pct: within(r.at[1]),
        }),
        prices: r.prices,
        ...(r.load && { load_kw: r.load }),
        ...(r.importLimit !== undefined && { import_limit_kw: r.importLimit }),
        ...(r.exportLimit !== undefined && { export_limit_kw: r.exportLimit }),
        ...(r.dr && {
          dr_commitments: [{ from_slot: r.dr[0], to_slot: Math.min(96, r.dr[0] + r.dr[1]), min_discharge_kw: r.dr[2] }],
        }),
        soft_penalty_per_kwh: r.penalty,
      };
    });

  it('gets a schedule within the power and hard SOC limits, never priced above the naive rule or doing nothing', () => {
    fc.assert(
      fc.property(problem, (p) => {
        const s = optimiseSchedule(solver, p);
        const b = p.battery;
        const tol = 1e-6 * Math.max(1, b.energy_kwh);
        expect(Math.min(...s.soc_kwh)).toBeGreaterThanOrEqual((b.energy_kwh * b.min_soc_pct) / 100 - tol);
        expect(Math.max(...s.soc_kwh)).toBeLessThanOrEqual((b.energy_kwh * b.max_soc_pct) / 100 + tol);
        expect(Math.max(...s.charge_kw)).toBeLessThanOrEqual(b.max_charge_kw);
        expect(Math.max(...s.discharge_kw)).toBeLessThanOrEqual(b.max_discharge_kw);
        const margin = 1e-6 * (1 + Math.abs(s.objective));
        expect(s.objective).toBeLessThanOrEqual(naiveSchedule(p).objective + margin);
        expect(s.objective).toBeLessThanOrEqual(doNothing(p).objective + margin);
      }),
      { numRuns: 40, seed: 20261207 },
    );
  });
});

describe('input the optimiser refuses', () => {
  const refused = (p: ScheduleProblem) => {
    try {
      checkProblem(p, 96);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).field;
    }
    return undefined;
  };
  const ok: ScheduleProblem = { battery: battery(), prices: twoPriceDay, soft_penalty_per_kwh: 1 };
  it('names the field', () => {
    expect(refused(ok)).toBeUndefined();
    expect(refused({ ...ok, battery: battery({ energy_kwh: -5 }) })).toBe('battery.energy_kwh');
    expect(refused({ ...ok, prices: twoPriceDay.slice(1) })).toBe('prices');
    expect(refused({ ...ok, load_kw: [1, 2] })).toBe('load_kw');
    expect(refused({ ...ok, battery: battery({ initial_soc_pct: 50, max_soc_pct: 40, soft_max_soc_pct: 40 }) })).toBe(
      'initial_soc_pct',
    );
    expect(refused({ ...ok, dr_commitments: [{ from_slot: 90, to_slot: 97, min_discharge_kw: 5 }] })).toBe(
      'dr_commitments.0.to_slot',
    );
  });
});

describe('tariff prices in a time zone', () => {
  const tariff: Tariff = {
    time_zone: 'Europe/London',
    default_price: 0.25,
    periods: [
      { start: '17:00', end: '21:00', price: 0.4 },
      { start: '23:00', end: '06:00', price: 0.1 },
    ],
  };
  const count = (day: ReturnType<typeof tariffPrices>, price: number) =>
    day.slots.filter((s) => s.price === price).length;

  it('a winter day: 96 slots from local midnight (UTC), the night period wrapping midnight', () => {
    const day = tariffPrices(tariff, '2026-01-15');
    expect(day.slots).toHaveLength(96);
    expect(new Date(day.start).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(count(day, 0.1)).toBe(4 * 7);
    expect(count(day, 0.4)).toBe(4 * 4);
    expect(day.slots[68]!.price).toBe(0.4);
  });

  it('a summer day starts at 23:00 UTC the day before', () => {
    const day = tariffPrices(tariff, '2026-07-01');
    expect(new Date(day.start).toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(day.slots).toHaveLength(96);
  });

  it('the day clocks go forward has 92 slots, the hour 01:00–02:00 missing; the day they go back 100, 01:00–02:00 twice', () => {
    const spring = tariffPrices(tariff, '2026-03-29');
    expect(spring.slots).toHaveLength(92);
    expect(count(spring, 0.1)).toBe(4 * 6); // 23–24, 00–01, 02–06
    const autumn = tariffPrices(tariff, '2026-10-25');
    expect(autumn.slots).toHaveLength(100);
    expect(count(autumn, 0.1)).toBe(4 * 8); // 23–24, 00–06 with 01–02 twice
    expect(autumn.slots.at(-1)!.start + 15 * 60_000).toBe(Date.parse('2026-10-26T00:00:00Z'));
  });

  it("a schedule runs on a DST day's 100 slots", () => {
    const autumn = tariffPrices(tariff, '2026-10-25');
    const prices = autumn.slots.map((s) => s.price);
    const s = optimiseSchedule(solver, { battery: battery(), prices, soft_penalty_per_kwh: 1 });
    expect(s.charge_kw).toHaveLength(100);
    expect(s.cost).toBeCloseTo(100 * 0.1 - 90 * 0.4, 6);
  });

  it('refuses an unknown zone, a bad date and a bad time, naming the field', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as ValidationError).field;
      }
      return undefined;
    };
    expect(field(() => tariffPrices({ ...tariff, time_zone: 'Mars/Olympus' }, '2026-01-15'))).toBe('tariff.time_zone');
    expect(field(() => tariffPrices(tariff, '2026-02-30'))).toBe('tariff.date');
    expect(
      field(() => tariffPrices({ ...tariff, periods: [{ start: '25:00', end: '06:00', price: 1 }] }, '2026-01-15')),
    ).toBe('tariff.periods.0.start');
  });
});
