// The asset and site inventory (DER gateway) as the backend sees it: the same YAML file the gateway agent serves
// (device/inventory.example.yaml), validated here and flattened into one row per asset and per site.
// Pure: the file arrives as text.
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { fieldPath } from './schemas.js';
import { THING_NAME } from './topics.js';

const id = z.string().min(1).max(128);
const mw = z.number().finite().min(-10_000).max(10_000);
const positive = z.number().finite().positive().max(1_000_000);
const pct = z.number().finite().min(0).max(100);

// One schema for both sides: the backend routes dispatches with it, the gateway agent (device/site.ts) runs its
// asset models from the same fields and defaults. Signed MW: positive = discharge/export, negative = charge/import.
const nonNegativeMw = z.number().finite().min(0, 'must not be negative').max(10_000);
const common = {
  asset_id: id,
  asset_name: z.string().min(1).max(256).optional(),
  /** How fast the gateway moves the asset's applied setpoint toward a new target. */
  ramp_rate_mw_per_min: positive.optional(),
};

// asset_type may be left out: files from before asset types describe batteries only.
const bessFields = {
  ...common,
  asset_type: z.literal('bess').optional(),
  /** Power rating, the split weight when every asset of the site has one. */
  capacity_mw: positive.optional(),
  energy_mwh: positive.optional(),
  /** the DER gateway's name for energy_mwh. */
  capacity_mwhr: positive.optional(),
  min_mw: mw,
  max_mw: mw,
  min_soc_pct: pct.default(0),
  max_soc_pct: pct.default(100),
  initial_soc_pct: pct.default(50),
  efficiency: z.number().finite().gt(0).max(1).default(0.9),
  soh_pct: pct.default(100),
};

/** PV and wind: a nameplate, an export limit (max_mw, the nameplate by default), nothing consumed. */
const generating = <T extends 'pv' | 'wind'>(type: T) => ({
  ...common,
  asset_type: z.literal(type),
  capacity_mw: positive,
  min_mw: z.literal(0, `a ${type} asset cannot consume: must be 0`).default(0),
  max_mw: nonNegativeMw.optional(),
});

const pvFields = {
  ...generating('pv'),
  /** Hours from UTC of the site's solar time: sunrise 06:00, noon 12:00, sunset 18:00 local. */
  utc_offset_h: z.number().finite().min(-14).max(14).default(0),
};

const speed = z.number().finite().positive().max(100);
const windFields = {
  ...generating('wind'),
  cut_in_ms: speed.default(3),
  rated_ms: speed.default(12),
  cut_out_ms: speed.default(25),
  mean_wind_ms: speed.default(8),
};

const evFields = {
  ...common,
  asset_type: z.literal('ev'),
  /** The station's charge limit, negative (charging is import). */
  min_mw: z.number().finite().min(-10_000).max(0, 'an ev station charges: its limit is negative MW'),
  max_mw: z.literal(0, 'an ev station does not export: must be 0').default(0),
  /** Defaults to the charge limit. */
  capacity_mw: positive.optional(),
  ports: z.number().int().min(1).max(10_000),
  /** Most one session draws; defaults to the station limit shared by every port. */
  port_max_kw: positive.optional(),
};

const assetTypes = <S extends z.ZodType<string | undefined>>(site_id: S) =>
  z.discriminatedUnion(
    'asset_type',
    [
      z.object({ ...bessFields, site_id }),
      z.object({ ...pvFields, site_id }),
      z.object({ ...windFields, site_id }),
      z.object({ ...evFields, site_id }),
    ],
    { error: 'must be bess, pv, wind or ev' },
  );

export const inventoryFileSchema = z.object({
  sites: z
    .array(
      z.object({
        site_id: id,
        site_name: z.string().min(1).max(256).optional(),
        /** Thing name of the gateway serving the site: where the backend publishes its dispatches. */
        gateway_id: z.string().regex(THING_NAME, 'must be a thing name (a-z A-Z 0-9 : _ -)').optional(),
        assets: z.array(assetTypes(id.optional())).max(256).optional(),
      }),
    )
    .min(1)
    .max(1000),
  assets: z.array(assetTypes(id)).max(10_000).optional(),
});
export type AssetType = 'bess' | 'pv' | 'wind' | 'ev';
/** An asset as the file gives it, nested under its site or flat (then with its site_id). */
export type InventoryFileAsset = NonNullable<z.infer<typeof inventoryFileSchema>['sites'][number]['assets']>[number];

export type AssetLimits =
  | { ok: true; asset_type: AssetType; min_mw: number; max_mw: number; capacity_mw?: number; energy_mwh?: number }
  | { ok: false; field: string; message: string };

/**
 * The checks a schema cannot make alone, and each type's limits filled in: PV and wind export up to max_mw (the
 * nameplate unless lower), an EV station's capacity is its charge limit. A battery from an untyped (older) file may
 * give capacity_mw alone; one typed `bess` must give its energy.
 */
export function assetLimits(a: InventoryFileAsset, field: string): AssetLimits {
  const refuse = (key: string, message: string): AssetLimits => ({
    ok: false,
    field: `${field}.${key}`,
    message: `${field}.${key}: ${message}`,
  });
  switch (a.asset_type) {
    case 'pv':
    case 'wind': {
      const max = a.max_mw ?? a.capacity_mw;
      if (max > a.capacity_mw) return refuse('max_mw', 'must not exceed capacity_mw (the nameplate)');
      if (a.asset_type === 'wind' && !(a.cut_in_ms < a.rated_ms && a.rated_ms < a.cut_out_ms)) {
        return refuse('rated_ms', 'needs cut_in_ms < rated_ms < cut_out_ms');
      }
      return { ok: true, asset_type: a.asset_type, min_mw: 0, max_mw: max, capacity_mw: a.capacity_mw };
    }
    case 'ev':
      if (a.min_mw === 0) return refuse('min_mw', 'an ev station needs a charge limit below 0');
      return { ok: true, asset_type: 'ev', min_mw: a.min_mw, max_mw: 0, capacity_mw: a.capacity_mw ?? -a.min_mw };
    default: {
      if (a.min_mw > a.max_mw) return refuse('min_mw', 'must not exceed max_mw');
      if (a.min_soc_pct > a.max_soc_pct) return refuse('min_soc_pct', 'must not exceed max_soc_pct');
      const energy = a.energy_mwh ?? a.capacity_mwhr;
      if (a.asset_type === 'bess' && energy === undefined)
        return refuse('energy_mwh', 'a bess needs its energy (energy_mwh)');
      if (energy === undefined && a.capacity_mw === undefined)
        return refuse('capacity_mw', 'capacity_mw or energy_mwh is required');
      return {
        ok: true,
        asset_type: 'bess',
        min_mw: a.min_mw,
        max_mw: a.max_mw,
        ...(a.capacity_mw !== undefined && { capacity_mw: a.capacity_mw }),
        ...(energy !== undefined && { energy_mwh: energy }),
      };
    }
  }
}
export type InventoryFile = z.infer<typeof inventoryFileSchema>;

export interface InventoryAsset {
  readonly asset_id: string;
  readonly asset_name: string;
  readonly asset_type: string;
  readonly site_id: string;
  readonly site_name: string;
  /** The gateway thing serving the asset's site. */
  readonly gateway: string;
  readonly capacity_mw?: number;
  readonly energy_mwh?: number;
  readonly min_mw: number;
  readonly max_mw: number;
  /** BESS: the state-of-charge window the gateway keeps the battery in. */
  readonly min_soc_pct?: number;
  readonly max_soc_pct?: number;
}

export interface InventorySite {
  readonly site_id: string;
  readonly site_name: string;
  readonly gateway: string;
  readonly asset_ids: readonly string[];
  /** Sums over the site's assets: a site setpoint is clamped to these. */
  readonly min_mw: number;
  readonly max_mw: number;
  readonly capacity_mw?: number;
}

export interface Inventory {
  readonly sites: readonly InventorySite[];
  readonly assets: readonly InventoryAsset[];
}

export type InventoryResult = ({ ok: true } & Inventory) | { ok: false; field: string; message: string };

const fail = (field: string, message: string): InventoryResult => ({
  ok: false,
  field,
  message: `${field}: ${message}`,
});
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sum = (values: readonly number[]) => Math.round(values.reduce((s, v) => s + v, 0) * 1000) / 1000;

/** Parses and checks an inventory file (YAML or JSON text); an error names the offending field. */
export function parseInventory(text: string): InventoryResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return fail('(root)', `not YAML: ${(err as Error).message}`);
  }
  const parsed = inventoryFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(fieldPath(issue.path), issue.message);
  }
  return flatten(parsed.data);
}

function flatten(file: InventoryFile): InventoryResult {
  const sites = new Map<string, { field: string; site: InventoryFile['sites'][number]; assets: InventoryAsset[] }>();
  const seen = new Set<string>();
  for (const [i, s] of file.sites.entries()) {
    if (sites.has(s.site_id)) return fail(`sites.${i}.site_id`, `duplicate site ${s.site_id}`);
    if (!s.gateway_id)
      return fail(`sites.${i}.gateway_id`, "required: the gateway thing the backend sends this site's dispatches to");
    sites.set(s.site_id, { field: `sites.${i}`, site: s, assets: [] });
  }
  const entries = [
    ...file.sites.flatMap((s, i) =>
      (s.assets ?? []).map((a, j) => ({ field: `sites.${i}.assets.${j}`, a, siteId: s.site_id })),
    ),
    ...(file.assets ?? []).map((a, i) => ({ field: `assets.${i}`, a, siteId: a.site_id })),
  ];
  for (const { field, a, siteId } of entries) {
    const entry = sites.get(siteId);
    if (!entry) return fail(`${field}.site_id`, `unknown site ${siteId}`);
    if (a.site_id !== undefined && a.site_id !== siteId) return fail(`${field}.site_id`, `is not ${siteId}`);
    if (seen.has(a.asset_id)) return fail(`${field}.asset_id`, `duplicate asset ${a.asset_id}`);
    const limits = assetLimits(a, field);
    if (!limits.ok) return limits;
    seen.add(a.asset_id);
    entry.assets.push({
      asset_id: a.asset_id,
      asset_name: a.asset_name ?? a.asset_id,
      asset_type: limits.asset_type,
      site_id: siteId,
      site_name: entry.site.site_name ?? siteId,
      gateway: entry.site.gateway_id!,
      ...(limits.capacity_mw !== undefined && { capacity_mw: limits.capacity_mw }),
      ...(limits.energy_mwh !== undefined && { energy_mwh: limits.energy_mwh }),
      min_mw: limits.min_mw,
      max_mw: limits.max_mw,
      ...(limits.asset_type === 'bess' &&
        'min_soc_pct' in a && { min_soc_pct: a.min_soc_pct, max_soc_pct: a.max_soc_pct }),
    });
  }
  const outSites: InventorySite[] = [];
  for (const { field, site, assets } of sites.values()) {
    if (assets.length === 0) return fail(`${field}.assets`, `site ${site.site_id} has no assets`);
    assets.sort((x, y) => byId(x.asset_id, y.asset_id));
    const capacities = assets.map((a) => a.capacity_mw);
    outSites.push({
      site_id: site.site_id,
      site_name: site.site_name ?? site.site_id,
      gateway: site.gateway_id!,
      asset_ids: assets.map((a) => a.asset_id),
      min_mw: sum(assets.map((a) => a.min_mw)),
      max_mw: sum(assets.map((a) => a.max_mw)),
      ...(capacities.every((c) => c !== undefined) && { capacity_mw: sum(capacities as number[]) }),
    });
  }
  return {
    ok: true,
    sites: outSites.sort((x, y) => byId(x.site_id, y.site_id)),
    assets: [...sites.values()].flatMap((s) => s.assets).sort((x, y) => byId(x.asset_id, y.asset_id)),
  };
}
