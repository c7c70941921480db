// Operator dispatch (DER gateway): a signed MW setpoint (positive = discharge/export) for one asset or one site,
// clamped to the inventory's limits and sent to the gateway thing serving it. `asset_id` wins over `site_id`.
import { dispatchCommand, sendCommand, type CommandContext, type CommandPorts } from './commands.js';
import { NotFoundError } from '../contracts/errors.js';
import type { InventoryAsset, InventorySite } from '../contracts/inventory.js';
import type { CommandRecord } from './command-store.js';
import type { InventoryStore } from '../inventory/inventory-store.js';

export interface DispatchRequest {
  readonly asset_id?: string;
  readonly site_id?: string;
  readonly mw: number;
}

export interface DispatchRoute {
  readonly gateway: string;
  readonly target: { asset_id: string } | { site_id: string };
  readonly mw_requested: number;
  readonly mw_sent: number;
  readonly clamped: boolean;
}

export const clampMw = (mw: number, min: number, max: number) =>
  Math.round(Math.min(max, Math.max(min, mw)) * 1000) / 1000;

/** Where a setpoint goes and what is left of it after clamping: an asset to its limits, a site to their sums. */
export function routeDispatch(mw: number, to: { asset: InventoryAsset } | { site: InventorySite }): DispatchRoute {
  const limits = 'asset' in to ? to.asset : to.site;
  const mwSent = clampMw(mw, limits.min_mw, limits.max_mw);
  return {
    gateway: limits.gateway,
    target: 'asset' in to ? { asset_id: to.asset.asset_id } : { site_id: to.site.site_id },
    mw_requested: mw,
    mw_sent: mwSent,
    clamped: mwSent !== mw,
  };
}

export interface DispatchPorts extends CommandPorts {
  readonly inventory: InventoryStore;
}

/** Where a dispatch would go and what would be sent, read from the inventory; sends nothing. */
export async function planDispatch(req: DispatchRequest, inventory: InventoryStore): Promise<DispatchRoute> {
  return routeDispatch(req.mw, await resolveTarget(req, inventory));
}

export async function dispatch(req: DispatchRequest, ports: DispatchPorts, ctx: CommandContext) {
  const route = await planDispatch(req, ports.inventory);
  const id = ctx.newId();
  const command = dispatchCommand(id, route.target, route.mw_sent, id);
  await sendCommand(ports, route.gateway, command, ctx, {
    dispatch: { ...route.target, mw_requested: route.mw_requested, mw_sent: route.mw_sent },
  });
  return {
    dispatch_id: id,
    correlationId: id,
    status: 'sent' as const,
    ...route.target,
    gateway: route.gateway,
    mw_requested: route.mw_requested,
    mw_sent: route.mw_sent,
  };
}

async function resolveTarget(req: DispatchRequest, inventory: InventoryStore) {
  if (req.asset_id !== undefined) {
    const asset = await inventory.getAsset(req.asset_id);
    if (!asset) throw new NotFoundError(`asset ${req.asset_id}`);
    return { asset };
  }
  const site = req.site_id !== undefined ? await inventory.getSite(req.site_id) : undefined;
  if (!site) throw new NotFoundError(`site ${req.site_id}`);
  return { site };
}

/** A dispatch's lifecycle as `GET /api/dispatch/{id}` shows it; undefined when the id is not a dispatch. */
export function dispatchView(c: CommandRecord) {
  if (c.op !== 'dispatch' || !c.dispatch) return undefined;
  const ack = c.ack?.op === 'dispatch' ? c.ack : undefined;
  return {
    dispatch_id: c.correlationId,
    correlationId: c.correlationId,
    status: c.status,
    ...(c.dispatch.asset_id !== undefined ? { asset_id: c.dispatch.asset_id } : { site_id: c.dispatch.site_id }),
    gateway: c.target,
    mw_requested: c.dispatch.mw_requested,
    mw_sent: c.dispatch.mw_sent,
    // per asset: the setpoint given, what it was asked, what it applies now and why those differ (null: an older gateway)
    split: (ack?.split ?? []).map((s) => ({
      asset_id: s.asset_id,
      mw: s.mw,
      requested_mw: s.requested_mw ?? null,
      applied_mw: s.applied_mw ?? null,
      reasons: s.reasons ?? [],
    })),
    reason: ack?.reason ?? null,
    sentAt: new Date(c.sentAt).toISOString(),
    expiresAt: new Date(c.expiresAt).toISOString(),
    completedAt: c.completedAt !== undefined ? new Date(c.completedAt).toISOString() : null,
    latency_ms: c.completedAt !== undefined ? c.completedAt - c.sentAt : null,
  };
}
