// What each route of the table takes and answers, for the published contract (openapi.ts): its query parameters,
// its request body (the very schema the handler parses with), its success bodies by status, and the error statuses it
// can answer beyond those every route shares. A route of routes.ts missing here fails test/api/openapi.test.ts by name.
import * as z from 'zod';
import { externalEntrySchema } from '../core/records/ledger.js';
import { metadataPatchSchema, metadataSchema, TECHNOLOGIES } from '../core/records/metadata.js';
import {
  dispatchBodySchema,
  emptyBodySchema,
  eventActionBodySchema,
  fleetEventBodySchema,
  restoreBodySchema,
  sendEventBodySchema,
  telemetryBatchSchema,
  telemetryItemSchema,
  winterRiverCommandBodySchema,
} from './bodies.js';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_WINDOW_DAYS } from './params.js';
import { optimiseBodySchema } from './optimise.js';
import { cancelEventResponseSchema, endEventResponseSchema } from './event-lifecycle.js';
import { edgeCommandBodySchema } from './edge.js';
import * as r from './responses.js';
import { edgeTelemetrySchema } from '../core/contracts/edge-schemas.js';
import { programBodySchema, programPatchSchema } from '../core/contracts/programs.js';
import type { RouteKey } from './routes.js';

export type SuccessStatus = 200 | 201 | 202 | 302 | 503;

export interface RouteContract {
  readonly summary: string;
  /** Query parameters, each as the handler reads it (they arrive as strings). */
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** No body reads as `{}`. */
  readonly bodyOptional?: boolean;
  readonly responses: Partial<Record<SuccessStatus, z.ZodType>>;
  /** 409: the state forbids it now (taken, not ready, changed meanwhile). */
  readonly conflict?: boolean;
  /** 404 for a route without path parameters (a route with them can always answer it). */
  readonly notFound?: boolean;
}

const time = z.string().describe('ISO-8601 or epoch seconds');
const limit = z.int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).describe('items per page');
const next = z.string().describe('the `next` of the previous page');
const pageQuery = z.object({ limit, next }).partial();
const rangeQuery = z
  .object({ start: time.describe('default: 24 h before end'), end: time.describe('default: now'), limit, next })
  .partial()
  .describe(`at most ${MAX_WINDOW_DAYS} days`);
const windowQuery = z
  .object({
    from: time.describe("inclusive; default: the tier's usual window"),
    to: time.describe('exclusive; default: now'),
    limit,
    next,
  })
  .partial();
const qualityWindow = z.object({ from: time, to: time.describe('default: now; not in the future') }).partial();
const online = z.boolean().describe('only the connected ones (true) or the others (false)');

/** `POST /api/telemetry`: one metering or edge payload, or up to 100 in `items`. */
const reading = z.union([telemetryItemSchema, edgeTelemetrySchema]);
const telemetryBodySchema = z.union([
  telemetryItemSchema,
  edgeTelemetrySchema,
  telemetryBatchSchema.extend({ items: z.array(reading).min(1).max(100) }),
]);

export const contracts: Partial<Record<RouteKey, RouteContract>> = {
  'GET /health': {
    summary: 'Liveness: ok, or which parts are down',
    responses: { 200: r.healthSchema, 503: r.healthSchema },
  },
  'GET /api/openapi.json': { summary: 'This document', responses: { 200: r.openApiSchema } },
  'GET /api/me': { summary: "The caller's role", responses: { 200: r.meSchema } },
  'GET /api/vens': {
    summary: 'VENs, with their latest summary and sessions',
    query: pageQuery.extend({ online: online.optional() }),
    responses: { 200: r.page(r.venSchema) },
  },
  'GET /api/vens/{venId}': { summary: 'One VEN', responses: { 200: r.venSchema } },
  'GET /api/vens/{venId}/telemetry': {
    summary: "A VEN's metering, newest first",
    query: rangeQuery,
    responses: { 200: r.venTelemetrySchema },
  },
  'GET /api/vens/{venId}/circuits/history': {
    summary: "A VEN's per-load samples",
    query: rangeQuery.extend({ load_id: z.string().optional().describe('one load only') }),
    responses: { 200: r.circuitHistorySchema },
  },
  'GET /api/vens/{venId}/events': {
    summary: "A VEN's acknowledgements, newest first",
    query: rangeQuery,
    responses: { 200: r.venEventsSchema },
  },
  'GET /api/vens/{venId}/shadow': { summary: "A VEN's device shadow", responses: { 200: r.shadowSchema } },
  'GET /api/vens/{venId}/forecast': {
    summary: "A VEN's load for the next 24 h",
    responses: { 200: r.venForecastSchema },
  },
  'GET /api/winter-river/nodes': {
    summary: 'Winter River nodes',
    query: pageQuery.extend({ online: online.optional() }),
    responses: { 200: r.page(r.winterRiverNodeSchema) },
  },
  'GET /api/winter-river/system': {
    summary: 'The Winter River power system as last evaluated',
    responses: { 200: r.winterRiverSystemSchema },
  },
  'POST /api/vens/{venId}/send-event': {
    summary: 'Send a shed event to a VEN (or plan it: dry_run)',
    body: sendEventBodySchema,
    responses: { 200: r.dryRunSchema, 202: r.sentEventSchema },
  },
  'POST /api/vens/{venId}/restore': {
    summary: 'Restore a VEN (or plan it: dry_run)',
    body: restoreBodySchema,
    bodyOptional: true,
    responses: { 200: r.dryRunSchema, 202: r.sentRestoreSchema },
  },
  'GET /api/commands/{correlationId}': {
    summary: "A command's status and acknowledgement",
    responses: { 200: r.commandViewSchema },
  },
  'POST /api/winter-river/nodes/{nodeId}/command': {
    summary: 'Send a command to a Winter River node (or plan it: dry_run)',
    body: winterRiverCommandBodySchema,
    responses: { 200: r.dryRunSchema, 202: r.sentWinterRiverSchema },
  },
  'GET /api/assets': {
    summary: 'The DER asset inventory',
    query: pageQuery,
    responses: { 200: r.page(r.assetSchema) },
  },
  'GET /api/assets/{assetId}': {
    summary: 'One asset with its latest reading',
    responses: { 200: r.assetDetailSchema },
  },
  'GET /api/assets/{assetId}/telemetry': {
    summary: "An asset's readings, newest first",
    query: rangeQuery,
    responses: { 200: r.assetTelemetrySchema },
  },
  'GET /api/sites/{siteId}': { summary: 'A site: its assets, totals and gateway', responses: { 200: r.siteSchema } },
  'GET /api/sites/{siteId}/forecast': {
    summary: "A site's load for the next 24 h",
    responses: { 200: r.siteForecastSchema },
  },
  'GET /api/agents': {
    summary: "Each asset with its gateway's connection",
    query: pageQuery,
    responses: { 200: r.page(r.agentSchema) },
  },
  'POST /dispatch': {
    summary: 'Dispatch MW to an asset or a site (or plan it: dry_run)',
    body: dispatchBodySchema,
    notFound: true,
    responses: { 200: r.dispatchDryRunSchema, 202: r.dispatchSentSchema },
  },
  'GET /api/dispatch/{id}': {
    summary: "A dispatch's status and per-asset split",
    responses: { 200: r.dispatchViewSchema },
  },
  'GET /api/events': {
    summary: 'Fleet events, newest first',
    query: pageQuery,
    responses: { 200: r.page(r.fleetEventSummarySchema) },
  },
  'POST /api/events': {
    summary: 'Start a fleet shed event (or plan it: dry_run)',
    body: fleetEventBodySchema,
    notFound: true,
    conflict: true,
    responses: { 200: r.fleetEventPlanSchema, 202: r.fleetEventStartSchema },
  },
  'GET /api/events/{eventId}': { summary: "A fleet event's report", responses: { 200: r.fleetEventReportSchema } },
  'GET /api/events/{eventId}/report.csv': {
    summary: "A settled event's CSV: a 302 to it, or its link as JSON (Accept: application/json)",
    conflict: true,
    responses: { 200: r.reportLinkSchema, 302: r.reportLinkSchema },
  },
  'GET /api/portfolio': {
    summary: 'The fleet now: VENs, batteries, DER totals',
    responses: { 200: r.portfolioSchema },
  },
  'GET /api/realtime/portfolio': { summary: 'The fleet totals now', responses: { 200: r.realtimePortfolioSchema } },
  'GET /api/telemetry/{nodeId}/latest': {
    summary: "A node's newest sample",
    responses: { 200: r.latestTelemetrySchema },
  },
  'GET /api/data-quality': {
    summary: 'Data quality of every device (default: the last hour)',
    query: qualityWindow.extend(pageQuery.shape),
    responses: { 200: r.fleetQualitySchema },
  },
  'GET /api/data-quality/{nodeId}': {
    summary: "One device's data quality (default: the last 24 h)",
    query: qualityWindow,
    responses: { 200: r.dataQualitySchema },
  },
  'POST /api/telemetry': {
    summary: 'Metering over HTTP, as if the VEN had sent it',
    body: telemetryBodySchema,
    conflict: true,
    responses: { 200: r.telemetryResultSchema },
  },
  'GET /api/refused': {
    summary: 'Messages refused in the last week, newest first',
    query: pageQuery.extend({ device: z.string().optional().describe('one sender only') }),
    responses: { 200: r.page(r.refusalSchema) },
  },
  'POST /api/metadata': {
    summary: "Create a node's metadata",
    body: metadataSchema,
    conflict: true,
    responses: { 201: r.metadataRecordSchema },
  },
  'GET /api/metadata/{nodeId}': { summary: "A node's metadata", responses: { 200: r.metadataRecordSchema } },
  'PATCH /api/metadata/{nodeId}': {
    summary: "Change a node's metadata",
    body: metadataPatchSchema,
    conflict: true,
    responses: { 200: r.metadataRecordSchema },
  },
  'GET /api/nodes/active': {
    summary: 'Active nodes of every type',
    query: pageQuery,
    responses: { 200: r.page(r.metadataRecordSchema) },
  },
  'GET /api/nodes/by-type/{type}': {
    summary: `Nodes of one technology (${TECHNOLOGIES.join(', ')})`,
    query: pageQuery,
    responses: { 200: r.page(r.metadataRecordSchema) },
  },
  'GET /api/nodes/nearby': {
    summary: 'Nodes within a radius, nearest first',
    query: z.object({
      lat: z.number().min(-90).max(90),
      lon: z.number().min(-180).max(180),
      radius_km: z.number().min(0),
      limit: limit.optional(),
    }),
    responses: { 200: r.nearbySchema },
  },
  'GET /api/analytics/{nodeId}/daily': {
    summary: "A node's daily rollups, newest first",
    query: windowQuery,
    responses: { 200: r.rollupsSchema },
  },
  'GET /api/analytics/{nodeId}/monthly': {
    summary: "A node's monthly rollups, newest first",
    query: windowQuery,
    responses: { 200: r.rollupsSchema },
  },
  'GET /api/analytics/{nodeId}/benchmarks': {
    summary: 'A node against its peers',
    query: z.object({ days: z.int().min(1).max(366).default(30) }).partial(),
    responses: { 200: r.benchmarksSchema },
  },
  'GET /api/analytics/portfolio': {
    summary: "The portfolio's rollups",
    query: windowQuery.extend({ period: z.enum(['daily', 'monthly']).default('daily').optional() }),
    responses: { 200: r.rollupsSchema },
  },
  'GET /api/telemetry/{nodeId}/historical': {
    summary: "A node's 15m, 1h or 1d history",
    query: windowQuery.extend({ interval: z.enum(['15m', '1h', '1d']).default('15m').optional() }),
    responses: { 200: r.historicalSchema },
  },
  'GET /api/transactions/{nodeId}': {
    summary: "A node's ledger, newest first",
    query: pageQuery,
    responses: { 200: r.page(r.ledgerEntrySchema) },
  },
  'GET /api/transactions/{nodeId}/verify': {
    summary: "A node's hash chain, checked",
    responses: { 200: r.verificationSchema },
  },
  'POST /api/transactions': {
    summary: "Append an external entry to a node's ledger",
    body: externalEntrySchema,
    responses: { 201: r.ledgerEntrySchema },
  },
  'POST /api/devices/{thingName}/revoke': {
    summary: 'Revoke every certificate of a device',
    body: emptyBodySchema,
    bodyOptional: true,
    responses: { 200: r.revokedSchema },
  },
  'POST /api/certificates/{certificateId}/deactivate': {
    summary: 'Deactivate one certificate (the old one after a rotation)',
    body: emptyBodySchema,
    bodyOptional: true,
    responses: { 200: r.deactivatedSchema },
  },
  'GET /api/programs': {
    summary: 'DR programs, the built-in one first on the first page',
    query: pageQuery,
    responses: { 200: r.page(r.programSchema) },
  },
  'POST /api/programs': {
    summary: 'Creates a DR program',
    body: programBodySchema,
    responses: { 201: r.programSchema },
    conflict: true,
  },
  'GET /api/programs/{programId}': { summary: 'A DR program', responses: { 200: r.programSchema } },
  'PATCH /api/programs/{programId}': {
    summary: "Changes a program's terms for its next events",
    body: programPatchSchema,
    responses: { 200: r.programSchema },
    conflict: true,
  },
  'DELETE /api/programs/{programId}': {
    summary: 'Deletes a DR program',
    responses: { 200: r.programDeletedSchema },
    conflict: true,
  },
  'POST /api/optimise/schedule': {
    summary: "Plans a battery's cheapest day against prices; sends nothing",
    body: optimiseBodySchema,
    responses: { 200: r.scheduleSchema },
    notFound: true,
  },
  'POST /api/events/{eventId}/end': {
    summary: 'Ends a running event now: its VENs restored, measured and settled over what ran',
    body: eventActionBodySchema,
    bodyOptional: true,
    responses: { 200: endEventResponseSchema, 202: endEventResponseSchema },
    conflict: true,
  },
  'POST /api/events/{eventId}/cancel': {
    summary: 'Cancels a scheduled event before it starts: nothing sent, never settled',
    body: eventActionBodySchema,
    bodyOptional: true,
    responses: { 200: cancelEventResponseSchema },
    conflict: true,
  },
  'GET /api/edge': {
    summary: 'Data-centre edge nodes',
    query: pageQuery.extend({ online: online.optional() }),
    responses: { 200: r.page(r.edgeNodeSchema) },
  },
  'GET /api/edge/{dcId}': { summary: 'One edge node', responses: { 200: r.edgeNodeSchema } },
  'GET /api/edge/{dcId}/forecast': {
    summary: "An edge node's site draw for the next 24 h",
    responses: { 200: r.edgeForecastSchema },
  },
  'GET /api/edge/{dcId}/telemetry': {
    summary: "An edge node's samples, newest first, each as sent",
    query: rangeQuery,
    responses: { 200: r.edgeTelemetrySchema },
  },
  'POST /api/edge/{dcId}/commands': {
    summary: 'Sends a battery command to an edge node (acknowledged on edge/{dc_id}/ack)',
    body: edgeCommandBodySchema,
    responses: { 200: r.edgeCommandPlanSchema, 202: r.edgeCommandSentSchema },
  },
  'POST /api/telemetry/batch': {
    summary: 'Up to 100 readings of any nodes over HTTP: all checked first, one bad item refuses the batch',
    body: telemetryBatchSchema.extend({ items: z.array(reading).min(1).max(100) }),
    conflict: true,
    responses: { 200: r.telemetryResultSchema },
  },
  'POST /api/telemetry/{nodeId}': {
    summary: "One reading of that node over HTTP (an edge payload or a VEN's metering)",
    body: reading,
    conflict: true,
    responses: { 200: r.telemetryResultSchema },
  },
};
