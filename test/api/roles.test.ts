// Roles from Cognito groups: the claim as API Gateway passes it, the role of each route, and the handler's check on an
// event shaped as API Gateway's JWT authorizer sends it (the local front door's is tested in roles-http.test.ts).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleApiEvent } from '../../lambdas/api/handler.js';
import type { ApiPorts } from '../../lambdas/api/ports.js';
import { callerOf, groupsClaim, hasRole, roleOf, ROLES } from '../../lambdas/core/contracts/roles.js';
import { routeKey, routes, type RouteDefinition } from '../../lambdas/api/routes.js';

/** An HTTP API (payload v2) event behind the JWT authorizer, with these claims. */
function awsEvent(key: string, claims?: Record<string, unknown>): APIGatewayProxyEventV2 {
  const [method, path] = key.split(' ');
  return {
    version: '2.0',
    routeKey: key,
    rawPath: path!,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      http: { method: method!, path: path!, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      routeKey: key,
      ...(claims && { authorizer: { jwt: { claims, scopes: null } } }),
    },
  } as unknown as APIGatewayProxyEventV2;
}

// Touching any store fails the test: a refused request must be refused before the route runs.
const noPorts = new Proxy(
  {},
  {
    get: (_t, name) => {
      throw new Error(`the route touched ports.${String(name)}`);
    },
  },
) as ApiPorts;

describe('the cognito:groups claim', () => {
  it('reads API Gateway’s flattened string, a JSON array as a string or as an array, and a bare group', () => {
    expect(groupsClaim('[admin operator]')).toEqual(['admin', 'operator']);
    expect(groupsClaim('[viewer]')).toEqual(['viewer']);
    expect(groupsClaim('["operator","viewer"]')).toEqual(['operator', 'viewer']);
    expect(groupsClaim(['admin', 'ops-team'])).toEqual(['admin', 'ops-team']);
    expect(groupsClaim(' operator ')).toEqual(['operator']);
    expect(groupsClaim('[]')).toEqual([]);
    expect(groupsClaim('')).toEqual([]);
    expect(groupsClaim(undefined)).toEqual([]);
    expect(groupsClaim(42)).toEqual([]);
    expect(groupsClaim([1, 'viewer'])).toEqual(['viewer']);
  });

  it('takes the highest role among the groups and ignores groups that are not roles', () => {
    expect(roleOf(['viewer', 'admin', 'operator'])).toBe('admin');
    expect(roleOf(['ops-team', 'operator'])).toBe('operator');
    expect(roleOf(['Admin', 'ops-team'])).toBeUndefined();
    expect(roleOf([])).toBeUndefined();
  });

  it('gives the caller of an API Gateway event its subject and role, from an ID or an access token alike', () => {
    expect(
      callerOf(awsEvent('GET /api/me', { sub: 'u-1', 'cognito:groups': '[viewer operator]', token_use: 'access' })),
    ).toEqual({ subject: 'u-1', role: 'operator' });
    expect(callerOf(awsEvent('GET /api/me', { sub: 'u-2', 'cognito:groups': '["admin"]', token_use: 'id' }))).toEqual({
      subject: 'u-2',
      role: 'admin',
    });
    expect(callerOf(awsEvent('GET /api/me', { sub: 'u-3' }))).toEqual({ subject: 'u-3' });
    expect(callerOf(awsEvent('GET /api/me'))).toEqual({ subject: '' });
  });

  it('orders the roles viewer < operator < admin', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'admin']);
    expect(hasRole('admin', 'operator')).toBe(true);
    expect(hasRole('operator', 'operator')).toBe(true);
    expect(hasRole('viewer', 'operator')).toBe(false);
    expect(hasRole(undefined, 'viewer')).toBe(false);
  });
});

describe('the route table', () => {
  const table = routes as readonly RouteDefinition[];
  const keysNeeding = (role: string) =>
    table
      .filter((r) => r.role === role)
      .map(routeKey)
      .sort();

  it('gives every route a role; only /health and the OpenAPI document are public', () => {
    for (const route of table) expect(['public', ...ROLES], routeKey(route)).toContain(route.role);
    expect(keysNeeding('public').sort()).toEqual(['GET /api/openapi.json', 'GET /health']);
  });

  it('lets viewers read, operators command, dispatch and run DR events, and admins write device data and revoke devices', () => {
    expect(table.filter((r) => r.method === 'GET' && r.role !== 'public').every((r) => r.role === 'viewer')).toBe(true);
    expect(keysNeeding('operator')).toEqual(
      [
        'POST /api/vens/{venId}/send-event',
        'POST /api/vens/{venId}/restore',
        'POST /dispatch',
        'POST /api/events',
        'POST /api/events/{eventId}/end',
        'POST /api/events/{eventId}/cancel',
        'POST /api/winter-river/nodes/{nodeId}/command',
        'POST /api/optimise/schedule',
        'POST /api/edge/{dcId}/commands',
      ].sort(),
    );
    expect(keysNeeding('admin').sort()).toEqual(
      [
        'POST /api/telemetry',
        'POST /api/telemetry/batch',
        'POST /api/telemetry/{nodeId}',
        'POST /api/metadata',
        'PATCH /api/metadata/{nodeId}',
        'POST /api/transactions',
        'POST /api/devices/{thingName}/revoke',
        'POST /api/certificates/{certificateId}/deactivate',
        'POST /api/programs',
        'PATCH /api/programs/{programId}',
        'DELETE /api/programs/{programId}',
      ].sort(),
    );
    // the commands, and the ledger's external entries: a retried settlement must not be booked twice
    // (a battery schedule only plans: it sends nothing, so a retry may simply plan again)
    const planOnly = ['POST /api/optimise/schedule'];
    expect(
      table
        .filter((r) => r.idempotent)
        .map(routeKey)
        .sort(),
    ).toEqual([...keysNeeding('operator').filter((k) => !planOnly.includes(k)), 'POST /api/transactions'].sort());
  });
});

describe('the handler, given the claims API Gateway passes', () => {
  it('answers GET /api/me with the role', async () => {
    const res = await handleApiEvent(
      awsEvent('GET /api/me', { sub: 'u', 'cognito:groups': '[operator viewer]' }),
      noPorts,
    );
    expect(res).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(res.body!)).toEqual({ role: 'operator' });
  });

  it('answers 403 naming the role a route needs, before the route runs', async () => {
    const viewer = { sub: 'u', 'cognito:groups': '[viewer]' };
    for (const key of ['POST /dispatch', 'POST /api/vens/{venId}/send-event', 'POST /api/telemetry']) {
      const needed = (routes as readonly RouteDefinition[]).find((r) => routeKey(r) === key)!.role;
      const res = await handleApiEvent(awsEvent(key, viewer), noPorts);
      expect(res.statusCode, key).toBe(403);
      expect(JSON.parse(res.body!)).toEqual({ error: 'Forbidden', message: `${key} needs the ${needed} role` });
    }
    const operatorOnTelemetry = await handleApiEvent(
      awsEvent('POST /api/telemetry', { sub: 'u', 'cognito:groups': ['operator'] }),
      noPorts,
    );
    expect(JSON.parse(operatorOnTelemetry.body!)).toEqual({
      error: 'Forbidden',
      message: 'POST /api/telemetry needs the admin role',
    });
  });

  it('refuses a signed-in user in no role group every route but /health', async () => {
    const none = { sub: 'u', 'cognito:groups': '[ops-team]' };
    expect((await handleApiEvent(awsEvent('GET /api/me', none), noPorts)).statusCode).toBe(403);
    expect((await handleApiEvent(awsEvent('GET /api/vens'), noPorts)).statusCode).toBe(403);
    expect((await handleApiEvent(awsEvent('GET /health'), noPorts)).statusCode).toBe(200);
  });
});
