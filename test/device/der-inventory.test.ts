// Asset types in the inventory (both readers of the file) and the typed DER telemetry and dispatch ACK schemas.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAssetModel } from '../../device/assets/index.js';
import { gatewayTelemetry, parseInventory as parseSite } from '../../device/site.js';
import {
  derDispatchAckSchema,
  derGatewayTelemetrySchema,
  derTelemetrySchema,
} from '../../lambdas/core/contracts/der-schemas.js';
import { parseInventory } from '../../lambdas/core/contracts/inventory.js';
import { dispatchAckSchema, gatewayTelemetrySchema, parse } from '../../lambdas/core/contracts/schemas.js';
import { at } from './der-helpers.js';

const example = readFileSync(new URL('../../device/inventory.example.yaml', import.meta.url), 'utf8');
const one = (asset: string) =>
  `sites: [{ site_id: s, gateway_id: gw }]\nassets:\n  - { asset_id: a, site_id: s, ${asset} }\n`;

describe('asset types in the inventory', () => {
  const refused: [string, string, string][] = [
    ['an unknown type', 'asset_type: hydro, capacity_mw: 1, min_mw: 0, max_mw: 1', 'assets.0.asset_type'],
    [
      'a typed bess without energy_mwh',
      'asset_type: bess, capacity_mw: 1, min_mw: -1, max_mw: 1',
      'assets.0.energy_mwh',
    ],
    ['a pv with a negative max_mw', 'asset_type: pv, capacity_mw: 5, max_mw: -1', 'assets.0.max_mw'],
    ['a pv that consumes', 'asset_type: pv, capacity_mw: 5, min_mw: -1', 'assets.0.min_mw'],
    ['a pv over its nameplate', 'asset_type: pv, capacity_mw: 5, max_mw: 6', 'assets.0.max_mw'],
    ['a pv without a nameplate', 'asset_type: pv, max_mw: 5', 'assets.0.capacity_mw'],
    [
      'a wind asset rated below cut-in',
      'asset_type: wind, capacity_mw: 3, cut_in_ms: 4, rated_ms: 3',
      'assets.0.rated_ms',
    ],
    ['an ev station that exports', 'asset_type: ev, min_mw: 1, ports: 4', 'assets.0.min_mw'],
    ['an ev station with no charge limit', 'asset_type: ev, min_mw: 0, ports: 4', 'assets.0.min_mw'],
    ['an ev station without ports', 'asset_type: ev, min_mw: -1', 'assets.0.ports'],
    ['an ev station with half a port', 'asset_type: ev, min_mw: -1, ports: 2.5', 'assets.0.ports'],
  ];
  it.each(refused)('refuses %s, naming the field (backend and gateway alike)', (_name, asset, field) => {
    expect(parseInventory(one(asset))).toMatchObject({ ok: false, field });
    expect(parseSite(one(asset))).toMatchObject({ ok: false, field });
  });

  it('a site mixing types weighs by capacity_mw, which every battery there then needs', () => {
    const text = `sites: [{ site_id: s }]\nassets:\n  - { asset_id: a, site_id: s, energy_mwh: 4, min_mw: -1, max_mw: 1 }\n  - { asset_id: p, site_id: s, asset_type: pv, capacity_mw: 2 }\n`;
    expect(parseSite(text)).toMatchObject({ ok: false, field: 'assets.0.capacity_mw' });
  });

  it('reads the example mixed site: each type with its limits, weighed by capacity', () => {
    const result = parseSite(example);
    if (!result.ok) throw new Error(result.message);
    const mx = result.sites.find((s) => s.site_id === 'site-mx')!;
    expect(mx.gateway_id).toBe('gw-site-mx');
    expect(mx.assets.map((a) => [a.asset_id, a.asset_type, a.min_mw, a.max_mw, a.weight])).toEqual([
      ['mx-bess-1', 'bess', -4, 4, 4],
      ['mx-ev-1', 'ev', -1.2, 0, 1.2],
      ['mx-pv-1', 'pv', 0, 4.5, 5],
      ['mx-wind-1', 'wind', 0, 3, 3],
    ]);
    expect(mx.assets.find((a) => a.asset_type === 'ev')).toMatchObject({ ports: 8, port_max_kw: 150 });
    const backend = parseInventory(example);
    if (!backend.ok) throw new Error(backend.message);
    expect(
      backend.assets.filter((a) => a.site_id === 'site-mx').map((a) => [a.asset_id, a.asset_type, a.capacity_mw]),
    ).toEqual([
      ['mx-bess-1', 'bess', 4],
      ['mx-ev-1', 'ev', 1.2],
      ['mx-pv-1', 'pv', 5],
      ['mx-wind-1', 'wind', 3],
    ]);
  });
});

describe('DER telemetry', () => {
  const sites = parseSite(example);
  if (!sites.ok) throw new Error(sites.message);
  const mx = sites.sites.find((s) => s.site_id === 'site-mx')!;
  const gt = sites.sites.find((s) => s.site_id === 'site-gt')!;
  const doc = (site: typeof mx) => {
    const models = site.assets.map((a) => createAssetModel(a, at(12)));
    for (const m of models) m.step(5, at(12) + 5000);
    return gatewayTelemetry(`gw-${site.site_id}`, site, models, at(12) + 5000);
  };

  it('every type carries the core and its own extension, and the gateway document validates', () => {
    const d = doc(mx);
    expect(parse(derGatewayTelemetrySchema, d)).toMatchObject({ ok: true });
    const core = ['asset_id', 'site_id', 'timestamp', 'mw', 'mw_setpoint', 'online', 'status', 'fault_code'];
    const extension = {
      bess: ['soc_pct', 'soh_pct', 'energy_mwh', 'soc_mwh', 'inverter_temp_c', 'ambient_temp_c'],
      ev: ['station_state', 'active_sessions', 'energy_delivered_mwh'],
      pv: ['irradiance_wm2', 'module_temp_c', 'inverter_state', 'curtailment_reason'],
      wind: ['wind_speed_ms', 'turbine_rpm', 'availability_pct', 'turbine_state'],
    };
    for (const a of d.assets)
      expect(Object.keys(a), a.asset_id).toEqual(expect.arrayContaining([...core, ...extension[a.asset_type!]]));
    expect(d.assets.find((a) => a.asset_type === 'pv')!.mw).toBeGreaterThan(3);
  });

  it("a BESS-only site's document still passes the schema the gateway topic uses today", () => {
    expect(parse(gatewayTelemetrySchema, doc(gt))).toMatchObject({ ok: true });
    expect(parse(derGatewayTelemetrySchema, doc(gt))).toMatchObject({ ok: true });
  });

  const accepted: [string, object][] = [
    [
      'an older agent sending only the core',
      { asset_id: 'x', site_id: 's', timestamp: 1_729_700_000, mw: 1.5, online: true },
    ],
    ['a pv without its extension', { asset_id: 'x', site_id: 's', asset_type: 'pv', mw: 2, online: true }],
    [
      'an ev with nulls where nothing applies',
      { asset_id: 'x', site_id: 's', asset_type: 'ev', mw: -0.3, online: false, fault_code: null },
    ],
  ];
  it.each(accepted)('accepts %s', (_name, msg) => {
    expect(parse(derTelemetrySchema, msg)).toMatchObject({ ok: true });
  });

  const refused: [string, object, string][] = [
    ['an unknown type', { asset_id: 'x', site_id: 's', asset_type: 'hydro', mw: 1, online: true }, 'asset_type'],
    [
      'negative irradiance',
      { asset_id: 'x', site_id: 's', asset_type: 'pv', mw: 1, online: true, irradiance_wm2: -5 },
      'irradiance_wm2',
    ],
    ['SOC over 100', { asset_id: 'x', site_id: 's', asset_type: 'bess', mw: 1, online: true, soc_pct: 120 }, 'soc_pct'],
    [
      'an unknown station state',
      { asset_id: 'x', site_id: 's', asset_type: 'ev', mw: 0, online: true, station_state: 'on' },
      'station_state',
    ],
    ['no mw', { asset_id: 'x', site_id: 's', asset_type: 'wind', online: true }, 'mw'],
  ];
  it.each(refused)('refuses %s, naming the field', (_name, msg, field) => {
    expect(parse(derTelemetrySchema, msg)).toMatchObject({ ok: false, field });
  });
});

describe('the extended dispatch ACK', () => {
  const ack = {
    op: 'dispatch',
    status: 'accepted',
    site_id: 'site-mx',
    requested_mw: 4,
    split: [{ asset_id: 'mx-bess-1', mw: 1.2, requested_mw: 2, applied_mw: 1.2, reasons: ['soc_floor', 'ramp'] }],
    ts: 1_729_700_000,
    correlationId: 'c',
  };

  it('carries requested, applied and why per asset', () => {
    expect(parse(derDispatchAckSchema, ack)).toMatchObject({
      ok: true,
      value: { split: [{ reasons: ['soc_floor', 'ramp'] }] },
    });
    expect(parse(derDispatchAckSchema, { ...ack, split: [{ ...ack.split[0], reasons: ['tired'] }] })).toMatchObject({
      ok: false,
      field: 'split.0.reasons.0',
    });
  });

  // The backend stores what dispatchAckSchema returns: the split items are these (schemas.ts).
  it("parses with the backend ACK schema, which keeps the new fields, and an older gateway's split of mw alone", () => {
    const stored = parse(dispatchAckSchema, ack);
    expect(stored.ok && stored.value.split[0]).toEqual(ack.split[0]);
    const older = parse(dispatchAckSchema, { ...ack, split: [{ asset_id: 'mx-bess-1', mw: 1.2 }] });
    expect(older.ok && older.value.split[0]).toEqual({ asset_id: 'mx-bess-1', mw: 1.2 });
  });
});
