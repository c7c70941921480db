import { gatewayTelemetrySchema } from '../../lambdas/core/contracts/schemas.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BessModel,
  gatewayTelemetry,
  parseInventory,
  planDispatch,
  selectSite,
  splitSiteSetpoint,
  type BessSpec,
  type SiteSpec,
} from '../../device/site.js';

const example = readFileSync(new URL('../../device/inventory.example.yaml', import.meta.url), 'utf8');

function site(text: string): SiteSpec {
  const result = parseInventory(text);
  if (!result.ok) throw new Error(result.message);
  return result.sites[0]!;
}

const asset = (id: string, weight: number, min: number, max: number): BessSpec => ({
  asset_id: id,
  site_id: 's',
  asset_type: 'bess',
  energy_mwh: weight,
  min_mw: min,
  max_mw: max,
  min_soc_pct: 0,
  max_soc_pct: 100,
  initial_soc_pct: 50,
  efficiency: 1,
  weight,
});

/** The DER gateway's Gateway-Test site: capacity_mwhr 120:40:40 (3:1:1), flat assets list, original field names. */
const gatewayTest = `
sites:
  - site_id: site-1
assets:
  - { asset_id: c, site_id: site-1, capacity_mwhr: 40, min_mw: -10, max_mw: 10 }
  - { asset_id: a, site_id: site-1, capacity_mwhr: 120, min_mw: -10, max_mw: 10 }
  - { asset_id: b, site_id: site-1, capacity_mwhr: 40, min_mw: -10, max_mw: 10 }
`;

describe('site split', () => {
  it('splits a site setpoint by capacity, 3:1:1 for 12 MW gives 7.2 / 2.4 / 2.4', () => {
    const split = splitSiteSetpoint(site(gatewayTest).assets, 12);
    expect(split.map((a) => [a.asset_id, a.mw])).toEqual([
      ['a', 7.2],
      ['b', 2.4],
      ['c', 2.4],
    ]);
    expect(split.every((a) => !a.clamped)).toBe(true);
  });

  it('is the same whatever order the inventory lists the assets in', () => {
    const reordered =
      gatewayTest.replace(/ {2}- \{ asset_id: c[^\n]*\n/, '') +
      '  - { asset_id: c, site_id: site-1, capacity_mwhr: 40, min_mw: -10, max_mw: 10 }\n';
    expect(reordered.indexOf('asset_id: c')).toBeGreaterThan(reordered.indexOf('asset_id: b'));
    expect(splitSiteSetpoint(site(reordered).assets, 12)).toEqual(splitSiteSetpoint(site(gatewayTest).assets, 12));
  });

  it('clamps to max_mw and hands the rest to the others by weight', () => {
    const split = splitSiteSetpoint([asset('a', 3, -5, 5), asset('b', 1, -10, 10), asset('c', 1, -10, 10)], 12);
    expect(split.map((a) => a.mw)).toEqual([5, 3.5, 3.5]);
    expect(split.map((a) => a.clamped)).toEqual([true, false, false]);
    expect(split[0]!.raw_mw).toBe(7.2);
  });

  it('clamps charging (negative) setpoints to min_mw the same way', () => {
    const split = splitSiteSetpoint([asset('a', 1, -1, 2), asset('b', 1, -4, 2)], -4);
    expect(split.map((a) => a.mw)).toEqual([-1, -3]);
  });

  it('clamps every asset over its limit in the same round (the example site asked for 12 MW)', () => {
    const s = site(example);
    const split = splitSiteSetpoint(s.assets, 12);
    expect(split.map((a) => [a.asset_id, a.raw_mw, a.mw, a.clamped])).toEqual([
      ['gt-bess-a', 7.2, 6, true],
      ['gt-bess-b', 2.4, 2, true],
      ['gt-bess-c', 2.4, 1.5, true],
    ]);
  });

  it('stops at the limits when the request is more than the site can do', () => {
    const split = splitSiteSetpoint([asset('a', 1, -1, 1), asset('b', 1, -2, 2)], 10);
    expect(split.map((a) => a.mw)).toEqual([1, 2]);
    expect(split.every((a) => a.clamped)).toBe(true);
  });

  it('keeps the sum exact at kW resolution', () => {
    const split = splitSiteSetpoint([asset('a', 1, -9, 9), asset('b', 1, -9, 9), asset('c', 1, -9, 9)], 10);
    expect(split.map((a) => a.mw)).toEqual([3.334, 3.333, 3.333]);
    expect(split.reduce((s, a) => s + a.mw, 0)).toBeCloseTo(10, 9);
  });

  it('weighs by capacity_mw when every asset has it (the example inventory)', () => {
    const split = splitSiteSetpoint(site(example).assets, 5);
    expect(split.map((a) => [a.asset_id, a.mw])).toEqual([
      ['gt-bess-a', 3],
      ['gt-bess-b', 1],
      ['gt-bess-c', 1],
    ]);
  });
});

describe('dispatch target', () => {
  const s = site(example);

  it('asset_id wins over site_id: only that asset gets a setpoint', () => {
    const plan = planDispatch(s, { asset_id: 'gt-bess-b', site_id: 'site-gt', mw: 1.5 });
    expect(plan).toMatchObject({ ok: true, target: 'asset' });
    if (plan.ok) expect(plan.allocations.map((a) => [a.asset_id, a.mw])).toEqual([['gt-bess-b', 1.5]]);
  });

  it('an asset setpoint is clamped to that asset', () => {
    const plan = planDispatch(s, { asset_id: 'gt-bess-c', mw: 9 });
    expect(plan.ok && plan.allocations).toEqual([
      { asset_id: 'gt-bess-c', weight: 2, raw_mw: 9, mw: 1.5, clamped: true },
    ]);
  });

  it('a site setpoint is split', () => {
    const plan = planDispatch(s, { site_id: 'site-gt', mw: -3 });
    expect(plan).toMatchObject({ ok: true, target: 'site' });
    if (plan.ok) expect(plan.allocations.map((a) => a.mw)).toEqual([-1.8, -0.6, -0.6]);
  });

  it('refuses an asset or a site this gateway does not serve', () => {
    expect(planDispatch(s, { asset_id: 'other', site_id: 'site-gt', mw: 1 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/asset other/),
    });
    expect(planDispatch(s, { site_id: 'site-x', mw: 1 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/site site-x/),
    });
  });
});

describe('inventory', () => {
  it('reads the example: site-gt first, assets sorted by id, weights from capacity_mw', () => {
    const result = parseInventory(example);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.sites.map((s) => s.site_id)).toEqual(['site-gt', 'site-mx']);
    expect(result.sites[0]).toMatchObject({ site_id: 'site-gt', gateway_id: 'gw-site-gt' });
    expect(result.sites[0]!.assets.map((a) => [a.asset_id, a.weight, a.asset_type === 'bess' && a.energy_mwh])).toEqual(
      [
        ['gt-bess-a', 6, 12],
        ['gt-bess-b', 2, 4],
        ['gt-bess-c', 2, 4],
      ],
    );
  });

  it('accepts assets nested under their site', () => {
    const nested = `
sites:
  - site_id: s1
    assets:
      - { asset_id: x, energy_mwh: 4, min_mw: -1, max_mw: 1 }
`;
    const result = parseInventory(nested);
    expect(result.ok && result.sites[0]!.assets[0]).toMatchObject({ asset_id: 'x', site_id: 's1', weight: 4 });
  });

  const cases: [string, string, string][] = [
    [
      'min above max',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: s, capacity_mw: 1, min_mw: 2, max_mw: 1 }]',
      'assets.0.min_mw',
    ],
    [
      'unknown site',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: t, capacity_mw: 1, min_mw: -1, max_mw: 1 }]',
      'assets.0.site_id',
    ],
    [
      'no capacity',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: s, min_mw: -1, max_mw: 1 }]',
      'assets.0.capacity_mw',
    ],
    [
      'wrong type',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: s, capacity_mw: 1, min_mw: "-1", max_mw: 1 }]',
      'assets.0.min_mw',
    ],
    [
      'duplicate asset',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: 1 }, { asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: 1 }]',
      'assets.1.asset_id',
    ],
    [
      'mixed weights',
      'sites: [{ site_id: s }]\nassets: [{ asset_id: a, site_id: s, capacity_mw: 1, min_mw: -1, max_mw: 1 }, { asset_id: b, site_id: s, energy_mwh: 1, min_mw: -1, max_mw: 1 }]',
      'assets.0.energy_mwh',
    ],
    ['no sites', 'assets: []', 'sites'],
    ['not yaml', 'sites: [', '(root)'],
  ];
  it.each(cases)('refuses %s, naming the field', (_name, text, field) => {
    expect(parseInventory(text)).toMatchObject({ ok: false, field });
  });

  it('selects the site named, else the one naming the gateway, else the only one', () => {
    const two = parseInventory(`
sites:
  - { site_id: s1, assets: [{ asset_id: a, capacity_mw: 1, min_mw: -1, max_mw: 1 }] }
  - { site_id: s2, gateway_id: gw-2, assets: [{ asset_id: b, capacity_mw: 1, min_mw: -1, max_mw: 1 }] }
`);
    if (!two.ok) throw new Error(two.message);
    expect(selectSite(two.sites, 'gw-x', 's1')).toMatchObject({ site_id: 's1' });
    expect(selectSite(two.sites, 'gw-2')).toMatchObject({ site_id: 's2' });
    expect(selectSite(two.sites, 'gw-x')).toMatch(/2 sites/);
    expect(selectSite(two.sites, 'gw-x', 'nope')).toMatch(/nope/);
  });
});

describe('BESS model', () => {
  const a: BessSpec = {
    ...asset('a', 1, -2, 2),
    energy_mwh: 1,
    min_soc_pct: 10,
    max_soc_pct: 90,
    initial_soc_pct: 50,
    efficiency: 0.9,
  };

  it('discharges at its setpoint and its SOC falls by MW × hours', () => {
    const b = new BessModel(a);
    b.setSetpoint(1);
    b.step(360);
    expect(b.mw).toBe(1);
    expect(b.socPct).toBeCloseTo(40, 6);
  });

  it('charging stores efficiency × energy', () => {
    const b = new BessModel(a);
    b.setSetpoint(-1);
    b.step(360);
    expect(b.socPct).toBeCloseTo(59, 6);
  });

  it('stops at min_soc_pct and says soc_low', () => {
    const b = new BessModel(a);
    b.setSetpoint(2);
    b.step(3600);
    expect(b.socPct).toBeCloseTo(10, 6);
    b.step(60);
    expect(b.mw).toBe(0);
    expect(b.telemetry()).toMatchObject({ status: 'soc_low', mw_setpoint: 2, mw: 0 });
  });

  it('clamps setpoints and follows its ramp rate', () => {
    const b = new BessModel({ ...a, ramp_rate_mw_per_min: 1 });
    expect(b.setSetpoint(5)).toBe(2);
    b.step(30);
    expect(b.mw).toBeCloseTo(0.5, 9);
  });

  it('gateway telemetry validates and lists every asset', () => {
    const s = site(example);
    const doc = gatewayTelemetry(
      'gw-site-gt',
      s,
      s.assets.map((x) => new BessModel(x)),
      1_729_700_000_000,
    );
    expect(gatewayTelemetrySchema.safeParse(doc).success).toBe(true);
    expect(doc.assets.map((x) => x.asset_id)).toEqual(['gt-bess-a', 'gt-bess-b', 'gt-bess-c']);
    expect(doc).toMatchObject({ gatewayId: 'gw-site-gt', site_id: 'site-gt', timestamp: 1_729_700_000, mw: 0 });
  });
});
