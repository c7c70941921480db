// The HTTP API Lambda (API Gateway HTTP API, payload v2): one route table, domain errors mapped to statuses.
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildIngestPorts } from '../core/adapters.js';
import { loadEnv } from '../core/config.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { IotDataShadowReader } from '../core/shadows-iot-data.js';
import * as q from './queries.js';
import type { ApiPorts } from './queries.js';
import type { RouteKey } from './routes.js';

type Route = (event: APIGatewayProxyEventV2, ports: ApiPorts) => Promise<unknown>;

const routeTable: Record<RouteKey, Route> = {
  'GET /health': async () => ({ status: 'ok' }),
  'GET /api/vens': (e, p) => q.listVens(p, e.queryStringParameters),
  'GET /api/vens/{venId}': (e, p) => q.getVen(p, e.pathParameters?.venId),
  'GET /api/vens/{venId}/telemetry': (e, p) => q.venTelemetry(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/circuits/history': (e, p) =>
    q.circuitHistory(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/events': (e, p) => q.venEvents(p, e.pathParameters?.venId, e.queryStringParameters),
  'GET /api/vens/{venId}/shadow': (e, p) => q.venShadow(p, e.pathParameters?.venId),
  'GET /api/winter-river/nodes': (e, p) => q.listWinterRiverNodes(p, e.queryStringParameters),
};

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export async function handleApiEvent(event: APIGatewayProxyEventV2, ports: ApiPorts) {
  const route = routeTable[event.routeKey as RouteKey];
  if (!route) return json(404, { error: 'NotFound', message: `no route ${event.routeKey}` });
  try {
    return json(200, await route(event, ports));
  } catch (err) {
    if (err instanceof ValidationError) return json(400, { error: 'ValidationError', field: err.field, message: err.message });
    if (err instanceof NotFoundError) return json(404, { error: 'NotFound', message: err.message });
    logger.error('request failed', { routeKey: event.routeKey, error: err as Error });
    return json(500, { error: 'InternalError', message: 'internal error' });
  }
}

export function apiHandler(ports: () => ApiPorts) {
  return middy((event: APIGatewayProxyEventV2) => handleApiEvent(event, ports())).use(injectLambdaContext(logger));
}

let ports: ApiPorts | undefined;

function portsFromEnv(): ApiPorts {
  if (!ports) {
    const env = loadEnv();
    const endpoint = process.env.IOT_DATA_ENDPOINT;
    if (!endpoint) throw new Error('Invalid Lambda environment: IOT_DATA_ENDPOINT is required');
    ports = {
      ...buildIngestPorts(env, new DynamoDBClient({})),
      shadows: new IotDataShadowReader(new IoTDataPlaneClient({ endpoint })),
    };
  }
  return ports;
}

export const handler = apiHandler(portsFromEnv);
