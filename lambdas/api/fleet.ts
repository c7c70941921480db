// Fleet-wide operations: `POST /api/events`, `GET /api/events/{eventId}` and `GET /api/portfolio`.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { fleetEventReport, startFleetEvent } from '../core/fleet-event.js';
import { summarizePortfolio } from '../core/portfolio.js';
import { listAll } from '../core/registry-pages.js';
import { parseBody } from './body.js';
import { fleetEventBodySchema } from './bodies.js';
import { idParam } from './params.js';
import { commandContext, type ApiPorts } from './ports.js';
import { accepted } from './reply.js';

export async function createFleetEvent(ports: ApiPorts, event: APIGatewayProxyEventV2) {
  const body = parseBody(fleetEventBodySchema, event);
  return accepted(await startFleetEvent(body, ports, commandContext(ports)));
}

export function getFleetEvent(ports: ApiPorts, eventId: string | undefined) {
  return fleetEventReport(idParam('eventId', eventId), ports, Date.now());
}

export async function portfolio(ports: ApiPorts) {
  const [vens, gateways] = await Promise.all([listAll(ports.registry, 'ven'), listAll(ports.registry, 'gateway')]);
  return summarizePortfolio(vens, gateways, Date.now());
}
