// The HTTP API Lambda (API Gateway HTTP API, payload v2): one route table, the caller's role checked against the
// route's, `Idempotency-Key` on the command routes, domain errors mapped to statuses.
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { IotDeviceIdentities } from '../core/fleet/identities.js';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ReportFiles } from '../core/dr/report-files-s3.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { documentClient, topologyOf } from '../core/adapters.js';
import { apiEnvSchema, loadEnv, loadEnvOf, powerEnvSchema } from '../core/common/config.js';
import { DynamoPowerSystemStore } from '../core/power-system/store-dynamodb.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '../core/contracts/errors.js';
import { logger } from '../core/common/logger.js';
import { bindToken, unbindToken } from '../core/common/page-token.js';
import * as analytics from './analytics.js';
import * as commands from './commands.js';
import * as der from './der.js';
import * as edge from './edge.js';
import { fleetDataQuality, nodeDataQuality } from './data-quality.js';
import { latestTelemetry, realtimePortfolio } from './realtime.js';
import { getDispatch, postDispatch } from './dispatch.js';
import { idempotent, type Response } from './idempotency.js';
import { siteForecast, venForecast } from './forecast.js';
import { cancelEvent, endEvent } from './event-lifecycle.js';
import { createFleetEvent, getFleetEvent, getFleetEventCsv, listFleetEvents, portfolio } from './fleet.js';
import { listAgents, listAssets } from './inventory.js';
import { buildApiPorts, type ApiPorts } from './ports.js';
import * as q from './queries.js';
import * as metadata from './metadata.js';
import * as programs from './programs.js';
import { listRefused } from './refused.js';
import { deactivateCertificate, revokeDevice } from './devices.js';
import { Reply } from './reply.js';
import { servedDocument } from './openapi.js';
import { callerOf, hasRole, type Caller, type Role } from '../core/contracts/roles.js';
import { routeOf, type RouteKey } from './routes.js';
import { postNodeTelemetry, postTelemetry, postTelemetryBatch } from './telemetry.js';
import { postOptimiseSchedule } from './optimise.js';
import * as transactions from './transactions.js';
import { winterRiverSystem } from './winter-river.js';

type Route = (event: APIGatewayProxyEventV2, ports: ApiPorts) => Promise<unknown>;

const routeTable: Record<RouteKey, Route> = {
  'GET /health': async () => ({ status: 'ok' }),
  'GET /api/openapi.json': async () => new Reply(200, servedDocument(), { 'cache-control': 'public, max-age=300' }),
  'GET /api/me': async (e) => ({ role: callerOf(e).role }),
  'GET /api/vens': (e, p) => q.listVens(p, e.queryStringParameters),
  'GET /api/vens/{venId}': (e, p) => q.getVen(p, e.pathParameters?.venId),
  'GET /api/vens/{venId}/telemetry': (e, p) => q.venTelemetry(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/circuits/history': (e, p) =>
    q.circuitHistory(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/events': (e, p) => q.venEvents(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/shadow': (e, p) => q.venShadow(p, e.pathParameters?.venId),
  'GET /api/vens/{venId}/forecast': (e, p) => venForecast(p, e.pathParameters?.venId),
  'GET /api/winter-river/nodes': (e, p) => q.listWinterRiverNodes(p, e.queryStringParameters),
  'GET /api/winter-river/system': (_e, p) => winterRiverSystem(p),
  'POST /api/vens/{venId}/send-event': (e, p) => commands.sendEvent(p, e.pathParameters?.venId, e),
  'POST /api/vens/{venId}/restore': (e, p) => commands.restore(p, e.pathParameters?.venId, e),
  'GET /api/commands/{correlationId}': (e, p) => commands.getCommand(p, e.pathParameters?.correlationId),
  'POST /api/winter-river/nodes/{nodeId}/command': (e, p) =>
    commands.winterRiverCommand(p, e.pathParameters?.nodeId, e),
  'GET /api/assets': (e, p) => listAssets(p, e.queryStringParameters),
  'GET /api/assets/{assetId}': (e, p) => der.getAsset(p, e.pathParameters?.assetId),
  'GET /api/assets/{assetId}/telemetry': (e, p) =>
    der.assetTelemetry(p, e.pathParameters?.assetId, e.queryStringParameters),
  'GET /api/sites/{siteId}': (e, p) => der.getSite(p, e.pathParameters?.siteId),
  'GET /api/sites/{siteId}/forecast': (e, p) => siteForecast(p, e.pathParameters?.siteId),
  'GET /api/agents': (e, p) => listAgents(p, e.queryStringParameters),
  'POST /dispatch': (e, p) => postDispatch(p, e),
  'GET /api/dispatch/{id}': (e, p) => getDispatch(p, e.pathParameters?.id),
  'GET /api/events': (e, p) => listFleetEvents(p, e.queryStringParameters),
  'POST /api/events': (e, p) => createFleetEvent(p, e),
  'GET /api/events/{eventId}': (e, p) => getFleetEvent(p, e.pathParameters?.eventId),
  'GET /api/events/{eventId}/report.csv': (e, p) => getFleetEventCsv(p, e.pathParameters?.eventId, e.headers?.accept),
  'GET /api/portfolio': (_e, p) => portfolio(p),
  'GET /api/realtime/portfolio': (_e, p) => realtimePortfolio(p),
  'GET /api/telemetry/{nodeId}/latest': (e, p) => latestTelemetry(p, e.pathParameters?.nodeId),
  'GET /api/data-quality': (e, p) => fleetDataQuality(p, e.queryStringParameters),
  'GET /api/data-quality/{nodeId}': (e, p) => nodeDataQuality(p, e.pathParameters?.nodeId, e.queryStringParameters),
  'POST /api/telemetry': (e, p) => postTelemetry(p, e),
  'GET /api/refused': (e, p) => listRefused(p, e.queryStringParameters),
  'POST /api/metadata': (e, p) => metadata.postMetadata(p, e),
  'GET /api/metadata/{nodeId}': (e, p) => metadata.readMetadata(p, e.pathParameters?.nodeId),
  'PATCH /api/metadata/{nodeId}': (e, p) => metadata.updateMetadata(p, e.pathParameters?.nodeId, e),
  'GET /api/nodes/active': (e, p) => metadata.activeNodes(p, e.queryStringParameters),
  'GET /api/nodes/by-type/{type}': (e, p) => metadata.nodesByType(p, e.pathParameters?.type, e.queryStringParameters),
  'GET /api/nodes/nearby': (e, p) => metadata.nodesNearby(p, e.queryStringParameters),
  'GET /api/analytics/{nodeId}/daily': (e, p) =>
    analytics.nodeRollups(p, e.pathParameters?.nodeId, 'daily', e.queryStringParameters),
  'GET /api/analytics/{nodeId}/monthly': (e, p) =>
    analytics.nodeRollups(p, e.pathParameters?.nodeId, 'monthly', e.queryStringParameters),
  'GET /api/analytics/{nodeId}/benchmarks': (e, p) =>
    analytics.benchmarks(p, e.pathParameters?.nodeId, e.queryStringParameters),
  'GET /api/analytics/portfolio': (e, p) => analytics.portfolioRollups(p, e.queryStringParameters),
  'GET /api/telemetry/{nodeId}/historical': (e, p) =>
    analytics.historical(p, e.pathParameters?.nodeId, e.queryStringParameters),
  'GET /api/transactions/{nodeId}': (e, p) =>
    transactions.listTransactions(p, e.pathParameters?.nodeId, e.queryStringParameters),
  'GET /api/transactions/{nodeId}/verify': (e, p) => transactions.verifyTransactions(p, e.pathParameters?.nodeId),
  'POST /api/transactions': (e, p) => transactions.postTransaction(p, e),
  'POST /api/devices/{thingName}/revoke': (e, p) => revokeDevice(p, e.pathParameters?.thingName, e),
  'POST /api/certificates/{certificateId}/deactivate': (e, p) =>
    deactivateCertificate(p, e.pathParameters?.certificateId, e),
  'POST /api/optimise/schedule': (e, p) => postOptimiseSchedule(p, e),
  'GET /api/programs': (e, p) => programs.list(p, e.queryStringParameters),
  'POST /api/programs': (e, p) => programs.create(p, e),
  'GET /api/programs/{programId}': (e, p) => programs.get(p, e.pathParameters?.programId),
  'PATCH /api/programs/{programId}': (e, p) => programs.patch(p, e.pathParameters?.programId, e),
  'DELETE /api/programs/{programId}': (e, p) => programs.remove(p, e.pathParameters?.programId),
  'POST /api/events/{eventId}/end': (e, p) => endEvent(p, e.pathParameters?.eventId, e),
  'POST /api/events/{eventId}/cancel': (e, p) => cancelEvent(p, e.pathParameters?.eventId, e),
  'GET /api/edge': (e, p) => edge.listEdgeNodes(p, e.queryStringParameters),
  'GET /api/edge/{dcId}': (e, p) => edge.getEdgeNode(p, e.pathParameters?.dcId),
  'GET /api/edge/{dcId}/telemetry': (e, p) => edge.edgeTelemetry(p, e.pathParameters?.dcId, e.queryStringParameters),
  'GET /api/edge/{dcId}/forecast': (e, p) => edge.edgeForecast(p, e.pathParameters?.dcId),
  'POST /api/edge/{dcId}/commands': (e, p) => edge.edgeCommand(p, e.pathParameters?.dcId, e),
  'POST /api/telemetry/batch': (e, p) => postTelemetryBatch(p, e),
  'POST /api/telemetry/{nodeId}': (e, p) => postNodeTelemetry(p, e.pathParameters?.nodeId, e),
};

const json = (statusCode: number, body: unknown): Response => ({ statusCode, body: JSON.stringify(body) });

export async function handleApiEvent(
  event: APIGatewayProxyEventV2,
  ports: ApiPorts,
): Promise<APIGatewayProxyStructuredResultV2> {
  const route = routeTable[event.routeKey as RouteKey];
  const definition = routeOf(event.routeKey);
  if (!route || !definition) return result(json(404, { error: 'NotFound', message: `no route ${event.routeKey}` }));
  const scope = pageScope(event);
  const run = () =>
    Promise.resolve()
      .then(() => route(withStoreToken(event, scope), ports))
      .then(
        (r): Response =>
          r instanceof Reply
            ? { ...json(r.statusCode, r.body), headers: { ...r.headers } }
            : json(200, withBoundToken(r, scope)),
        (err: unknown) => errorResponse(event, err),
      );
  try {
    const needed = definition.role;
    if (needed === 'public') return result(await run());
    const caller = authorize(event, needed);
    return result(definition.idempotent ? await idempotent(event, caller, ports.idempotency, run) : await run());
  } catch (err) {
    return result(errorResponse(event, err));
  }
}

/**
 * What a page token is bound to: the route, its path parameters, and its query parameters but `next` and `limit`.
 * A token from another route, another item or another query is a 400 naming `next` before any store reads it.
 */
function pageScope(event: APIGatewayProxyEventV2): string {
  const params = (p: Record<string, string | undefined> | undefined) =>
    Object.entries(p ?? {})
      .filter(([k, v]) => v !== undefined && v !== '' && k !== 'next' && k !== 'limit')
      .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([event.routeKey, params(event.pathParameters), params(event.queryStringParameters)]);
}

function withStoreToken(event: APIGatewayProxyEventV2, scope: string): APIGatewayProxyEventV2 {
  const next = event.queryStringParameters?.next;
  if (!next) return event;
  return { ...event, queryStringParameters: { ...event.queryStringParameters, next: unbindToken(scope, next) } };
}

function withBoundToken(body: unknown, scope: string): unknown {
  if (!body || typeof body !== 'object' || !('next' in body) || typeof body.next !== 'string') return body;
  return { ...body, next: bindToken(scope, body.next) };
}

/** The caller, when its role is at least the route's; a ForbiddenError otherwise. */
function authorize(event: APIGatewayProxyEventV2, needed: Role): Caller {
  const caller = callerOf(event);
  if (!hasRole(caller.role, needed)) throw new ForbiddenError(`${event.routeKey} needs the ${needed} role`);
  return caller;
}

function errorResponse(event: APIGatewayProxyEventV2, err: unknown): Response {
  if (err instanceof ValidationError)
    return json(400, { error: 'ValidationError', field: err.field, message: err.message });
  if (err instanceof ForbiddenError) return json(403, { error: 'Forbidden', message: err.message });
  if (err instanceof NotFoundError) return json(404, { error: 'NotFound', message: err.message });
  if (err instanceof ConflictError)
    return json(409, { error: 'Conflict', ...(err.field && { field: err.field }), message: err.message });
  if (err instanceof UnprocessableError)
    return json(422, { error: 'Unprocessable', field: err.field, message: err.message });
  logger.error('request failed', { routeKey: event.routeKey, error: err as Error });
  return json(500, { error: 'InternalError', message: 'internal error' });
}

const result = ({ statusCode, body, headers }: Response): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

export function apiHandler(ports: () => ApiPorts) {
  return middy((event: APIGatewayProxyEventV2) => handleApiEvent(event, ports())).use(injectLambdaContext(logger));
}

let ports: ApiPorts | undefined;

function portsFromEnv(): ApiPorts {
  if (!ports) {
    const api = loadEnvOf(apiEnvSchema);
    const powerEnv = loadEnvOf(powerEnvSchema);
    const dynamodb = new DynamoDBClient({});
    const power = {
      topology: topologyOf(powerEnv),
      store: new DynamoPowerSystemStore(documentClient(dynamodb), powerEnv.POWER_SYSTEM_TABLE),
    };
    ports = buildApiPorts(
      loadEnv(),
      api,
      dynamodb,
      new IoTDataPlaneClient({ endpoint: api.IOT_DATA_ENDPOINT }),
      power,
      new IotDeviceIdentities(api.DEVICE_POLICY_NAME),
      new S3ReportFiles(new S3Client({}), api.REPORTS_BUCKET),
    );
  }
  return ports;
}

export const handler = apiHandler(portsFromEnv);
