// `GET /api/telemetry/{nodeId}/latest` (a node's newest sample) and `GET /api/realtime/portfolio` (the fleet's
// totals now, from GET /api/portfolio's summary).
import { readingsOf } from '../core/ingest/der.js';
import { edgeReading } from '../core/ingest/edge.js';
import { isQuiet } from '../core/analytics/data-quality.js';
import { MAX_DEVICE_WINDOW_MS, resolveNode, type NodeRef } from './data-quality.js';
import { portfolio } from './fleet.js';
import type { ApiPorts } from './ports.js';

/**
 * The newest sample's measures: the registry's summary where it holds the node's newest sample (a VEN's or node's
 * heartbeat, an asset's reading in its gateway's last site document), otherwise the newest raw sample of the last
 * week. `online`: the registry's (an asset: its gateway's) and not quiet.
 */
export async function latestTelemetry(ports: ApiPorts, nodeId: string | undefined) {
  const now = Date.now();
  const node = await resolveNode(ports, nodeId);
  const summary = summaryOf(node);
  const raw = await ports.telemetry.query({
    series: node.series,
    deviceId: node.nodeId,
    start: now - MAX_DEVICE_WINDOW_MS,
    end: now,
    limit: 1,
  });
  const sample = raw.items[0];
  const rawValues = (s: NonNullable<typeof sample>) =>
    node.kind === 'edge' ? edgeReading(s).payload : { ...s.dimensions, ...s.measures };
  const newest =
    summary && (!sample || summary.time >= sample.time)
      ? summary
      : sample && { time: sample.time, values: rawValues(sample) };
  return {
    nodeId: node.nodeId,
    kind: node.kind,
    time: newest ? new Date(newest.time).toISOString() : null,
    online: (node.device?.online ?? false) && !isQuiet(now, newest?.time, node.device?.reportIntervalMs),
    values: newest?.values ?? null,
  };
}

function summaryOf(node: NodeRef): { time: number; values: Record<string, unknown> } | undefined {
  // an edge node's summary keeps its sample whole: the payload as sent, and its time
  if (node.kind === 'edge') {
    const { time, payload } = node.device?.latest ?? {};
    const at = typeof time === 'string' ? Date.parse(time) : NaN;
    return Number.isFinite(at) && payload && typeof payload === 'object'
      ? { time: at, values: payload as Record<string, unknown> }
      : undefined;
  }
  const reading = node.kind === 'asset' ? readingsOf(node.device?.latest).get(node.nodeId) : node.device?.latest;
  if (!reading) return undefined;
  // an asset's reading without its own time has its site document's
  const { timestamp = node.device?.latest?.timestamp, ...values } = reading;
  const time =
    typeof timestamp === 'number' ? timestamp * 1000 : typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
  return Number.isFinite(time) ? { time, values } : undefined;
}

export async function realtimePortfolio(ports: ApiPorts) {
  const p = await portfolio(ports);
  const byType = p.der?.by_type as Record<string, { mw: number }> | undefined;
  const generationMw = (byType?.pv?.mw ?? 0) + (byType?.wind?.mw ?? 0);
  return {
    time: p.at,
    vens: p.vens,
    assets: { total: p.der?.assets ?? 0, online: p.der?.online ?? 0 },
    load_kw: p.used_kw,
    sheddable_kw: p.available_shed_kw,
    generation_kw: Math.round(generationMw * 1000 * 1000) / 1000,
    mean_soc_pct: p.bess?.soc_pct ?? null,
  };
}
