// DER telemetry (DER gateway): a site gateway's per-asset readings on `der/telemetry/{gatewayThing}` (rule `der`), checked
// against the inventory, stored one `der_asset_sample` record per asset, and the gateway's registry heartbeat with its
// site document. Also the views and totals the API builds from them. Pure: ports in, no clients.
import { coreTelemetrySchema, derGatewayTelemetrySchema, type DerTelemetry } from '../contracts/der-schemas.js';
import type { IngestResult, RuleMessage } from './ingest.js';
import type { InventoryAsset } from '../contracts/inventory.js';
import type { IngestPorts } from './ingest-ports.js';
import type { MeasureValue, SeriesRecord } from '../timeseries/telemetry-store.js';
import { parse } from '../contracts/schemas.js';

export const DER_SERIES = 'der_asset_sample';
/** The registry kind of a site gateway. */
export const GATEWAY_KIND = 'gateway';

const refuse = (reason: Extract<IngestResult, { ok: false }>['reason'], message: string): IngestResult => ({
  ok: false,
  reason,
  message,
});

/**
 * One gateway document: the sender must be the gateway of the topic and of `gatewayId`, the site must be that
 * gateway's in the inventory, and every asset one of that site's. Any refusal stores nothing.
 */
export async function ingestDerTelemetry(msg: RuleMessage, ports: IngestPorts): Promise<IngestResult> {
  if (!ports.inventory) throw new Error('the der rule needs the inventory (INVENTORY_TABLE)');
  const topicGateway = msg.topic.split('/')[2] ?? '';
  if (topicGateway !== msg.clientId)
    return refuse('identity-mismatch', `${msg.topic} was published by ${msg.clientId}`);
  const parsed = parse(derGatewayTelemetrySchema, msg.payload);
  if (!parsed.ok) return refuse('schema', parsed.message);
  const doc = parsed.value;
  if (doc.gatewayId !== msg.clientId)
    return refuse('identity-mismatch', `gatewayId: ${doc.gatewayId} was published by ${msg.clientId}`);
  const site = await ports.inventory.getSite(doc.site_id);
  if (!site) return refuse('unknown-asset', `site_id: ${doc.site_id} is not in the inventory`);
  if (site.gateway !== doc.gatewayId)
    return refuse('identity-mismatch', `site_id: ${doc.site_id} is served by ${site.gateway}, not ${doc.gatewayId}`);
  const known = new Set(site.asset_ids);
  for (const [i, a] of doc.assets.entries()) {
    if (a.site_id !== doc.site_id)
      return refuse('unknown-asset', `assets.${i}.site_id: ${a.site_id} is not the document's site ${doc.site_id}`);
    if (!known.has(a.asset_id))
      return refuse('unknown-asset', `assets.${i}.asset_id: ${a.asset_id} is not an asset of site ${doc.site_id}`);
  }
  const assets = await Promise.all(doc.assets.map((a) => ports.inventory!.getAsset(a.asset_id)));
  const types = new Map(
    assets.filter((a): a is InventoryAsset => a !== undefined).map((a) => [a.asset_id, a.asset_type]),
  );
  const at = doc.timestamp * 1000;
  await ports.telemetry.write(
    doc.assets.map((a) =>
      derRecord(
        a,
        doc.gatewayId,
        types.get(a.asset_id) ?? a.asset_type ?? 'unknown',
        (a.timestamp ?? doc.timestamp) * 1000,
      ),
    ),
  );
  await ports.registry.recordHeartbeat(GATEWAY_KIND, doc.gatewayId, at, {
    timestamp: new Date(at).toISOString(),
    site_id: doc.site_id,
    mw: doc.mw,
    mw_setpoint: doc.mw_setpoint,
    assets: doc.assets.map((a) => ({ ...a, asset_type: types.get(a.asset_id) ?? a.asset_type })),
  });
  return { ok: true, stored: true };
}

/** One asset's reading as a `der_asset_sample` record: device = the asset, every scalar field a measure. */
export function derRecord(reading: DerTelemetry, gatewayId: string, assetType: string, time: number): SeriesRecord {
  const measures: Record<string, MeasureValue> = {};
  for (const [key, value] of Object.entries(reading)) {
    if (NOT_MEASURES.has(key) || value === null || value === undefined) continue;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') measures[key] = value;
  }
  return {
    series: DER_SERIES,
    deviceId: reading.asset_id,
    time,
    dimensions: { asset_id: reading.asset_id, site_id: reading.site_id, gateway_id: gatewayId, asset_type: assetType },
    measures,
  };
}

const NOT_MEASURES = new Set(['asset_id', 'site_id', 'asset_type', 'timestamp']);
/** Fields every asset type has; the rest of a reading are its type's (`details`). */
const CORE_FIELDS = new Set(Object.keys(coreTelemetrySchema.shape));

/** A reading as the API gives it: the core fields, and the type-specific ones under `details`. */
export function readingView(fields: Record<string, unknown>, time?: number) {
  const core: Record<string, unknown> = {};
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'asset_id' || key === 'site_id' || key === 'asset_type' || key === 'timestamp') continue;
    (CORE_FIELDS.has(key) ? core : details)[key] = value;
  }
  const at = time ?? (typeof fields.timestamp === 'number' ? fields.timestamp * 1000 : undefined);
  return { ...(at !== undefined && { timestamp: new Date(at).toISOString() }), ...core, details };
}

export interface DerTotals {
  readonly assets: number;
  readonly online: number;
  /** Signed output now: + discharge / export, − charge / import. */
  readonly mw: number;
  /** Energy the batteries can still discharge above their SOC floor. */
  readonly available_discharge_mwh: number;
  /** Energy the batteries can still take below their SOC ceiling. */
  readonly charge_headroom_mwh: number;
  /** How much further down (charge / import) the assets can go from their output now, to their min_mw. */
  readonly charge_headroom_mw: number;
}

/** What a total needs of an asset: its reading (if any) and its inventory limits. */
export interface TotalsInput {
  readonly asset_type: string;
  readonly reading?: Record<string, unknown>;
  readonly limits?: Pick<InventoryAsset, 'min_mw' | 'min_soc_pct' | 'max_soc_pct' | 'energy_mwh'>;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const round = (v: number) => Math.round(v * 1000) / 1000;

/** Sums over assets; an asset without a reading counts as an asset, offline, with nothing available. */
export function derTotals(inputs: readonly TotalsInput[]): DerTotals {
  let online = 0;
  let mw = 0;
  let discharge = 0;
  let headroom = 0;
  let headroomMw = 0;
  for (const { reading, limits } of inputs) {
    if (!reading) continue;
    if (reading.online === true) online++;
    const now = num(reading.mw) ?? 0;
    mw += now;
    const minMw = num(reading.min_mw) ?? limits?.min_mw;
    if (reading.online === true && minMw !== undefined && minMw < now) headroomMw += now - minMw;
    const stored = num(reading.soc_mwh);
    const energy = num(reading.energy_mwh) ?? limits?.energy_mwh;
    if (stored === undefined || energy === undefined) continue;
    discharge += Math.max(0, stored - (energy * (limits?.min_soc_pct ?? 0)) / 100);
    headroom += Math.max(0, (energy * (limits?.max_soc_pct ?? 100)) / 100 - stored);
  }
  return {
    assets: inputs.length,
    online,
    mw: round(mw),
    available_discharge_mwh: round(discharge),
    charge_headroom_mwh: round(headroom),
    charge_headroom_mw: round(headroomMw),
  };
}

/** The totals of all the inputs and of each asset type among them. */
export function derTotalsByType(inputs: readonly TotalsInput[]): DerTotals & { by_type: Record<string, DerTotals> } {
  const byType = new Map<string, TotalsInput[]>();
  for (const input of inputs) byType.set(input.asset_type, [...(byType.get(input.asset_type) ?? []), input]);
  return {
    ...derTotals(inputs),
    by_type: Object.fromEntries(
      [...byType].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, list]) => [type, derTotals(list)]),
    ),
  };
}

/** The readings of a gateway's registry summary (its last site document), by asset id. */
export function readingsOf(latest: Record<string, unknown> | undefined): Map<string, Record<string, unknown>> {
  const assets = Array.isArray(latest?.assets) ? (latest.assets as Record<string, unknown>[]) : [];
  return new Map(assets.filter((a) => typeof a?.asset_id === 'string').map((a) => [a.asset_id as string, a]));
}
