// Dispatch against each asset's physics (device/guardrails.ts) and the ramp the gateway applies tick by tick.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BessModel } from '../../device/assets/bess.js';
import { EvModel } from '../../device/assets/ev.js';
import type { AssetModel, Capability } from '../../device/assets/model.js';
import { PvModel } from '../../device/assets/pv.js';
import { WindModel } from '../../device/assets/wind.js';
import { planGuardedDispatch } from '../../device/guardrails.js';
import { seededRng } from '../../device/random.js';
import { parseInventory, planDispatch, type AssetSpec, type SiteSpec } from '../../device/site.js';
import { at, bess, ev, pv, wind } from './der-helpers.js';

const MINUTE = 60;
const site = (...assets: AssetSpec[]): SiteSpec => ({ site_id: 's', assets });
const caps = (models: readonly AssetModel[], intervalSec = MINUTE) =>
  new Map(models.map((m) => [m.asset.asset_id, m.capability(intervalSec)]));
const plan = (models: readonly AssetModel[], cmd: { asset_id?: string; site_id?: string; mw: number }) => {
  const p = planGuardedDispatch(site(...models.map((m) => m.asset)), cmd, caps(models));
  if (!p.ok) throw new Error(p.reason);
  return p.items.map(({ asset_id, mw, requested_mw, applied_mw, reasons }) => ({
    asset_id,
    mw,
    requested_mw,
    applied_mw,
    reasons,
  }));
};

/** 0.5 % above its 10 % floor: 0.02 MWh, 1.2 MW for a minute. 0.1 % under its 90 % ceiling: 0.24 MW of charge for a minute. */
const nearFloor = () => new BessModel(bess('b', { initial_soc_pct: 10.5 }));
const nearCeiling = () => new BessModel(bess('b', { initial_soc_pct: 89.9 }));
const pvAt = (hour: number) => new PvModel(pv('pv'), seededRng(1), at(hour));

describe('a battery never leaves its SOC window', () => {
  const cases: [string, () => BessModel, number, { mw: number; applied_mw: number; reasons: string[] }][] = [
    [
      'discharge near the floor: what 0.02 MWh gives over the next minute',
      nearFloor,
      3,
      { mw: 3, applied_mw: 1.2, reasons: ['soc_floor'] },
    ],
    [
      'discharge at the floor: nothing',
      () => new BessModel(bess('b', { initial_soc_pct: 10 })),
      1,
      { mw: 1, applied_mw: 0, reasons: ['soc_floor'] },
    ],
    [
      'charge near the ceiling: what 0.004 MWh of room takes',
      nearCeiling,
      -2,
      { mw: -2, applied_mw: -0.24, reasons: ['soc_ceiling'] },
    ],
    [
      'charge at the ceiling: nothing',
      () => new BessModel(bess('b', { initial_soc_pct: 90 })),
      -1,
      { mw: -1, applied_mw: 0, reasons: ['soc_ceiling'] },
    ],
    ['charging near the floor is free', nearFloor, -2, { mw: -2, applied_mw: -2, reasons: [] }],
    [
      'over its rating: clamped first',
      () => new BessModel(bess('b')),
      9,
      { mw: 4, applied_mw: 4, reasons: ['clamped:max_mw'] },
    ],
  ];
  it.each(cases)('%s', (_name, make, mw, expected) => {
    expect(plan([make()], { asset_id: 'b', mw })).toEqual([{ asset_id: 'b', requested_mw: mw, ...expected }]);
  });

  it('and its model holds output to the same bound as time passes', () => {
    const b = nearFloor();
    b.setSetpoint(3);
    b.step(MINUTE);
    expect(b.mw).toBeCloseTo(1.2, 9);
    b.step(MINUTE);
    expect(b.mw).toBe(0);
    expect(b.socPct).toBeCloseTo(10, 9);
  });
});

describe('PV and wind take a curtailment cap between 0 and what they can produce now', () => {
  const noon = () => {
    const p = pvAt(12);
    return { p, available: p.availableMw };
  };

  it('PV at noon: a cap below what the sun gives curtails it, above it applies what there is', () => {
    const { p, available } = noon();
    expect(available).toBeGreaterThan(3.5);
    expect(plan([p], { asset_id: 'pv', mw: 2 })).toEqual([
      { asset_id: 'pv', mw: 2, requested_mw: 2, applied_mw: 2, reasons: ['curtailment'] },
    ]);
    const [over] = plan([p], { asset_id: 'pv', mw: 4.99 });
    expect(over).toMatchObject({ mw: 4.99, reasons: ['unavailable'] });
    expect(over!.applied_mw).toBeCloseTo(available, 3);
  });

  it('PV cannot consume, and gives nothing at night', () => {
    expect(plan([noon().p], { asset_id: 'pv', mw: -1 })).toEqual([
      { asset_id: 'pv', mw: 0, requested_mw: -1, applied_mw: 0, reasons: ['clamped:min_mw', 'curtailment'] },
    ]);
    expect(plan([pvAt(2)], { asset_id: 'pv', mw: 3 })).toEqual([
      { asset_id: 'pv', mw: 3, requested_mw: 3, applied_mw: 0, reasons: ['unavailable'] },
    ]);
  });

  it('wind the same, from its power curve', () => {
    const w = new WindModel(wind('w', { mean_wind_ms: 7.5 }), seededRng(3));
    const available = w.availableMw;
    expect(available).toBeGreaterThan(0.5);
    expect(available).toBeLessThan(3);
    expect(plan([w], { asset_id: 'w', mw: 0.2 })).toEqual([
      { asset_id: 'w', mw: 0.2, requested_mw: 0.2, applied_mw: 0.2, reasons: ['curtailment'] },
    ]);
    expect(plan([w], { asset_id: 'w', mw: 3 })[0]).toMatchObject({
      mw: 3,
      applied_mw: Math.round(available * 1000) / 1000,
      reasons: ['unavailable'],
    });
    w.windSpeedMs = 30;
    w.step(0);
    expect(plan([w], { asset_id: 'w', mw: 1 })[0]).toMatchObject({ applied_mw: 0, reasons: ['unavailable'] });
  });
});

describe('an EV station takes a charge limit from 0 to -max', () => {
  /** Six cars plugged in at 150 kW each: 0.9 MW wanted under a 1.2 MW station limit. */
  const station = () => {
    const e = new EvModel(ev('ev'), seededRng(4), at(8));
    e.sessions = [0, 1, 2, 3, 4, 5].map((port) => ({
      port,
      needMwh: 1,
      departsMs: at(20),
      deliveredMwh: 0,
      drawMw: 0,
    }));
    e.step(0, at(8));
    return e;
  };
  const cases: [number, { mw: number; applied_mw: number; reasons: string[] }][] = [
    [-0.5, { mw: -0.5, applied_mw: -0.5, reasons: ['curtailment'] }],
    [-0.9, { mw: -0.9, applied_mw: -0.9, reasons: [] }],
    [-2, { mw: -1.2, applied_mw: -0.9, reasons: ['clamped:min_mw', 'unavailable'] }],
    [1, { mw: 0, applied_mw: 0, reasons: ['clamped:max_mw', 'curtailment'] }],
  ];
  it.each(cases)('%d MW', (mw, expected) => {
    expect(plan([station()], { asset_id: 'ev', mw })).toEqual([{ asset_id: 'ev', requested_mw: mw, ...expected }]);
  });

  it('and its sessions draw no more than the limit once applied', () => {
    const e = station();
    expect(e.mw).toBeCloseTo(-0.9, 9);
    e.setSetpoint(-0.3);
    e.step(MINUTE, at(8) + 60_000);
    expect(e.mw).toBeCloseTo(-0.3, 9);
    expect(e.sessions.every((s) => Math.abs(s.drawMw - 0.05) < 1e-9)).toBe(true);
  });
});

describe('a site split goes over what can move and re-balances what one asset cannot take', () => {
  it('a battery near its floor takes what its energy allows; the other takes the rest, and the report says why', () => {
    const a = new BessModel(bess('a', { initial_soc_pct: 10.5 }));
    const b = new BessModel(bess('b'));
    expect(plan([a, b], { site_id: 's', mw: 4 })).toEqual([
      { asset_id: 'a', mw: 1.2, requested_mw: 2, applied_mw: 1.2, reasons: ['soc_floor'] },
      { asset_id: 'b', mw: 2.8, requested_mw: 2, applied_mw: 2.8, reasons: [] },
    ]);
  });

  it('charging skips PV and wind (they cannot consume) and a full battery', () => {
    const full = new BessModel(bess('a', { initial_soc_pct: 90 }));
    const items = plan([full, new BessModel(bess('b')), pvAt(12), new WindModel(wind('w'), seededRng(2))], {
      site_id: 's',
      mw: -3,
    });
    expect(items).toEqual([
      { asset_id: 'a', mw: 0, requested_mw: -0.75, applied_mw: 0, reasons: ['soc_ceiling'] },
      { asset_id: 'b', mw: -3, requested_mw: -0.75, applied_mw: -3, reasons: [] },
      { asset_id: 'pv', mw: 0, requested_mw: -0.937, applied_mw: 0, reasons: ['clamped:min_mw', 'curtailment'] },
      { asset_id: 'w', mw: 0, requested_mw: -0.562, applied_mw: 0, reasons: ['clamped:min_mw', 'curtailment'] },
    ]);
  });

  it('at night PV is unavailable and the battery covers its share, up to its rating', () => {
    const items = plan([new BessModel(bess('b')), pvAt(23)], { site_id: 's', mw: 6 });
    expect(items).toEqual([
      { asset_id: 'b', mw: 4, requested_mw: 2.667, applied_mw: 4, reasons: ['clamped:max_mw'] },
      { asset_id: 'pv', mw: 0, requested_mw: 3.333, applied_mw: 0, reasons: ['unavailable'] },
    ]);
  });

  it('an offline asset is unavailable, whichever way', () => {
    const off = new BessModel(bess('a'));
    off.online = false;
    expect(plan([off, new BessModel(bess('b'))], { site_id: 's', mw: -2 })).toEqual([
      { asset_id: 'a', mw: 0, requested_mw: -1, applied_mw: 0, reasons: ['unavailable'] },
      { asset_id: 'b', mw: -2, requested_mw: -1, applied_mw: -2, reasons: [] },
    ]);
  });

  it('asset_id wins over site_id', () => {
    expect(plan([new BessModel(bess('a')), new BessModel(bess('b'))], { asset_id: 'b', site_id: 's', mw: 1 })).toEqual([
      { asset_id: 'b', mw: 1, requested_mw: 1, applied_mw: 1, reasons: [] },
    ]);
    expect(planGuardedDispatch(site(bess('a')), { asset_id: 'x', site_id: 's', mw: 1 }, new Map())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/asset x/),
    });
    expect(planGuardedDispatch(site(bess('a')), { site_id: 't', mw: 1 }, new Map())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/site t/),
    });
  });
});

describe('site-gt splits exactly as before', () => {
  const example = parseInventory(readFileSync(new URL('../../device/inventory.example.yaml', import.meta.url), 'utf8'));
  if (!example.ok) throw new Error(example.message);
  const gt = example.sites.find((s) => s.site_id === 'site-gt')!;
  const requests: { asset_id?: string; site_id?: string; mw: number }[] = [
    { site_id: 'site-gt', mw: 12 },
    { site_id: 'site-gt', mw: 9 },
    { site_id: 'site-gt', mw: 5 },
    { site_id: 'site-gt', mw: -3 },
    { site_id: 'site-gt', mw: -20 },
    { site_id: 'site-gt', mw: 0 },
    { asset_id: 'gt-bess-c', mw: 9 },
    { asset_id: 'gt-bess-b', site_id: 'site-gt', mw: -1 },
  ];
  it.each(requests)('%o', (cmd) => {
    const models = gt.assets.map((a) => new BessModel(a));
    const guarded = planGuardedDispatch(gt, cmd, caps(models, 5));
    const before = planDispatch(gt, cmd);
    if (!guarded.ok || !before.ok) throw new Error('refused');
    expect(guarded.items.map((i) => [i.asset_id, i.mw, i.applied_mw])).toEqual(
      before.allocations.map((a) => [a.asset_id, a.mw, a.mw]),
    );
    expect(guarded.items.map((i) => i.reasons.length > 0)).toEqual(
      before.allocations.map((a) => a.clamped && a.mw !== 0),
    );
  });
});

describe('ramp: the applied setpoint moves toward the target at the ramp rate, tick by tick', () => {
  const cases: [string, () => AssetModel, number, number[]][] = [
    [
      'a battery at 1 MW/min toward 2 MW',
      () => new BessModel(bess('b', { ramp_rate_mw_per_min: 1 })),
      2,
      [0.5, 1, 1.5, 2, 2],
    ],
    [
      'a battery back down toward -1 MW',
      () => new BessModel(bess('b', { ramp_rate_mw_per_min: 2 })),
      -1,
      [-1, -1, -1, -1, -1],
    ],
    ['a PV cap at 2 MW/min from its 5 MW nameplate to 1 MW', () => pvAt(12), 1, [4, 3, 2, 1, 1]],
  ];
  it.each(cases)('%s', (_name, make, target, expected) => {
    const m = make();
    if (m instanceof PvModel) (m.asset as { ramp_rate_mw_per_min?: number }).ramp_rate_mw_per_min = 2;
    m.setSetpoint(target);
    const applied: number[] = [];
    for (let i = 0; i < expected.length; i++) {
      m.step(30, at(12) + (i + 1) * 30_000);
      applied.push(Math.round(m.appliedMw * 1000) / 1000);
    }
    expect(applied).toEqual(expected);
  });

  it('the dispatch report says the asset is ramping toward what it will apply', () => {
    const b = new BessModel(bess('b', { ramp_rate_mw_per_min: 1 }));
    expect(plan([b], { asset_id: 'b', mw: 2 })).toEqual([
      { asset_id: 'b', mw: 2, requested_mw: 2, applied_mw: 2, reasons: ['ramp'] },
    ]);
    b.setSetpoint(2);
    for (let i = 0; i < 4; i++) b.step(30);
    expect(plan([b], { asset_id: 'b', mw: 2 })[0]!.reasons).toEqual([]);
  });
});

// Capability is the planner's only view of an asset: a hand-built one pins the algorithm down without physics.
describe('the split algorithm over hand-built capabilities', () => {
  const cap = (lo: number, hi: number, over: Partial<Capability> = {}): Capability => ({
    lo,
    hi,
    loReason: 'clamped:min_mw',
    hiReason: 'clamped:max_mw',
    applied_mw: 0,
    ...over,
  });
  it('iterates: clamp, redistribute among the rest, clamp again', () => {
    const s = site(bess('a', { weight: 1 }), bess('b', { weight: 1 }), bess('c', { weight: 2 }));
    const p = planGuardedDispatch(
      s,
      { site_id: 's', mw: 8 },
      new Map([
        ['a', cap(-4, 0.5, { hiReason: 'soc_floor' })],
        ['b', cap(-4, 2.5, { hiReason: 'soc_floor' })],
        ['c', cap(-4, 4)],
      ]),
    );
    if (!p.ok) throw new Error(p.reason);
    expect(p.items.map((i) => [i.asset_id, i.mw, i.reasons])).toEqual([
      ['a', 0.5, ['soc_floor']],
      ['b', 2.5, ['soc_floor']],
      ['c', 4, ['clamped:max_mw']],
    ]);
  });
});
