// POST /api/optimise/schedule through the local stack: a battery from the body against a price series, an inventory
// battery against a time-of-use tariff on a DST day, and the 400s that name the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
}, 60_000);
afterAll(() => stack?.dispose());

const operator = () => stack.config.tokens.operator;
const schedule = (body: unknown, token = operator()) => stack.api('/api/optimise/schedule', { ...post(body), token });

const inHours = (t: number, from: number, to: number) => t >= 4 * from && t < 4 * to;
const twoPriceDay = Array.from({ length: 96 }, (_, t) => (inHours(t, 0, 6) ? 0.1 : inHours(t, 17, 21) ? 0.4 : 0.25));
const battery = { energy_kwh: 100, max_charge_kw: 50, max_discharge_kw: 50, round_trip_efficiency: 0.9 };

describe('POST /api/optimise/schedule', () => {
  it('plans a battery from the body: 96 slots, the hand-checked cost, and the naive and do-nothing costs on the same prices', async () => {
    // empty at the start and allowed to end empty: 100 kWh in at 0.10, 90 out at 0.40: −26.00. The naive rule
    // finds the same on this day; doing nothing costs 0.
    const res = await schedule({
      battery,
      initial_soc_pct: 0,
      final_soc_pct: 0,
      prices: twoPriceDay,
      start: '2026-12-08T00:00:00Z',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const b = res.body;
    expect(b.slots).toHaveLength(96);
    expect(b.slots[0]).toMatchObject({ start: '2026-12-08T00:00:00.000Z', price: 0.1, load_kw: 0 });
    expect(b.slots[95].start).toBe('2026-12-08T23:45:00.000Z');
    expect(b.cost).toBeCloseTo(-26, 4);
    expect(b.naive.cost).toBeCloseTo(-26, 4);
    expect(b.do_nothing).toEqual({ cost: 0, objective: 0 });
    expect(b.saving.vs_do_nothing).toBeCloseTo(26, 4);
    const sum = (key: string) => b.slots.reduce((s: number, x: Record<string, number>) => s + x[key]!, 0) / 4;
    expect(sum('charge_kw')).toBeCloseTo(100, 3);
    expect(sum('discharge_kw')).toBeCloseTo(90, 3);
    expect(b.battery).toMatchObject({
      ...battery,
      min_soc_pct: 0,
      max_soc_pct: 100,
      soft_min_soc_pct: 0,
      soft_max_soc_pct: 100,
    });
    expect(b.initial_soc_source).toBe('body');
    expect(b.solver).toMatchObject({ name: 'HiGHS', version: expect.stringMatching(/^1\./) });
    expect(b.binding.map((x: { constraint: string }) => x.constraint)).toContain('soc_hard_max');
  });

  it('plans an inventory battery against a tariff on the day clocks go back: 100 slots, two cycles where the naive rule makes one', async () => {
    // a-bess-1: 8 MWh, ±4 MW, 90%, no SOC reading, so it starts (and must end) at 50% = 4,000 kWh. Night 23:00–06:00
    // at 0.10, mornings 07:00–09:00 at 0.35, evenings 17:00–21:00 at 0.40, 0.25 otherwise. By hand, the optimum:
    // fill 4,000 kWh at night (400.00), deliver 8,000 × 0.9 = 7,200 kWh in the morning (−2,520.00), refill 8,000 kWh
    // at 0.25 by day (2,000.00: 0.36 earned per kWh stored), deliver 7,200 kWh in the evening (−2,880.00), refill
    // 4,000 kWh from 23:00 at 4 MW (400.00): −2,600.00. The naive rule discharges in the 8 dearest slots only (the
    // evening): 400.00 − 2,880.00 + 400.00 = −2,080.00. Doing nothing costs 0.
    const res = await schedule({
      asset_id: 'a-bess-1',
      tariff: {
        time_zone: 'Europe/London',
        date: '2026-10-25',
        default_price: 0.25,
        periods: [
          { start: '07:00', end: '09:00', price: 0.35 },
          { start: '17:00', end: '21:00', price: 0.4 },
          { start: '23:00', end: '06:00', price: 0.1 },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const b = res.body;
    expect(b.slots).toHaveLength(100);
    expect(b.start).toBe('2026-10-24T23:00:00.000Z');
    expect(b.battery).toMatchObject({
      energy_kwh: 8000,
      max_charge_kw: 4000,
      max_discharge_kw: 4000,
      initial_soc_pct: 50,
      final_soc_pct: 50,
    });
    expect(b.initial_soc_source).toBe('default');
    expect(b.cost).toBeCloseTo(-2600, 2);
    expect(b.naive.cost).toBeCloseTo(-2080, 2);
    expect(b.do_nothing.cost).toBe(0);
    expect(b.saving.vs_naive).toBeCloseTo(520, 2);
    expect(b.slots.at(-1).soc_kwh).toBeCloseTo(4000, 2);
  });

  it('starts an inventory battery at the SOC its gateway last reported', async () => {
    // the gateway's site document through the der rule: a-bess-1 holds 2 of its 8 MWh, 25%
    const doc = {
      gatewayId: 'gw-a',
      site_id: 'site-a',
      timestamp: Math.floor(Date.now() / 1000),
      mw: 0,
      mw_setpoint: 0,
      assets: [{ asset_id: 'a-bess-1', site_id: 'site-a', asset_type: 'bess', mw: 0, soc_mwh: 2, online: true }],
    };
    await stack.deliverToRules(topics.derTelemetry('gw-a'), Buffer.from(JSON.stringify(doc)), 'gw-a');
    await eventually(async () => (await stack.api('/api/assets/a-bess-1', { token: operator() })).body.latest !== null);
    const res = await schedule({ asset_id: 'a-bess-1', prices: twoPriceDay });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.initial_soc_source).toBe('telemetry');
    expect(res.body.battery).toMatchObject({ initial_soc_pct: 25, final_soc_pct: 25 });
    expect(res.body.slots.at(-1).soc_pct).toBeGreaterThanOrEqual(25 - 1e-3);
  });

  it('answers 400 naming the field: negative capacity, a price series of the wrong length, an unknown key, both or neither battery', async () => {
    const cases: [unknown, string][] = [
      [{ battery: { ...battery, energy_kwh: -10 }, prices: twoPriceDay }, 'battery.energy_kwh'],
      [{ battery, prices: twoPriceDay.slice(0, 95) }, 'prices'],
      [{ battery, prices: twoPriceDay, load_kw: [1, 2, 3] }, 'load_kw'],
      [
        { battery, prices: twoPriceDay, dr_commitments: [{ from_slot: 90, to_slot: 100, min_discharge_kw: 5 }] },
        'dr_commitments.0.to_slot',
      ],
      [{ battery: { ...battery, capacity: 1 }, prices: twoPriceDay }, 'battery.capacity'],
      [{ prices: twoPriceDay }, 'asset_id'],
      [{ battery }, 'prices'],
      [{ battery, prices: twoPriceDay, start: '2026-12-08T00:05:00Z' }, 'start'],
      [
        { battery, tariff: { time_zone: 'Nowhere/Else', date: '2026-10-25', default_price: 1, periods: [] } },
        'tariff.time_zone',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await schedule(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body, JSON.stringify(body)).toMatchObject({ error: 'ValidationError', field });
    }
  });

  it('answers 404 for an unknown asset and 403 to a viewer', async () => {
    expect((await schedule({ asset_id: 'no-such-asset', prices: twoPriceDay })).status).toBe(404);
    const viewer = await schedule({ battery, prices: twoPriceDay }, stack.config.tokens.viewer);
    expect(viewer.status).toBe(403);
  });
});
