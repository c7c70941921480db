// Fleet-wide operations: `POST /api/events` (or its dry run), `GET /api/events[/{eventId}]` and `GET /api/portfolio`.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { eventName, fleetEventSummary, planFleetEvent, startFleetEvent } from '../core/dr/fleet-event.js';
import { MAX_SCHEDULE_AHEAD_MS } from '../core/dr/fleet-event-store.js';
import { edgeDischargeFor, summarizePortfolio } from '../core/analytics/portfolio.js';
import { allAssets, listAll } from '../core/fleet/registry-pages.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/contracts/errors.js';
import { REPORT_LINK_SEC } from '../core/dr/report-files.js';
import { readEventReport, SETTLEMENT_GRACE_MS } from '../core/dr/settlement.js';
import { parseBody } from './body.js';
import { programOfEvent } from '../core/dr/program-events.js';
import { fleetEventBodySchema } from './bodies.js';
import { idParam, limitParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';
import { accepted, found } from './reply.js';

/** How soon and how far ahead an event may be scheduled. */
export const MIN_SCHEDULE_AHEAD_MS = 60_000;

export async function createFleetEvent(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const { dry_run, program_id, start_at, ...rest } = parseBody(fleetEventBodySchema, event);
  const ctx = commandContext(ports);
  const body = { ...rest, ...(start_at !== undefined && { start_at: scheduledStart(start_at, ctx.now) }) };
  const request = { ...body, ...(await programOfEvent(ports, program_id, body, ctx.now)) };
  if (dry_run) {
    const head = {
      name: request.name ?? eventName(request.shed_kw, request.start_at ?? ctx.now),
      start: new Date(request.start_at ?? ctx.now).toISOString(),
    };
    const [plan, edges] = await Promise.all([
      planFleetEvent(request, ports, ctx.now),
      listAll(ports.registry, 'edge', true),
    ]);
    return { dry_run: true, ...head, ...plan, edge: edgeDischargeFor(edges, request.duration_sec) };
  }
  return accepted(await startFleetEvent(request, ports, ctx));
}

function scheduledStart(iso: string, now: number): number {
  const at = Date.parse(iso);
  if (at < now + MIN_SCHEDULE_AHEAD_MS)
    throw new ValidationError('start_at', 'start_at: must be at least a minute ahead (leave it out to start now)');
  if (at > now + MAX_SCHEDULE_AHEAD_MS) throw new ValidationError('start_at', 'start_at: must be at most 7 days ahead');
  return at;
}

export async function listFleetEvents(ports: ApiPorts, query: Query) {
  const result = await ports.fleetEvents.list({
    limit: limitParam(query?.limit),
    ...(query?.next && { next: query.next }),
  });
  const now = Date.now();
  return page(result, (e) => fleetEventSummary(e, now));
}

/**
 * The event's report: stored once it is settled (settlement.ts), else computed now; each VEN with whether it is online
 * now (an ACK says what it did then, not that it is still there).
 */
export async function getFleetEvent(ports: ApiPorts, eventId: string | undefined) {
  const id = idParam('eventId', eventId);
  const [report, online] = await Promise.all([
    readEventReport(id, ports, Date.now()),
    listAll(ports.registry, 'ven', true),
  ]);
  const onlineNow = new Set(online.map((v) => v.deviceId));
  return { ...report, vens: report.vens.map((v) => ({ ...v, online: onlineNow.has(v.venId) })) };
}

/**
 * The event report as CSV (the fleet's intervals, then each VEN's, with the baseline each used): written to the report
 * files when the event settles, downloaded from there through a link valid REPORT_LINK_SEC. A 302 to the link, or
 * `{url, expiresAt}` to a client that asks for JSON (the dashboard); 409 until the event is settled.
 */
export async function getFleetEventCsv(ports: ApiPorts, eventId: string | undefined, accept: string | undefined) {
  const id = idParam('eventId', eventId);
  const event = await ports.fleetEvents.get(id);
  if (!event) throw new NotFoundError(`event ${id}`);
  if (event.settledAt === undefined) {
    const readyAfter = new Date(event.endsAt + SETTLEMENT_GRACE_MS).toISOString();
    throw new ConflictError(
      `the report of ${id} is not ready: its CSV is written when the event is settled, ${SETTLEMENT_GRACE_MS / 60_000} minutes after it ends (not before ${readyAfter})`,
    );
  }
  const link = await ports.reports.link(id, REPORT_LINK_SEC);
  return accept?.includes('application/json') ? link : found(link.url, link);
}

export async function portfolio(ports: ApiPorts) {
  const [vens, gateways, assets, edges] = await Promise.all([
    listAll(ports.registry, 'ven'),
    listAll(ports.registry, 'gateway'),
    allAssets(ports.inventory),
    listAll(ports.registry, 'edge'),
  ]);
  return summarizePortfolio(vens, gateways, Date.now(), assets, edges);
}
