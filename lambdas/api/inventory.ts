// `GET /api/assets` and `GET /api/agents` (DER gateway): the inventory, and one row per asset with its gateway's link.
import type { Device } from '../core/fleet/registry.js';
import { limitParam } from './params.js';
import type { ApiPorts } from './ports.js';
import type { Query } from './queries.js';

const WEEK_MS = 7 * 86_400_000;

export async function listAssets(ports: ApiPorts, query: Query) {
  return ports.inventory.listAssets({ limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) });
}

export async function listAgents(ports: ApiPorts, query: Query) {
  const assets = await listAssets(ports, query);
  const gateways = [...new Set(assets.items.map((a) => a.gateway))];
  const links = new Map(await Promise.all(gateways.map(async (g) => [g, await gatewayLink(ports, g)] as const)));
  return {
    items: assets.items.map((a) => ({
      asset_id: a.asset_id,
      asset_name: a.asset_name,
      site_id: a.site_id,
      site_name: a.site_name,
      peer: a.gateway,
      ...links.get(a.gateway)!,
    })),
    ...(assets.next && { next: assets.next }),
  };
}

/**
 * Connected is the registry's `online` (presence events). Last seen is the newer of the registry's heartbeat and the
 * last ACK stored from the gateway in the past week (gateways send no metering, so their heartbeat is often unset).
 */
async function gatewayLink(ports: ApiPorts, gateway: string) {
  const now = Date.now();
  const [device, acks] = await Promise.all([
    ports.registry.get(gateway),
    ports.events.list(gateway, { start: now - WEEK_MS, end: now, limit: 1 }),
  ]);
  const seen = [lastSeen(device), acks.items[0]?.receivedAt].filter((t): t is number => t !== undefined);
  return {
    connected: device?.online ?? false,
    last_seen: seen.length ? new Date(Math.max(...seen)).toISOString() : null,
    sessions: device?.sessions ?? [],
  };
}

const lastSeen = (device: Device | undefined) => (device?.lastSeen ? Date.parse(device.lastSeen) : undefined);
