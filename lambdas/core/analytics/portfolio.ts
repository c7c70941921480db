// Fleet totals now, from the registry's latest summaries: VEN load, shed and sheddable kW over the online VENs, and
// DER totals by asset type from the gateways' last site documents (der.ts), with the inventory's SOC windows. `bess`
// keeps its earlier shape (battery MW and energy-weighted state of charge) for clients that read it. `edge`: the
// data-centre edge nodes' draw, batteries and what they could charge or discharge now (edgeSummary). Pure over the lists.
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
  edges: readonly Device[] = [],
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
    edge: edgeSummary(edges),
  };
}

/**
 * Edge nodes (their registry summary: the last sample as sent, `capacity_kw` and `battery_kwh` from its `meta`): power
 * (the sites' draw, kW) and SOC over the online nodes, battery energy over all. What a battery could give or take now
 * is what it holds (or lacks) spread over one hour, capped at the node's rated `capacity_kw` (the wire names no
 * separate battery rating); an offline node offers nothing.
 */
export function edgeSummary(edges: readonly Device[]) {
  if (edges.length === 0) return null;
  const nodes = edges.map(edgeFigures);
  const online = nodes.filter((n) => n.online);
  const batteryKwh = nodes.reduce((s, n) => s + n.batteryKwh, 0);
  const measured = online.filter((n) => n.soc !== null && n.batteryKwh > 0);
  const onlineKwh = measured.reduce((s, n) => s + n.batteryKwh, 0);
  const storedKwh = measured.reduce((s, n) => s + (n.batteryKwh * n.soc!) / 100, 0);
  return {
    nodes: edges.length,
    online: online.length,
    power_kw: round(online.reduce((s, n) => s + n.powerKw, 0)),
    capacity_kw: round(nodes.reduce((s, n) => s + n.capacityKw, 0)),
    battery_kwh: round(batteryKwh),
    stored_kwh: round(storedKwh),
    soc_pct: onlineKwh > 0 ? round((storedKwh / onlineKwh) * 100, 2) : null,
    available_discharge_kw: round(online.reduce((s, n) => s + n.dischargeKw, 0)),
    available_charge_kw: round(online.reduce((s, n) => s + n.chargeKw, 0)),
  };
}

/**
 * What the online edge batteries could discharge through a window of `durationSec`: per node what it holds spread over
 * the window, capped at its rating, largest first. A fleet event's plan lists it beside its VENs' allocation; the
 * event does not command them (an operator discharges a node from the Edge nodes view or its command route).
 */
export function edgeDischargeFor(edges: readonly Device[], durationSec: number) {
  const hours = durationSec / 3600;
  const nodes = edges
    .map(edgeFigures)
    .filter((n) => n.online && n.soc !== null)
    .map((n) => ({
      dcId: n.dcId,
      soc_pct: n.soc,
      discharge_kw: round(Math.min((n.batteryKwh * n.soc!) / 100 / hours, n.capacityKw)),
    }))
    .filter((n) => n.discharge_kw > 0)
    .sort((a, b) => b.discharge_kw - a.discharge_kw || a.dcId.localeCompare(b.dcId));
  return { available_discharge_kw: round(nodes.reduce((s, n) => s + n.discharge_kw, 0)), nodes };
}

/** One node's figures from its registry summary; a field missing counts as nothing. */
export function edgeFigures(device: Device) {
  const latest = device.latest ?? {};
  const payload = (typeof latest.payload === 'object' && latest.payload ? latest.payload : {}) as Record<
    string,
    unknown
  >;
  const capacityKw = num(latest.capacity_kw);
  const batteryKwh = num(latest.battery_kwh);
  const soc = typeof payload.soc === 'number' && Number.isFinite(payload.soc) ? payload.soc : null;
  const held = soc === null ? 0 : (batteryKwh * soc) / 100;
  const room = soc === null ? 0 : batteryKwh - held;
  return {
    dcId: device.deviceId,
    online: device.online,
    powerKw: num(payload.power_kw),
    capacityKw,
    batteryKwh,
    soc,
    dischargeKw: device.online ? round(Math.min(held, capacityKw)) : 0,
    chargeKw: device.online ? round(Math.min(room, capacityKw)) : 0,
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
