// A site gateway's assets (seed 002): the YAML inventory, the dispatch split and the BESS model.
// No I/O: the inventory arrives as text, time as arguments.
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import type { AssetTelemetry, DispatchCommand, GatewayTelemetry } from '../lambdas/core/schemas.js';
import { THING_NAME } from '../lambdas/core/topics.js';
import { round } from './random.js';

import { inventoryFileSchema as inventorySchema, type InventoryFile } from '../lambdas/core/inventory.js';

export interface AssetSpec {
  readonly asset_id: string;
  readonly asset_name?: string;
  readonly site_id: string;
  readonly asset_type: 'bess';
  readonly capacity_mw?: number;
  readonly energy_mwh: number;
  readonly min_mw: number;
  readonly max_mw: number;
  readonly min_soc_pct: number;
  readonly max_soc_pct: number;
  readonly initial_soc_pct: number;
  readonly efficiency: number;
  readonly ramp_rate_mw_per_min?: number;
  /** Split weight: capacity_mw when every asset of the site has it, else energy_mwh. */
  readonly weight: number;
}

export interface SiteSpec {
  readonly site_id: string;
  readonly site_name?: string;
  readonly gateway_id?: string;
  /** Sorted by asset_id: the split's stable order. */
  readonly assets: readonly AssetSpec[];
}

export type InventoryResult = { ok: true; sites: SiteSpec[] } | { ok: false; field: string; message: string };

const fail = (field: string, message: string): InventoryResult => ({ ok: false, field, message: `${field}: ${message}` });

/** Parses and checks an inventory (YAML or JSON text); an error names the offending field. */
export function parseInventory(text: string): InventoryResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    return fail('(root)', `not YAML: ${(error as Error).message}`);
  }
  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(issue.path.map(String).join('.') || '(root)', issue.message);
  }
  const inv = parsed.data;
  const bySite = new Map<string, { field: string; asset: NonNullable<InventoryFile['sites'][number]['assets']>[number] }[]>();
  for (const [i, s] of inv.sites.entries()) {
    if (bySite.has(s.site_id)) return fail(`sites.${i}.site_id`, `duplicate site ${s.site_id}`);
    bySite.set(s.site_id, []);
    for (const [j, a] of (s.assets ?? []).entries()) {
      const field = `sites.${i}.assets.${j}`;
      if (a.site_id !== undefined && a.site_id !== s.site_id) return fail(`${field}.site_id`, `is not ${s.site_id}`);
      bySite.get(s.site_id)!.push({ field, asset: a });
    }
  }
  for (const [i, a] of (inv.assets ?? []).entries()) {
    const list = bySite.get(a.site_id);
    if (!list) return fail(`assets.${i}.site_id`, `unknown site ${a.site_id}`);
    list.push({ field: `assets.${i}`, asset: a });
  }
  const seen = new Set<string>();
  const sites: SiteSpec[] = [];
  for (const s of inv.sites) {
    const entries = bySite.get(s.site_id)!;
    if (entries.length === 0) return fail('sites', `site ${s.site_id} has no assets`);
    const allHaveCapacity = entries.every((e) => e.asset.capacity_mw !== undefined);
    const assets: AssetSpec[] = [];
    for (const { field, asset: a } of entries) {
      if (seen.has(a.asset_id)) return fail(`${field}.asset_id`, `duplicate asset ${a.asset_id}`);
      seen.add(a.asset_id);
      if (a.min_mw > a.max_mw) return fail(`${field}.min_mw`, 'must not exceed max_mw');
      if (a.min_soc_pct > a.max_soc_pct) return fail(`${field}.min_soc_pct`, 'must not exceed max_soc_pct');
      const energy = a.energy_mwh ?? a.capacity_mwhr;
      if (energy === undefined && a.capacity_mw === undefined) {
        return fail(`${field}.capacity_mw`, 'capacity_mw or energy_mwh is required');
      }
      if (!allHaveCapacity && energy === undefined) {
        return fail(`${field}.energy_mwh`, `site ${s.site_id} weighs its split by energy_mwh: every asset needs it`);
      }
      const energyMwh = energy ?? a.capacity_mw! * 2;
      assets.push({
        asset_id: a.asset_id,
        ...(a.asset_name !== undefined ? { asset_name: a.asset_name } : {}),
        site_id: s.site_id,
        asset_type: a.asset_type,
        ...(a.capacity_mw !== undefined ? { capacity_mw: a.capacity_mw } : {}),
        energy_mwh: energyMwh,
        min_mw: a.min_mw,
        max_mw: a.max_mw,
        min_soc_pct: a.min_soc_pct,
        max_soc_pct: a.max_soc_pct,
        initial_soc_pct: Math.min(a.max_soc_pct, Math.max(a.min_soc_pct, a.initial_soc_pct)),
        efficiency: a.efficiency,
        ...(a.ramp_rate_mw_per_min !== undefined ? { ramp_rate_mw_per_min: a.ramp_rate_mw_per_min } : {}),
        weight: allHaveCapacity ? a.capacity_mw! : energyMwh,
      });
    }
    assets.sort((x, y) => (x.asset_id < y.asset_id ? -1 : x.asset_id > y.asset_id ? 1 : 0));
    sites.push({
      site_id: s.site_id,
      ...(s.site_name !== undefined ? { site_name: s.site_name } : {}),
      ...(s.gateway_id !== undefined ? { gateway_id: s.gateway_id } : {}),
      assets,
    });
  }
  return { ok: true, sites };
}

/** The site a gateway serves: the one named, else the one naming this gateway, else the only one. */
export function selectSite(sites: readonly SiteSpec[], gatewayId: string, siteId?: string): SiteSpec | string {
  if (siteId !== undefined) return sites.find((s) => s.site_id === siteId) ?? `site ${siteId} is not in the inventory`;
  const mine = sites.filter((s) => s.gateway_id === gatewayId);
  if (mine.length === 1) return mine[0]!;
  if (sites.length === 1) return sites[0]!;
  return `the inventory has ${sites.length} sites: name one (GATEWAY_SITE_ID / --site) or set gateway_id: ${gatewayId} on it`;
}

export interface Allocation {
  readonly asset_id: string;
  readonly weight: number;
  /** Share before clamping and redistribution. */
  readonly raw_mw: number;
  readonly mw: number;
  readonly clamped: boolean;
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/**
 * Splits a site setpoint over its assets by weight, clamps each share to [min_mw, max_mw] and hands what clamping
 * left over to the assets still free, until the request is met or every asset is at a limit. Deterministic:
 * asset_id order, kW resolution, the rounding remainder on the first asset with room for it.
 */
export function splitSiteSetpoint(assets: readonly AssetSpec[], totalMw: number): Allocation[] {
  const order = [...assets].sort((a, b) => (a.asset_id < b.asset_id ? -1 : a.asset_id > b.asset_id ? 1 : 0));
  const totalWeight = order.reduce((s, a) => s + a.weight, 0);
  const raw = new Map(order.map((a) => [a.asset_id, totalWeight > 0 ? (totalMw * a.weight) / totalWeight : 0]));
  const fixed = new Map<string, number>();
  const atLimit = new Set<string>();
  let free = order;
  let remaining = totalMw;
  while (free.length > 0) {
    const weight = free.reduce((s, a) => s + a.weight, 0);
    const share = new Map(free.map((a) => [a.asset_id, weight > 0 ? (remaining * a.weight) / weight : remaining / free.length]));
    const violators = free.filter((a) => share.get(a.asset_id)! > a.max_mw || share.get(a.asset_id)! < a.min_mw);
    if (violators.length === 0) {
      for (const a of free) fixed.set(a.asset_id, share.get(a.asset_id)!);
      break;
    }
    for (const a of violators) {
      const v = clamp(share.get(a.asset_id)!, a.min_mw, a.max_mw);
      fixed.set(a.asset_id, v);
      atLimit.add(a.asset_id);
      remaining -= v;
    }
    free = free.filter((a) => !violators.includes(a));
  }
  const exact = order.map((a) => fixed.get(a.asset_id) ?? 0);
  const rounded = exact.map((v) => round(v, 3));
  let remainder = round(round(exact.reduce((s, v) => s + v, 0), 3) - rounded.reduce((s, v) => s + v, 0), 3);
  for (let i = 0; i < order.length && remainder !== 0; i++) {
    const a = order[i]!;
    const adjusted = round(rounded[i]! + remainder, 3);
    if (adjusted >= a.min_mw && adjusted <= a.max_mw) {
      rounded[i] = adjusted;
      remainder = 0;
    }
  }
  return order.map((a, i) => ({
    asset_id: a.asset_id,
    weight: a.weight,
    raw_mw: round(raw.get(a.asset_id)!, 3),
    mw: rounded[i]! === 0 ? 0 : rounded[i]!,
    clamped: atLimit.has(a.asset_id),
  }));
}

export type DispatchPlan =
  | { ok: true; target: 'asset' | 'site'; allocations: Allocation[] }
  | { ok: false; reason: string };

/** Where a dispatch goes: `asset_id` wins over `site_id` (no fan-out); a site setpoint is split. */
export function planDispatch(site: SiteSpec, cmd: Pick<DispatchCommand, 'asset_id' | 'site_id' | 'mw'>): DispatchPlan {
  if (cmd.asset_id !== undefined) {
    const asset = site.assets.find((a) => a.asset_id === cmd.asset_id);
    if (!asset) return { ok: false, reason: `asset ${cmd.asset_id} is not served by this gateway (site ${site.site_id})` };
    const v = round(clamp(cmd.mw, asset.min_mw, asset.max_mw), 3);
    return {
      ok: true,
      target: 'asset',
      allocations: [{ asset_id: asset.asset_id, weight: asset.weight, raw_mw: cmd.mw, mw: v, clamped: v !== cmd.mw }],
    };
  }
  if (cmd.site_id !== site.site_id) return { ok: false, reason: `site ${cmd.site_id} is not served by this gateway` };
  return { ok: true, target: 'site', allocations: splitSiteSetpoint(site.assets, cmd.mw) };
}


/**
 * A battery: follows its setpoint (ramp-limited when the inventory says so) while its state of charge allows.
 * Positive MW discharges (export), negative charges; charging stores `efficiency` of what it draws.
 */
export class BessModel {
  setpointMw = 0;
  mw = 0;
  socMwh: number;
  /** The last step could not follow the setpoint because the battery was empty or full. */
  limitedBySoc = false;

  constructor(readonly asset: AssetSpec) {
    this.socMwh = (asset.energy_mwh * asset.initial_soc_pct) / 100;
  }

  setSetpoint(value: number): number {
    this.setpointMw = round(clamp(value, this.asset.min_mw, this.asset.max_mw), 3);
    return this.setpointMw;
  }

  get socPct(): number {
    return (this.socMwh / this.asset.energy_mwh) * 100;
  }

  step(dtSec: number): void {
    const a = this.asset;
    const maxStep = a.ramp_rate_mw_per_min !== undefined ? (a.ramp_rate_mw_per_min * dtSec) / 60 : Infinity;
    let next = this.mw + clamp(this.setpointMw - this.mw, -maxStep, maxStep);
    const hours = dtSec / 3600;
    const floor = (a.energy_mwh * a.min_soc_pct) / 100;
    const ceiling = (a.energy_mwh * a.max_soc_pct) / 100;
    const wanted = next;
    if (next > 0) next = Math.min(next, Math.max(0, (this.socMwh - floor) / hours));
    if (next < 0) next = Math.max(next, -Math.max(0, (ceiling - this.socMwh) / (hours * a.efficiency)));
    this.limitedBySoc = Math.abs(wanted - next) > 1e-9;
    this.mw = next;
    this.socMwh = clamp(this.socMwh - (next > 0 ? next * hours : next * hours * a.efficiency), 0, a.energy_mwh);
  }

  telemetry(): AssetTelemetry {
    const a = this.asset;
    return {
      asset_id: a.asset_id,
      ...(a.asset_name !== undefined ? { asset_name: a.asset_name } : {}),
      site_id: a.site_id,
      asset_type: a.asset_type,
      mw: round(this.mw, 3),
      mw_setpoint: this.setpointMw,
      soc_pct: round(this.socPct, 2),
      soc_mwh: round(this.socMwh, 3),
      energy_mwh: a.energy_mwh,
      ...(a.capacity_mw !== undefined ? { capacity_mw: a.capacity_mw } : {}),
      min_mw: a.min_mw,
      max_mw: a.max_mw,
      online: true,
      status: this.limitedBySoc ? (this.setpointMw > 0 ? 'soc_low' : 'soc_high') : 'ok',
    };
  }
}

export function gatewayTelemetry(gatewayId: string, site: SiteSpec, batteries: readonly BessModel[], nowMs: number): GatewayTelemetry {
  const assets = batteries.map((b) => b.telemetry());
  return {
    gatewayId,
    site_id: site.site_id,
    timestamp: Math.floor(nowMs / 1000),
    mw: round(assets.reduce((s, a) => s + a.mw, 0), 3),
    mw_setpoint: round(assets.reduce((s, a) => s + a.mw_setpoint, 0), 3),
    assets,
  };
}
