// Fleet totals now, from the registry's latest summaries: VEN load, shed and sheddable kW over the online VENs, and
// DER totals by asset type from the gateways' last site documents (der.ts), with the inventory's SOC windows. `bess`
// keeps its earlier shape (battery MW and energy-weighted state of charge) for clients that read it. Pure over the lists.
import { derTotalsByType, readingsOf, type TotalsInput } from '../ingest/der.js';
import type { InventoryAsset } from '../contracts/inventory.js';
import type { Device } from '../fleet/registry.js';

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;
const sum = (devices: readonly Device[], key: string) => round(devices.reduce((s, d) => s + num(d.latest?.[key]), 0));

export function summarizePortfolio(
  vens: readonly Device[],
  gateways: readonly Device[],
  now: number,
  inventory: readonly InventoryAsset[] = [],
) {
  const online = vens.filter((v) => v.online);
  const reporting = gateways.filter((g) => readingsOf(g.latest).size > 0);
  return {
    at: new Date(now).toISOString(),
    vens: { total: vens.length, online: online.length },
    used_kw: sum(online, 'usedPowerKw'),
    shed_kw: sum(online, 'shedPowerKw'),
    available_shed_kw: sum(online, 'availableShedKw'),
    bess: bessSummary(reporting),
    der: derSummary(reporting, inventory),
  };
}

/** Readings with no asset_type come from files that describe batteries only. */
const typeOf = (reading: Record<string, unknown>) =>
  typeof reading.asset_type === 'string' ? reading.asset_type : 'bess';

function bessSummary(reporting: readonly Device[]) {
  if (reporting.length === 0) return null;
  const batteries = reporting.flatMap((g) => [...readingsOf(g.latest).values()]).filter((a) => typeOf(a) === 'bess');
  const energy = batteries.reduce((s, a) => s + num(a.energy_mwh), 0);
  const stored = batteries.reduce((s, a) => s + num(a.soc_mwh), 0);
  return {
    gateways: reporting.length,
    online: reporting.filter((g) => g.online).length,
    mw: round(batteries.reduce((s, a) => s + num(a.mw), 0)),
    energy_mwh: round(energy),
    soc_pct: energy > 0 ? round((stored / energy) * 100, 2) : null,
  };
}

/** Every inventory asset (those not reporting count, with nothing available), or without an inventory every reading. */
function derSummary(reporting: readonly Device[], inventory: readonly InventoryAsset[]) {
  if (reporting.length === 0 && inventory.length === 0) return null;
  const readings = new Map(reporting.flatMap((g) => [...readingsOf(g.latest)]));
  const inputs: TotalsInput[] = inventory.length
    ? inventory.map((a) => ({ asset_type: a.asset_type, reading: readings.get(a.asset_id), limits: a }))
    : [...readings.values()].map((r) => ({ asset_type: typeOf(r), reading: r }));
  return {
    gateways: { reporting: reporting.length, online: reporting.filter((g) => g.online).length },
    ...derTotalsByType(inputs),
  };
}
