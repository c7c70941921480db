// A site gateway's assets (DER gateway): the YAML inventory and the dispatch split. The asset models are in assets/.
// No I/O: the inventory arrives as text, time as arguments.
import { parse as parseYaml } from 'yaml';
import type { DispatchCommand } from '../lambdas/core/contracts/schemas.js';
import type { DerGatewayTelemetry } from '../lambdas/core/contracts/der-schemas.js';
import { round } from './random.js';
import type { AssetModel } from './assets/model.js';

import {
  assetLimits,
  inventoryFileSchema as inventorySchema,
  type InventoryFileAsset,
} from '../lambdas/core/contracts/inventory.js';

export { BessModel } from './assets/bess.js';

interface AssetBase {
  readonly asset_id: string;
  readonly asset_name?: string;
  readonly site_id: string;
  readonly capacity_mw?: number;
  readonly min_mw: number;
  readonly max_mw: number;
  readonly ramp_rate_mw_per_min?: number;
  /** Split weight: capacity_mw when every asset of the site has it, else energy_mwh. */
  readonly weight: number;
}

export interface BessSpec extends AssetBase {
  readonly asset_type: 'bess';
  readonly energy_mwh: number;
  readonly min_soc_pct: number;
  readonly max_soc_pct: number;
  readonly initial_soc_pct: number;
  readonly efficiency: number;
  readonly soh_pct?: number;
}

export interface PvSpec extends AssetBase {
  readonly asset_type: 'pv';
  readonly capacity_mw: number;
  readonly utc_offset_h: number;
}

export interface WindSpec extends AssetBase {
  readonly asset_type: 'wind';
  readonly capacity_mw: number;
  readonly cut_in_ms: number;
  readonly rated_ms: number;
  readonly cut_out_ms: number;
  readonly mean_wind_ms: number;
}

export interface EvSpec extends AssetBase {
  readonly asset_type: 'ev';
  readonly capacity_mw: number;
  readonly ports: number;
  readonly port_max_kw: number;
}

export type AssetSpec = BessSpec | PvSpec | WindSpec | EvSpec;

export interface SiteSpec {
  readonly site_id: string;
  readonly site_name?: string;
  readonly gateway_id?: string;
  /** Sorted by asset_id: the split's stable order. */
  readonly assets: readonly AssetSpec[];
}

export type InventoryResult = { ok: true; sites: SiteSpec[] } | { ok: false; field: string; message: string };

const fail = (field: string, message: string): InventoryResult => ({
  ok: false,
  field,
  message: `${field}: ${message}`,
});

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
  const bySite = new Map<string, { field: string; asset: InventoryFileAsset }[]>();
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
    const mixed = entries.some((e) => e.asset.asset_type !== undefined && e.asset.asset_type !== 'bess');
    const allHaveCapacity = entries.every((e) => e.asset.capacity_mw !== undefined || e.asset.asset_type === 'ev');
    const assets: AssetSpec[] = [];
    for (const { field, asset: a } of entries) {
      if (seen.has(a.asset_id)) return fail(`${field}.asset_id`, `duplicate asset ${a.asset_id}`);
      seen.add(a.asset_id);
      const limits = assetLimits(a, field);
      if (!limits.ok) return limits;
      if (!allHaveCapacity && mixed && limits.capacity_mw === undefined) {
        return fail(
          `${field}.capacity_mw`,
          `site ${s.site_id} mixes asset types and weighs its split by capacity_mw: every asset needs it`,
        );
      }
      if (!allHaveCapacity && limits.energy_mwh === undefined && a.asset_type === undefined) {
        return fail(`${field}.energy_mwh`, `site ${s.site_id} weighs its split by energy_mwh: every asset needs it`);
      }
      const spec = assetSpec(a, s.site_id, limits);
      assets.push({ ...spec, weight: allHaveCapacity ? limits.capacity_mw! : (spec as BessSpec).energy_mwh });
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

type Limits = Extract<ReturnType<typeof assetLimits>, { ok: true }>;

function assetSpec(a: InventoryFileAsset, siteId: string, limits: Limits): AssetSpec {
  const base = {
    asset_id: a.asset_id,
    ...(a.asset_name !== undefined ? { asset_name: a.asset_name } : {}),
    site_id: siteId,
    ...(limits.capacity_mw !== undefined ? { capacity_mw: limits.capacity_mw } : {}),
    min_mw: limits.min_mw,
    max_mw: limits.max_mw,
    ...(a.ramp_rate_mw_per_min !== undefined ? { ramp_rate_mw_per_min: a.ramp_rate_mw_per_min } : {}),
    weight: 0,
  };
  switch (a.asset_type) {
    case 'pv':
      return { ...base, asset_type: 'pv', capacity_mw: a.capacity_mw, utc_offset_h: a.utc_offset_h };
    case 'wind':
      return {
        ...base,
        asset_type: 'wind',
        capacity_mw: a.capacity_mw,
        cut_in_ms: a.cut_in_ms,
        rated_ms: a.rated_ms,
        cut_out_ms: a.cut_out_ms,
        mean_wind_ms: a.mean_wind_ms,
      };
    case 'ev':
      return {
        ...base,
        asset_type: 'ev',
        capacity_mw: limits.capacity_mw!,
        ports: a.ports,
        port_max_kw: a.port_max_kw ?? (-limits.min_mw * 1000) / a.ports,
      };
    default:
      return {
        ...base,
        asset_type: 'bess',
        // An untyped (older) file may describe a battery by its power alone: a 2-hour battery.
        energy_mwh: limits.energy_mwh ?? limits.capacity_mw! * 2,
        min_soc_pct: a.min_soc_pct,
        max_soc_pct: a.max_soc_pct,
        initial_soc_pct: Math.min(a.max_soc_pct, Math.max(a.min_soc_pct, a.initial_soc_pct)),
        efficiency: a.efficiency,
        ...(a.soh_pct !== 100 ? { soh_pct: a.soh_pct } : {}),
      };
  }
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

/** What an asset can be given: [lo, hi] MW, 0 always inside. */
export interface Bounds {
  readonly lo: number;
  readonly hi: number;
}
const staticBounds = (a: AssetSpec): Bounds => ({ lo: a.min_mw, hi: a.max_mw });

/**
 * Splits a site setpoint over its assets by weight, clamps each share to its bounds ([min_mw, max_mw] unless told
 * otherwise) and hands what clamping left over to the assets still free, until the request is met or every asset is
 * at a limit. An asset that cannot move the requested way (bounds ending at 0) is clamped to 0 in the first round
 * and takes no part after, so the request goes only across those that can. Deterministic:
 * asset_id order, kW resolution, the rounding remainder on the first asset with room for it.
 */
export function splitSiteSetpoint(
  assets: readonly AssetSpec[],
  totalMw: number,
  bounds: (a: AssetSpec) => Bounds = staticBounds,
): Allocation[] {
  const order = [...assets].sort((a, b) => (a.asset_id < b.asset_id ? -1 : a.asset_id > b.asset_id ? 1 : 0));
  const totalWeight = order.reduce((s, a) => s + a.weight, 0);
  const raw = new Map(order.map((a) => [a.asset_id, totalWeight > 0 ? (totalMw * a.weight) / totalWeight : 0]));
  const limits = new Map(order.map((a) => [a.asset_id, bounds(a)]));
  const lo = (a: AssetSpec) => limits.get(a.asset_id)!.lo;
  const hi = (a: AssetSpec) => limits.get(a.asset_id)!.hi;
  const fixed = new Map<string, number>();
  const atLimit = new Set<string>();
  let free = order;
  let remaining = totalMw;
  while (free.length > 0) {
    const weight = free.reduce((s, a) => s + a.weight, 0);
    const share = new Map(
      free.map((a) => [a.asset_id, weight > 0 ? (remaining * a.weight) / weight : remaining / free.length]),
    );
    const violators = free.filter((a) => share.get(a.asset_id)! > hi(a) || share.get(a.asset_id)! < lo(a));
    if (violators.length === 0) {
      for (const a of free) fixed.set(a.asset_id, share.get(a.asset_id)!);
      break;
    }
    for (const a of violators) {
      const v = clamp(share.get(a.asset_id)!, lo(a), hi(a));
      fixed.set(a.asset_id, v);
      atLimit.add(a.asset_id);
      remaining -= v;
    }
    free = free.filter((a) => !violators.includes(a));
  }
  const exact = order.map((a) => fixed.get(a.asset_id) ?? 0);
  const rounded = exact.map((v) => round(v, 3));
  let remainder = round(
    round(
      exact.reduce((s, v) => s + v, 0),
      3,
    ) - rounded.reduce((s, v) => s + v, 0),
    3,
  );
  for (let i = 0; i < order.length && remainder !== 0; i++) {
    const a = order[i]!;
    const adjusted = round(rounded[i]! + remainder, 3);
    if (adjusted >= lo(a) && adjusted <= hi(a)) {
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
  { ok: true; target: 'asset' | 'site'; allocations: Allocation[] } | { ok: false; reason: string };

/** Where a dispatch goes: `asset_id` wins over `site_id` (no fan-out); a site setpoint is split. */
export function planDispatch(site: SiteSpec, cmd: Pick<DispatchCommand, 'asset_id' | 'site_id' | 'mw'>): DispatchPlan {
  if (cmd.asset_id !== undefined) {
    const asset = site.assets.find((a) => a.asset_id === cmd.asset_id);
    if (!asset)
      return { ok: false, reason: `asset ${cmd.asset_id} is not served by this gateway (site ${site.site_id})` };
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

export function gatewayTelemetry(
  gatewayId: string,
  site: SiteSpec,
  models: readonly AssetModel[],
  nowMs: number,
): DerGatewayTelemetry {
  const assets = models.map((m) => m.telemetry(nowMs));
  return {
    gatewayId,
    site_id: site.site_id,
    timestamp: Math.floor(nowMs / 1000),
    mw: round(
      assets.reduce((s, a) => s + a.mw, 0),
      3,
    ),
    mw_setpoint: round(
      assets.reduce((s, a) => s + (a.mw_setpoint ?? 0), 0),
      3,
    ),
    assets,
  };
}
