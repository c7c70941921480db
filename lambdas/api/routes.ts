// The HTTP API's routes, defined once: the CDK stack creates them on API Gateway, the local HTTP server matches
// requests against them to build the same event API Gateway sends, and the handler checks each route's role.
import { ValidationError } from '../core/contracts/errors.js';
import type { Access } from '../core/contracts/roles.js';

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  /**
   * The least role the route needs (roles.ts); `public` needs no token at all. Every other route needs
   * `Authorization: Bearer <token>` (a Cognito JWT in AWS) and a caller in that group or a higher one.
   */
  readonly role: Access;
  /** A command that leaves the platform: an `Idempotency-Key` header makes a retry answer the first response. */
  readonly idempotent?: boolean;
}

export const routes = [
  { method: 'GET', path: '/health', role: 'public' },
  // The API's OpenAPI 3.1 document (openapi.ts), generated from this table.
  { method: 'GET', path: '/api/openapi.json', role: 'public' },
  { method: 'GET', path: '/api/me', role: 'viewer' },
  { method: 'GET', path: '/api/vens', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}/telemetry', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}/circuits/history', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}/events', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}/shadow', role: 'viewer' },
  { method: 'GET', path: '/api/vens/{venId}/forecast', role: 'viewer' },
  { method: 'GET', path: '/api/winter-river/nodes', role: 'viewer' },
  { method: 'GET', path: '/api/winter-river/system', role: 'viewer' },
  { method: 'POST', path: '/api/vens/{venId}/send-event', role: 'operator', idempotent: true },
  { method: 'POST', path: '/api/vens/{venId}/restore', role: 'operator', idempotent: true },
  { method: 'GET', path: '/api/commands/{correlationId}', role: 'viewer' },
  { method: 'POST', path: '/api/winter-river/nodes/{nodeId}/command', role: 'operator', idempotent: true },
  { method: 'GET', path: '/api/assets', role: 'viewer' },
  { method: 'GET', path: '/api/assets/{assetId}', role: 'viewer' },
  { method: 'GET', path: '/api/assets/{assetId}/telemetry', role: 'viewer' },
  { method: 'GET', path: '/api/sites/{siteId}', role: 'viewer' },
  { method: 'GET', path: '/api/sites/{siteId}/forecast', role: 'viewer' },
  { method: 'GET', path: '/api/agents', role: 'viewer' },
  { method: 'POST', path: '/dispatch', role: 'operator', idempotent: true },
  { method: 'GET', path: '/api/dispatch/{id}', role: 'viewer' },
  { method: 'GET', path: '/api/events', role: 'viewer' },
  { method: 'POST', path: '/api/events', role: 'operator', idempotent: true },
  { method: 'GET', path: '/api/events/{eventId}', role: 'viewer' },
  { method: 'GET', path: '/api/events/{eventId}/report.csv', role: 'viewer' },
  { method: 'GET', path: '/api/portfolio', role: 'viewer' },
  { method: 'GET', path: '/api/realtime/portfolio', role: 'viewer' },
  { method: 'GET', path: '/api/telemetry/{nodeId}/latest', role: 'viewer' },
  { method: 'GET', path: '/api/data-quality', role: 'viewer' },
  { method: 'GET', path: '/api/data-quality/{nodeId}', role: 'viewer' },
  // Device data over HTTP, written as if the VEN had sent it: admin until devices use their certificates here.
  { method: 'POST', path: '/api/telemetry', role: 'admin' },
  { method: 'GET', path: '/api/refused', role: 'viewer' },
  { method: 'POST', path: '/api/metadata', role: 'admin' },
  { method: 'GET', path: '/api/metadata/{nodeId}', role: 'viewer' },
  { method: 'PATCH', path: '/api/metadata/{nodeId}', role: 'admin' },
  { method: 'GET', path: '/api/nodes/active', role: 'viewer' },
  { method: 'GET', path: '/api/nodes/by-type/{type}', role: 'viewer' },
  { method: 'GET', path: '/api/nodes/nearby', role: 'viewer' },
  { method: 'GET', path: '/api/analytics/{nodeId}/daily', role: 'viewer' },
  { method: 'GET', path: '/api/analytics/{nodeId}/monthly', role: 'viewer' },
  { method: 'GET', path: '/api/analytics/{nodeId}/benchmarks', role: 'viewer' },
  { method: 'GET', path: '/api/analytics/portfolio', role: 'viewer' },
  { method: 'GET', path: '/api/telemetry/{nodeId}/historical', role: 'viewer' },
  { method: 'GET', path: '/api/transactions/{nodeId}', role: 'viewer' },
  { method: 'GET', path: '/api/transactions/{nodeId}/verify', role: 'viewer' },
  { method: 'POST', path: '/api/transactions', role: 'admin', idempotent: true },
  // Revokes every certificate of a device: it is refused at once, open connections included.
  { method: 'POST', path: '/api/devices/{thingName}/revoke', role: 'admin' },
  // The last step of a rotation: the old certificate deactivated once the device uses its new one.
  { method: 'POST', path: '/api/certificates/{certificateId}/deactivate', role: 'admin' },
  // Battery schedules: plans a battery's cheapest day against prices; sends nothing to a device.
  { method: 'POST', path: '/api/optimise/schedule', role: 'operator' },
  // DR programs: the market terms events run under (viewers read, admins write).
  { method: 'GET', path: '/api/programs', role: 'viewer' },
  { method: 'POST', path: '/api/programs', role: 'admin' },
  { method: 'GET', path: '/api/programs/{programId}', role: 'viewer' },
  { method: 'PATCH', path: '/api/programs/{programId}', role: 'admin' },
  { method: 'DELETE', path: '/api/programs/{programId}', role: 'admin' },
  // A fleet event's life cycle: a running one ended now, a scheduled one cancelled before it starts.
  { method: 'POST', path: '/api/events/{eventId}/end', role: 'operator', idempotent: true },
  { method: 'POST', path: '/api/events/{eventId}/cancel', role: 'operator', idempotent: true },
  // Data-centre edge nodes: the fleet, a node, its telemetry, its commands (ACKed on edge/{dc_id}/ack).
  { method: 'GET', path: '/api/edge', role: 'viewer' },
  { method: 'GET', path: '/api/edge/{dcId}', role: 'viewer' },
  { method: 'GET', path: '/api/edge/{dcId}/telemetry', role: 'viewer' },
  { method: 'GET', path: '/api/edge/{dcId}/forecast', role: 'viewer' },
  { method: 'POST', path: '/api/edge/{dcId}/commands', role: 'operator', idempotent: true },
  // The HTTP fallback's other shapes: a batch of any nodes' readings (all or none), one reading of one node.
  { method: 'POST', path: '/api/telemetry/batch', role: 'admin' },
  { method: 'POST', path: '/api/telemetry/{nodeId}', role: 'admin' },
] as const satisfies readonly RouteDefinition[];

/** `METHOD /path` of each route (distributed per route, so no method is paired with another route's path). */
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
export type RouteKey = KeyOf<(typeof routes)[number]>;

export const routeKey = (r: RouteDefinition) => `${r.method} ${r.path}` as RouteKey;

const byKey = new Map<string, RouteDefinition>(routes.map((r) => [routeKey(r), r]));

/** The route of an event's `routeKey`. */
export const routeOf = (key: string): RouteDefinition | undefined => byKey.get(key);

/**
 * Finds the route for a request path, with its path parameters (`{venId}`) decoded, as API Gateway does. A path
 * parameter that is not valid percent-encoding (`%E0%A4%A`) is a ValidationError naming `path`.
 */
export function matchRoute(method: string, path: string) {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((seg, i) => {
      if (seg.startsWith('{')) {
        params[seg.slice(1, -1)] = decodePathSegment(parts[i]!);
        return parts[i] !== '';
      }
      return seg === parts[i];
    });
    if (ok) return { route: route as RouteDefinition, routeKey: routeKey(route), pathParameters: params };
  }
  return undefined;
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError('path', 'path: not valid percent-encoding (UTF-8)');
  }
}
