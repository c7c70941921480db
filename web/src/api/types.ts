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
import type * as r from '../../../lambdas/api/responses.js';
import type * as z from 'zod';

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

// The analytics, data quality and forecast bodies, as the API's response schemas (lambdas/api/responses.ts) give them:
// the very schemas the published OpenAPI document is generated from and the API's answers are checked against.

/** One rollup period of a node (or the portfolio): null where the node has no such measure. */
export type RollupRow = z.infer<typeof r.rollupRowSchema>;
export type EdgeNode = z.infer<typeof r.edgeNodeSchema>;
export type EdgeCommandPlan = z.infer<typeof r.edgeCommandPlanSchema>;
export type EdgeCommandSent = z.infer<typeof r.edgeCommandSentSchema>;
/** `GET /api/analytics/{nodeId}/daily|monthly`, `GET /api/analytics/portfolio?period=`: newest first. */
export type Rollups = z.infer<typeof r.rollupsSchema>;
/** `GET /api/vens/{venId}/forecast` or `GET /api/sites/{siteId}/forecast`: 96 quarter-hours oldest first. */
export type Forecast = Omit<z.infer<typeof r.venForecastSchema>, 'venId'> & { venId?: string; siteId?: string };
export type Gap = z.infer<typeof r.dataQualitySchema>['gaps'][number];
/** `GET /api/data-quality/{nodeId}`: one device over a window (default the last 24 h). */
export type DataQuality = z.infer<typeof r.dataQualitySchema>;
/** `GET /api/data-quality`: the fleet, a row per device. */
export type FleetQuality = z.infer<typeof r.fleetQualitySchema>;
/** `GET /api/analytics/{nodeId}/benchmarks`: each metric with the node's percentile among its peers (null: not measurable). */
export type Benchmarks = z.infer<typeof r.benchmarksSchema>;
