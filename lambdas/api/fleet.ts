// Fleet-wide operations: `POST /api/events` (or its dry run), `GET /api/events[/{eventId}]` and `GET /api/portfolio`.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { fleetEventReport, fleetEventSummary, planFleetEvent, startFleetEvent } from '../core/fleet-event.js';
import type { InventoryAsset } from '../core/inventory.js';
import { summarizePortfolio } from '../core/portfolio.js';
import { listAll } from '../core/registry-pages.js';
import { parseBody } from './body.js';
import { fleetEventBodySchema } from './bodies.js';
import { idParam, limitParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { page, type Query } from './queries.js';
import { accepted } from './reply.js';

export async function createFleetEvent(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const { dry_run, ...request } = parseBody(fleetEventBodySchema, event);
  if (dry_run) return { dry_run: true, ...(await planFleetEvent(request, ports.registry)) };
  return accepted(await startFleetEvent(request, ports, commandContext(ports)));
}

export async function listFleetEvents(ports: ApiPorts, query: Query) {
  const result = await ports.fleetEvents.list({ limit: limitParam(query?.limit), ...(query?.next && { next: query.next }) });
  return page(result, fleetEventSummary);
}

export function getFleetEvent(ports: ApiPorts, eventId: string | undefined) {
  return fleetEventReport(idParam('eventId', eventId), ports, Date.now());
}

export async function portfolio(ports: ApiPorts) {
  const [vens, gateways, assets] = await Promise.all([
    listAll(ports.registry, 'ven'),
    listAll(ports.registry, 'gateway'),
    allAssets(ports),
  ]);
  return summarizePortfolio(vens, gateways, Date.now(), assets);
}

async function allAssets(ports: ApiPorts): Promise<InventoryAsset[]> {
  const all: InventoryAsset[] = [];
  let next: string | undefined;
  do {
    const page = await ports.inventory.listAssets({ limit: 1000, ...(next && { next }) });
    all.push(...page.items);
    next = page.next;
  } while (next);
  return all;
}
