// DER reads (DER gateway): `GET /api/assets/{assetId}` (inventory and latest reading), its telemetry history, and
// `GET /api/sites/{siteId}` (assets, totals, gateway, connection). The latest readings are the gateway's registry
// summary (its last site document, one read); the history is the `der_asset_sample` series.
import { DER_SERIES, derTotalsByType, readingsOf, readingView } from '../core/ingest/der.js';
import { NotFoundError } from '../core/contracts/errors.js';
import type { InventoryAsset } from '../core/contracts/inventory.js';
import type { Device } from '../core/fleet/registry.js';
import { idParam, rangeParams } from './params.js';
import type { ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';

const connection = (device: Device | undefined) => ({
  connected: device?.online ?? false,
  last_seen: device?.lastSeen ?? null,
});

/** An inventory row with its latest reading (null when its gateway has sent none for it). */
const assetView = (asset: InventoryAsset, reading: Record<string, unknown> | undefined) => ({
  ...asset,
  latest: reading ? readingView(reading) : null,
});

async function existingAsset(ports: ApiPorts, assetId: string | undefined): Promise<InventoryAsset> {
  const asset = await ports.inventory.getAsset(idParam('assetId', assetId));
  if (!asset) throw new NotFoundError(`asset ${assetId}`);
  return asset;
}

export async function getAsset(ports: ApiPorts, assetId: string | undefined) {
  const asset = await existingAsset(ports, assetId);
  const gateway = await ports.registry.get(asset.gateway);
  return { ...assetView(asset, readingsOf(gateway?.latest).get(asset.asset_id)), connection: connection(gateway) };
}

export async function assetTelemetry(ports: ApiPorts, assetId: string | undefined, query: Query) {
  const asset = await existingAsset(ports, assetId);
  const result = await ports.telemetry.query({ series: DER_SERIES, deviceId: asset.asset_id, ...rangeParams(query) });
  return {
    asset_id: asset.asset_id,
    asset_type: asset.asset_type,
    ...page(result, (r) => readingView(r.measures, r.time)),
  };
}

export async function getSite(ports: ApiPorts, siteId: string | undefined) {
  const site = await ports.inventory.getSite(idParam('siteId', siteId));
  if (!site) throw new NotFoundError(`site ${siteId}`);
  const [gateway, assets] = await Promise.all([
    ports.registry.get(site.gateway),
    Promise.all(site.asset_ids.map((id) => ports.inventory.getAsset(id))),
  ]);
  const readings = readingsOf(gateway?.latest);
  const rows = assets.filter((a): a is InventoryAsset => a !== undefined);
  const reportedAt = gateway?.latest?.timestamp;
  return {
    ...site,
    connection: connection(gateway),
    reported_at: typeof reportedAt === 'string' ? reportedAt : null,
    totals: derTotalsByType(
      rows.map((a) => ({ asset_type: a.asset_type, reading: readings.get(a.asset_id), limits: a })),
    ),
    assets: rows.map((a) => assetView(a, readings.get(a.asset_id))),
  };
}
