// Fleet totals now, from the registry's latest summaries: VEN load, shed and sheddable kW over the online VENs,
// and BESS MW and state of charge from gateways whose latest summary carries their telemetry (seed 002 shape:
// `mw` and `assets[].soc_mwh`/`energy_mwh`). Pure over the device lists.
import type { Device } from './ports.js';

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (devices: readonly Device[], key: string) => round(devices.reduce((s, d) => s + num(d.latest?.[key]), 0));

export function summarizePortfolio(vens: readonly Device[], gateways: readonly Device[], now: number) {
  const online = vens.filter((v) => v.online);
  return {
    at: new Date(now).toISOString(),
    vens: { total: vens.length, online: online.length },
    used_kw: sum(online, 'usedPowerKw'),
    shed_kw: sum(online, 'shedPowerKw'),
    available_shed_kw: sum(online, 'availableShedKw'),
    bess: bessSummary(gateways),
  };
}

function bessSummary(gateways: readonly Device[]) {
  const reporting = gateways.filter((g) => typeof g.latest?.mw === 'number');
  if (reporting.length === 0) return null;
  const assets = reporting.flatMap((g) => (Array.isArray(g.latest?.assets) ? (g.latest.assets as Record<string, unknown>[]) : []));
  const energy = assets.reduce((s, a) => s + num(a.energy_mwh), 0);
  const stored = assets.reduce((s, a) => s + num(a.soc_mwh), 0);
  return {
    gateways: reporting.length,
    online: reporting.filter((g) => g.online).length,
    mw: sum(reporting, 'mw'),
    energy_mwh: round(energy),
    soc_pct: energy > 0 ? round((stored / energy) * 100, 2) : null,
  };
}
