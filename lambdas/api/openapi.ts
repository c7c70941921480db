// The HTTP API's OpenAPI 3.1 document, generated from the route table (routes.ts) and each route's contract
// (contract.ts): nothing here names a route, so a route added to the table appears by itself (or, without a contract,
// fails the test that names it). Served at `GET /api/openapi.json`.
import * as z from 'zod';
import { contracts, type RouteContract } from './contract.js';
import { IDEMPOTENCY_HEADER } from './idempotency.js';
import { errorSchema } from './responses.js';
import { routeKey, routes, type RouteDefinition } from './routes.js';
import { THING_NAME } from '../core/contracts/topics.js';

export const API_VERSION = '1.0.0';
export const SECURITY_SCHEME = 'operatorJwt';

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the command left; follow it by its correlationId',
  302: 'Found: the file, at `Location` (the body says the same)',
  400: 'A parameter, header or body field is invalid: `field` names it',
  401: 'No bearer token, or not a valid one',
  403: "The caller's role is below the route's",
  404: 'Not found',
  409: 'Conflict: the state forbids it now',
  413: 'The request is too large',
  422: `The ${IDEMPOTENCY_HEADER} was already used for another request`,
  429: 'Throttled: retry with backoff',
  500: 'Internal error',
  503: 'Unavailable: no answer within the integration timeout (30 s), or (`/health`) a part is down',
};

/** A path parameter by its name: device ids are thing names, the rest opaque ids. */
function pathParamSchema(name: string): JsonSchema {
  if (['venId', 'nodeId', 'thingName'].includes(name)) return { type: 'string', pattern: THING_NAME.source };
  if (name === 'certificateId') return { type: 'string', pattern: '^[0-9a-fA-F]{64}$' };
  return { type: 'string', minLength: 1, maxLength: 128 };
}

/** A zod schema as JSON Schema 2020-12 inside the document (no `$schema`; a named schema as a component `$ref`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...out } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  return out;
}

const errorRef = { $ref: '#/components/schemas/Error' };

/** The error statuses a route can answer: shared ones from its definition, the rest from its contract. */
export function errorStatuses(route: RouteDefinition, contract: RouteContract): number[] {
  const hasParams = route.path.includes('{');
  // every route: an internal error, the integration timeout (503), the stage's throttle (429)
  const statuses = new Set<number>([429, 500, 503]);
  if (hasParams || contract.query || contract.body || route.idempotent) statuses.add(400);
  if (route.role !== 'public') [401, 403].forEach((s) => statuses.add(s));
  if (hasParams || contract.notFound) statuses.add(404);
  if (contract.conflict || route.idempotent) statuses.add(409);
  if (contract.body) statuses.add(413);
  if (route.idempotent) statuses.add(422);
  return [...statuses].sort((a, b) => a - b);
}

function operation(route: RouteDefinition, contract: RouteContract) {
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name: name!,
    in: 'path',
    required: true,
    schema: pathParamSchema(name!),
  }));
  const query = contract.query ? jsonSchema(contract.query, 'input') : undefined;
  const required = new Set((query?.required as string[] | undefined) ?? []);
  const queryParams = Object.entries((query?.properties as Record<string, JsonSchema> | undefined) ?? {}).map(
    ([name, schema]) => {
      const { description, ...rest } = schema;
      return {
        name,
        in: 'query',
        required: required.has(name),
        ...(description !== undefined && { description }),
        schema: rest,
      };
    },
  );
  const headerParams = route.idempotent
    ? [
        {
          name: IDEMPOTENCY_HEADER,
          in: 'header',
          required: false,
          description:
            'the same key with the same request within 24 h answers the first response again, without running it again',
          schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
        },
      ]
    : [];
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(contract.responses)) {
    responses[status] = {
      description: STATUS_TEXT[Number(status)] ?? status,
      ...(status === '302' && { headers: { Location: { schema: { type: 'string' }, description: 'the file' } } }),
      ...(route.idempotent &&
        Number(status) < 300 && {
          headers: {
            'Idempotent-Replayed': {
              schema: { type: 'string', enum: ['true'] },
              description: 'a replay of the first response to this key',
            },
          },
        }),
      content: { 'application/json': { schema: jsonSchema(schema!, 'output') } },
    };
  }
  for (const status of errorStatuses(route, contract)) {
    if (responses[status]) continue;
    responses[status] = { description: STATUS_TEXT[status], content: { 'application/json': { schema: errorRef } } };
  }
  return {
    operationId: operationId(route),
    summary: contract.summary,
    tags: [tagOf(route.path)],
    ...(route.role === 'public'
      ? { security: [] }
      : { security: [{ [SECURITY_SCHEME]: [route.role] }], 'x-least-role': route.role }),
    parameters: [...pathParams, ...queryParams, ...headerParams],
    ...(contract.body && {
      requestBody: {
        required: !contract.bodyOptional,
        content: { 'application/json': { schema: jsonSchema(contract.body, 'input') } },
      },
    }),
    responses,
  };
}

const tagOf = (path: string) =>
  path
    .split('/')
    .filter((s) => s && s !== 'api')[0]!
    .replace(/\W/g, '');

/** `GET /api/vens/{venId}/telemetry` → `getVensVenIdTelemetry`. */
function operationId(route: RouteDefinition): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter((w) => w && w !== 'api');
  return route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The routes of the table that have no contract: each needs one before the document can say what it answers. */
export const routesWithoutContract = (table: readonly RouteDefinition[] = routes) =>
  table.filter((route) => !contracts[routeKey(route)]).map(routeKey);

export function openApiDocument(table: readonly RouteDefinition[] = routes) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of table) {
    const contract = contracts[routeKey(route)];
    if (!contract) continue;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, contract);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'VPP IoT platform API',
      version: API_VERSION,
      description:
        'The operator API of the VPP IoT platform. Every route but the public ones needs `Authorization: Bearer <token>`: ' +
        "a Cognito access token of a user in the viewer, operator or admin group. Each operation's security names the " +
        'least role it needs; a higher role passes too (viewer < operator < admin). Errors are `{error, field, message}` ' +
        'from the API, `{message}` from the gateway in front of it. Versioning: see docs/api.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'this deployment (the API Gateway URL, or the local stack)' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            "A Cognito access token (the user pool of the stack's outputs); its `cognito:groups` claim gives the role.",
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

let cached: OpenApiDocument | undefined;

/** The document as served: built once per process. */
export function servedDocument(): OpenApiDocument {
  return (cached ??= openApiDocument());
}
