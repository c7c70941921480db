// Fleet-wide operations: `POST /api/events` (or its dry run), `GET /api/events[/{eventId}]` and `GET /api/portfolio`.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { fleetEventSummary, planFleetEvent, startFleetEvent, type FleetEventReport } from '../core/fleet-event.js';
import { summarizePortfolio } from '../core/portfolio.js';
import { allAssets, listAll } from '../core/registry-pages.js';
import { readEventReport } from '../core/settlement.js';
import { parseBody } from './body.js';
import { fleetEventBodySchema } from './bodies.js';
import { idParam, limitParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';
import { toCsv } from './csv.js';
import { accepted, TextReply } from './reply.js';

export async function createFleetEvent(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const { dry_run, ...request } = parseBody(fleetEventBodySchema, event);
  if (dry_run) return { dry_run: true, ...(await planFleetEvent(request, ports, Date.now())) };
  return accepted(await startFleetEvent(request, ports, commandContext(ports)));
}

export async function listFleetEvents(ports: ApiPorts, query: Query) {
  const result = await ports.fleetEvents.list({ limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) });
  return page(result, fleetEventSummary);
}

/** The event's report: stored once it is settled (settlement.ts), else computed now. */
export function getFleetEvent(ports: ApiPorts, eventId: string | undefined) {
  return readEventReport(idParam('eventId', eventId), ports, Date.now());
}

/** The event report as CSV: the fleet's intervals, then each VEN's (always all of them), with the baseline each used. */
export async function getFleetEventCsv(ports: ApiPorts, eventId: string | undefined) {
  const report = await readEventReport(idParam('eventId', eventId), ports, Date.now(), true);
  const header = ['scope', 'venId', 'interval_start', 'interval_end', 'samples', 'baseline_kw', 'metered_kw', 'shed_kw', 'commitment_kw', 'pass', 'baseline_method', 'baseline_days', 'adjustment_factor'];
  const row = (iv: FleetEventReport['vens'][number]['intervals'][number]) => [iv.start, iv.end, iv.samples, iv.baseline_kw, iv.metered_kw, iv.shed_kw, iv.commitment_kw, iv.pass];
  const rows = [
    header,
    ...report.intervals.map((iv) => ['fleet', null, ...row(iv), null, null, null]),
    ...report.vens.flatMap((v) =>
      v.intervals.map((iv) => ['ven', v.venId, ...row(iv), v.baseline.method, v.baseline.days.join(' '), v.baseline.adjustment?.factor ?? null]),
    ),
  ];
  const filename = `${report.eventId.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;
  return new TextReply('text/csv; charset=utf-8', toCsv(rows), { 'content-disposition': `attachment; filename="${filename}"` });
}

export async function portfolio(ports: ApiPorts) {
  const [vens, gateways, assets] = await Promise.all([
    listAll(ports.registry, 'ven'),
    listAll(ports.registry, 'gateway'),
    allAssets(ports.inventory),
  ]);
  return summarizePortfolio(vens, gateways, Date.now(), assets);
}

