// A VEN's sheddable loads from its summary, and portfolio totals: pure functions.
import { describe, expect, it } from 'vitest';
import { shedLoadsOf } from '../../lambdas/core/dr/fleet-event.js';
import { summarizePortfolio } from '../../lambdas/core/analytics/portfolio.js';

describe('summarizePortfolio', () => {
  const ven = (online: boolean, latest: Record<string, unknown>) => ({
    deviceId: 'v',
    kind: 'ven' as const,
    online,
    latest,
  });

  it('totals online VENs only', () => {
    const p = summarizePortfolio(
      [
        ven(true, { usedPowerKw: 8.2, shedPowerKw: 4.8, availableShedKw: 2.1 }),
        ven(true, { usedPowerKw: 1.1 }),
        ven(false, { usedPowerKw: 100, availableShedKw: 50 }),
      ],
      [],
      0,
    );
    expect(p).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      vens: { total: 3, online: 2 },
      used_kw: 9.3,
      shed_kw: 4.8,
      available_shed_kw: 2.1,
      bess: null,
      der: null,
      edge: null,
    });
  });

  it('adds BESS MW and energy-weighted state of charge from gateway telemetry when there is some', () => {
    const gateway = {
      deviceId: 'gw',
      kind: 'gateway' as const,
      online: true,
      latest: {
        mw: 3.5,
        assets: [
          { asset_id: 'a', mw: 2, soc_mwh: 6, energy_mwh: 12 },
          { asset_id: 'b', asset_type: 'bess', mw: 1.5, soc_mwh: 4, energy_mwh: 4 },
        ],
      },
    };
    expect(summarizePortfolio([], [gateway], 0).bess).toEqual({
      gateways: 1,
      online: 1,
      mw: 3.5,
      energy_mwh: 16,
      soc_pct: 62.5,
    });
  });

  it("totals DER by type over the inventory, with each battery's SOC window; assets not reporting count with nothing", () => {
    const gateway = {
      deviceId: 'gw',
      kind: 'gateway' as const,
      online: true,
      latest: {
        assets: [
          { asset_id: 'b', asset_type: 'bess', mw: 1, min_mw: -2, online: true, soc_mwh: 6, energy_mwh: 10 },
          { asset_id: 'p', asset_type: 'pv', mw: 3, min_mw: 0, online: true },
        ],
      },
    };
    const row = (asset_id: string, asset_type: string, extra: object = {}) => ({
      asset_id,
      asset_type,
      asset_name: asset_id,
      site_id: 's',
      site_name: 's',
      gateway: 'gw',
      min_mw: 0,
      max_mw: 5,
      ...extra,
    });
    const der = summarizePortfolio([], [gateway], 0, [
      row('b', 'bess', { min_mw: -2, energy_mwh: 10, min_soc_pct: 10, max_soc_pct: 90 }),
      row('p', 'pv'),
      row('w', 'wind'),
    ]).der;
    expect(der).toMatchObject({
      gateways: { reporting: 1, online: 1 },
      assets: 3,
      online: 2,
      mw: 4,
      available_discharge_mwh: 5,
      charge_headroom_mwh: 3,
      charge_headroom_mw: 6,
    });
    expect(der?.by_type).toEqual({
      bess: { assets: 1, online: 1, mw: 1, available_discharge_mwh: 5, charge_headroom_mwh: 3, charge_headroom_mw: 3 },
      pv: { assets: 1, online: 1, mw: 3, available_discharge_mwh: 0, charge_headroom_mwh: 0, charge_headroom_mw: 3 },
      wind: { assets: 1, online: 0, mw: 0, available_discharge_mwh: 0, charge_headroom_mwh: 0, charge_headroom_mw: 0 },
    });
  });
});

describe('shedLoadsOf', () => {
  it('reads the tiers of a registry summary, and none from one that predates them', () => {
    expect(
      shedLoadsOf({
        deviceId: 'v',
        online: true,
        latest: {
          shedTiers: [
            { priority: 2, kw: 1 },
            { priority: 1, kw: 0 },
          ],
        },
      }),
    ).toEqual([{ priority: 2, kw: 1 }]);
    expect(shedLoadsOf({ deviceId: 'v', online: true, latest: { usedPowerKw: 3 } })).toEqual([]);
  });
});
