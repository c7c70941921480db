// The API's response bodies, inferred from the very functions the Lambda runs, so the UI cannot drift from the API.
import type { commandView } from '../../../lambdas/core/commands.js';
import type { dispatchView } from '../../../lambdas/core/dispatch.js';
import type { fleetEventReport, startFleetEvent } from '../../../lambdas/core/fleet-event.js';
import type { InventoryAsset } from '../../../lambdas/core/inventory.js';
import type { summarizePortfolio } from '../../../lambdas/core/portfolio.js';
import type { listAgents } from '../../../lambdas/api/inventory.js';
import type * as q from '../../../lambdas/api/queries.js';
import type { winterRiverSystem } from '../../../lambdas/api/winter-river.js';
import type { getSite } from '../../../lambdas/api/der.js';
import type { DerGatewayTelemetry as GatewayTelemetry } from '../../../lambdas/core/der-schemas.js';
import type { Ack, Metering, ShadowReported, WinterRiverStatus } from '../../../lambdas/core/schemas.js';

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
export type FleetEventReport = Body<typeof fleetEventReport>;
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
