// The API's response bodies, inferred from the very functions the Lambda runs, so the UI cannot drift from the API.
import type { commandView } from '../../../lambdas/core/commands/commands.js';
import type { dispatchView } from '../../../lambdas/core/commands/dispatch.js';
import type { fleetEventSummary, startFleetEvent } from '../../../lambdas/core/dr/fleet-event.js';
import type { getFleetEvent } from '../../../lambdas/api/fleet.js';
import type { cancelFleetEvent, endFleetEvent } from '../../../lambdas/core/dr/event-lifecycle.js';
import type { InventoryAsset } from '../../../lambdas/core/contracts/inventory.js';
import type { summarizePortfolio } from '../../../lambdas/core/analytics/portfolio.js';
import type { listAgents } from '../../../lambdas/api/inventory.js';
import type * as q from '../../../lambdas/api/queries.js';
import type { winterRiverSystem } from '../../../lambdas/api/winter-river.js';
import type { getSite } from '../../../lambdas/api/der.js';
import type { DerGatewayTelemetry as GatewayTelemetry } from '../../../lambdas/core/contracts/der-schemas.js';
import type { Ack, Metering, ShadowReported, WinterRiverStatus } from '../../../lambdas/core/contracts/schemas.js';

type Body<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;
type Item<F extends (...args: never[]) => unknown> = Body<F> extends { items: (infer T)[] } ? T : never;

export interface Page<T> {
  items: T[];
  next?: string;
}

export type Ven = Body<typeof q.getVen>;
export type WinterRiverNode = Item<typeof q.listWinterRiverNodes>;
export type TelemetryPoint = Item<typeof q.venTelemetry>;
export type CircuitPoint = Item<typeof q.circuitHistory>;
export type VenEvent = Item<typeof q.venEvents>;
export type Portfolio = ReturnType<typeof summarizePortfolio>;
export type Command = ReturnType<typeof commandView>;
export type Dispatch = NonNullable<ReturnType<typeof dispatchView>>;
export type FleetEventReport = Body<typeof getFleetEvent>;
export type FleetEventSummary = ReturnType<typeof fleetEventSummary>;
export type EventEnd = Body<typeof endFleetEvent>;
export type EventCancel = Body<typeof cancelFleetEvent>;
export type FleetEventStart = Body<typeof startFleetEvent>;
export type Asset = InventoryAsset;
export type Agent = Item<typeof listAgents>;
export type WinterRiverSystem = Body<typeof winterRiverSystem>;
export type Site = Body<typeof getSite>;

export interface SentCommand {
  correlationId: string;
  status: 'sent';
}

export interface ValidationErrorBody {
  error: string;
  field?: string;
  message: string;
}

export type { Ack, GatewayTelemetry, Metering, ShadowReported, WinterRiverStatus };

// Issue #18's analytics, data quality and forecast routes, as the shared contract gives their shapes.

/** One rollup period of a node (or the portfolio): null where the node has no such measure. */
export interface RollupRow {
  start: string;
  end: string;
  samples: number;
  import_kwh: number | null;
  export_kwh: number | null;
  mean_kw: number | null;
  peak_kw: number | null;
  min_soc_pct: number | null;
  mean_soc_pct: number | null;
  shed_kwh: number | null;
  online_hours: number | null;
}

/** `GET /api/analytics/{nodeId}/daily|monthly`, `GET /api/analytics/portfolio?period=`: newest first. */
export interface Rollups {
  nodeId: string;
  period: 'daily' | 'monthly';
  items: RollupRow[];
}

/** `GET /api/vens/{venId}/forecast`: 96 quarter-hours oldest first, and its error on held-out days against naive. */
export interface Forecast {
  venId?: string;
  siteId?: string;
  method: string;
  resolution: string;
  generated_at: string;
  points: { start: string; kw: number | null }[];
  error: { held_out_days: number; mae_kw: number; naive_mae_kw: number } | null;
  /** Why there are no points, when there are none. */
  note?: string;
}

export interface Gap {
  start: string;
  end: string;
  length_sec: number;
}

/** `GET /api/data-quality/{nodeId}`: one device over a window (default the last 24 h). */
export interface DataQuality {
  nodeId: string;
  from: string;
  to: string;
  expected_interval_sec: number | null;
  expected: number;
  received: number;
  completeness_pct: number | null;
  gaps: Gap[];
  late: number;
  out_of_order: number;
  refusals: Record<string, number>;
  last_seen: string | null;
  quiet: boolean;
  online: boolean;
}

/** `GET /api/data-quality`: the fleet, a row per device. */
export interface FleetQuality {
  from: string;
  to: string;
  devices: number;
  completeness_pct: number | null;
  quiet: string[];
  items: {
    nodeId: string;
    kind: string;
    completeness_pct: number | null;
    gaps: number | Gap[];
    late: number;
    out_of_order: number;
    refusals: number | Record<string, number>;
    quiet: boolean;
    online?: boolean;
  }[];
  next?: string;
}

/** `GET /api/analytics/{nodeId}/benchmarks`: each metric with the node's percentile among its peers (null: not measurable). */
export interface Benchmarks {
  nodeId: string;
  type: string;
  peers: number;
  from: string;
  to: string;
  metrics: Record<'load_factor' | 'availability' | 'shed_delivered_ratio', { value: number | null; percentile: number | null }>;
}
