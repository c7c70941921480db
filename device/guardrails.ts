// Dispatch that respects each asset's physics (the DER gateway's "next steps": guardrails, ramp limiting). The static
// rules stay: signed MW, clamped to [min_mw, max_mw], `asset_id` wins, a site setpoint is split by weight. On top,
// each asset can be given only what it can do now (its Capability): a battery what its energy allows over the next
// interval, PV and wind a cap up to what they could produce, an EV station a charge limit down to what its cars draw.
import { DISPATCH_REASONS, type DerSplitItem, type DispatchReason } from '../lambdas/core/contracts/der-schemas.js';
import type { DispatchCommand } from '../lambdas/core/contracts/schemas.js';
import { clamp, type Capability } from './assets/model.js';
import { round } from './random.js';
import { splitSiteSetpoint, type AssetSpec, type SiteSpec } from './site.js';

export type GuardedItem = Required<DerSplitItem> & { readonly weight: number };

export type GuardedPlan = { ok: true; target: 'asset' | 'site'; items: GuardedItem[] } | { ok: false; reason: string };

const EPS = 5e-4;

/**
 * Plans a dispatch against what every asset can do now. An asset setpoint is clamped to the asset's rating (that is
 * its `mw`) and says what it will settle at now (`applied_mw`); a site setpoint is split by weight over the assets
 * that can move its way, each within what it can do now, what one cannot take going to the others.
 */
export function planGuardedDispatch(
  site: SiteSpec,
  cmd: Pick<DispatchCommand, 'asset_id' | 'site_id' | 'mw'>,
  capabilities: ReadonlyMap<string, Capability>,
): GuardedPlan {
  const cap = (a: AssetSpec) =>
    capabilities.get(a.asset_id) ?? { lo: 0, hi: 0, loReason: 'unavailable', hiReason: 'unavailable', applied_mw: 0 };
  if (cmd.asset_id !== undefined) {
    const asset = site.assets.find((a) => a.asset_id === cmd.asset_id);
    if (!asset)
      return { ok: false, reason: `asset ${cmd.asset_id} is not served by this gateway (site ${site.site_id})` };
    const c = cap(asset);
    const reasons = new Set<DispatchReason>();
    if (cmd.mw > asset.max_mw) reasons.add('clamped:max_mw');
    if (cmd.mw < asset.min_mw) reasons.add('clamped:min_mw');
    const mw = round(clamp(cmd.mw, asset.min_mw, asset.max_mw), 3);
    const applied = round(clamp(mw, c.lo, c.hi), 3);
    if (applied < mw - EPS) reasons.add(c.hiReason);
    if (applied > mw + EPS) reasons.add(c.loReason);
    return { ok: true, target: 'asset', items: [item(asset, c, cmd.mw, mw, applied, reasons)] };
  }
  if (cmd.site_id !== site.site_id) return { ok: false, reason: `site ${cmd.site_id} is not served by this gateway` };
  const items = splitSiteSetpoint(site.assets, cmd.mw, cap).map((s) => {
    const asset = site.assets.find((a) => a.asset_id === s.asset_id)!;
    const c = cap(asset);
    const reasons = new Set<DispatchReason>();
    if (s.clamped && cmd.mw > 0 && s.mw >= c.hi - EPS) reasons.add(c.hiReason);
    if (s.clamped && cmd.mw < 0 && s.mw <= c.lo + EPS) reasons.add(c.loReason);
    return item(asset, c, s.raw_mw, s.mw, s.mw, reasons);
  });
  return { ok: true, target: 'site', items };
}

function item(
  asset: AssetSpec,
  c: Capability,
  requested: number,
  mw: number,
  applied: number,
  reasons: Set<DispatchReason>,
): GuardedItem {
  // Held below what it could produce (PV, wind), or its charging held below what its cars want (EV).
  if (c.available_mw !== undefined && (asset.asset_type === 'ev' ? applied > c.lo + EPS : applied < c.hi - EPS))
    reasons.add('curtailment');
  if (asset.ramp_rate_mw_per_min !== undefined && Math.abs(applied - c.applied_mw) > EPS) reasons.add('ramp');
  return {
    asset_id: asset.asset_id,
    weight: asset.weight,
    mw: mw === 0 ? 0 : mw,
    requested_mw: round(requested, 3),
    applied_mw: applied === 0 ? 0 : applied,
    reasons: DISPATCH_REASONS.filter((r) => reasons.has(r)),
  };
}
