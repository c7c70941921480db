// The HTTP API's routes, defined once: the CDK stack creates them on API Gateway and the local
// HTTP server matches requests against them to build the same event API Gateway sends.

export interface RouteDefinition {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Every route but /health needs `Authorization: Bearer <token>` (Cognito JWT in AWS). */
  readonly public?: boolean;
}

export const routes = [
  { method: 'GET', path: '/health', public: true },
  { method: 'GET', path: '/api/vens' },
  { method: 'GET', path: '/api/vens/{venId}' },
  { method: 'GET', path: '/api/vens/{venId}/telemetry' },
  { method: 'GET', path: '/api/vens/{venId}/circuits/history' },
  { method: 'GET', path: '/api/vens/{venId}/events' },
  { method: 'GET', path: '/api/vens/{venId}/shadow' },
  { method: 'GET', path: '/api/winter-river/nodes' },
  { method: 'POST', path: '/api/vens/{venId}/send-event' },
  { method: 'POST', path: '/api/vens/{venId}/restore' },
  { method: 'GET', path: '/api/commands/{correlationId}' },
  { method: 'POST', path: '/api/winter-river/nodes/{nodeId}/command' },
  { method: 'GET', path: '/api/assets' },
  { method: 'GET', path: '/api/agents' },
  { method: 'POST', path: '/dispatch' },
  { method: 'GET', path: '/api/dispatch/{id}' },
  { method: 'GET', path: '/api/events' },
  { method: 'POST', path: '/api/events' },
  { method: 'GET', path: '/api/events/{eventId}' },
  { method: 'GET', path: '/api/portfolio' },
  { method: 'POST', path: '/api/telemetry' },
  { method: 'GET', path: '/api/refused' },
] as const satisfies readonly RouteDefinition[];

/** `METHOD /path` of each route (distributed per route, so no method is paired with another route's path). */
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
export type RouteKey = KeyOf<(typeof routes)[number]>;

export const routeKey = (r: RouteDefinition) => `${r.method} ${r.path}` as RouteKey;

/** Finds the route for a request path, with its path parameters (`{venId}`), as API Gateway does. */
export function matchRoute(method: string, path: string) {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((seg, i) => {
      if (seg.startsWith('{')) {
        params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
        return parts[i] !== '';
      }
      return seg === parts[i];
    });
    if (ok) return { route: route as RouteDefinition, routeKey: routeKey(route), pathParameters: params };
  }
  return undefined;
}
