// The local stack's HTTP front door on 127.0.0.1: /health, the IoT data plane, the operator API (the same
// handler API Gateway invokes, behind dev bearer tokens in place of the JWT authorizer) and the dashboard. Each dev
// token stands for one role: the front door passes it on as the claims API Gateway would pass for a Cognito user in
// that group, and the handler checks the route's role as it does in AWS.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { ROLES, type Role } from '../../lambdas/core/contracts/roles.js';
import { matchRoute } from '../../lambdas/api/routes.js';
import { ValidationError } from '../../lambdas/core/contracts/errors.js';
import { AWS_API_LIMITS, HTTP_API_ANSWERS, payloadBytes, type ApiLimits, type LimitAnswer } from './aws/aws-limits.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface FrontDoorOptions {
  /** The dev bearer token of each role; the admin's is the dev session handed to a loopback page. */
  readonly tokens: Readonly<Record<Role, string>>;
  readonly api: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  readonly dataPlane: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
  readonly health: () => Promise<Record<string, boolean>>;
  /** The built dashboard (web/dist). */
  readonly webDir: string;
  /** What `/config.json` tells the dashboard. */
  readonly dashboardConfig: { mode: 'local'; apiUrl: string; wsUrl: string };
  /** AWS's limits (aws-limits.ts), on by default; a test may shorten one. */
  readonly limits?: Partial<ApiLimits>;
  /** Where a crossed limit is said, as Lambda's or API Gateway's log would say it. */
  readonly log?: (line: string) => void;
  /** Told every answer of a route (the response check, response-check.ts): its status, content type and body. */
  readonly onApiAnswer?: (routeKey: string, status: number, contentType: string | undefined, body: string) => void;
}

export function isToken(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function frontDoor(opts: FrontDoorOptions) {
  const limits: ApiLimits = { ...AWS_API_LIMITS, ...opts.limits };
  const log = opts.log ?? (() => undefined);
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req, limits.requestBytes);
      if (body === undefined) return answer(res, HTTP_API_ANSWERS.tooLarge);
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/health') {
        const parts = await opts.health();
        const down = Object.keys(parts).filter((part) => !parts[part]);
        const [status, health] = down.length ? [503, { status: 'down', down, parts }] : [200, { status: 'ok', parts }];
        if (req.method === 'GET') opts.onApiAnswer?.('GET /health', status, 'application/json', JSON.stringify(health));
        return send(res, status, health);
      }
      if (url.pathname === '/config.json' && req.method === 'GET')
        return send(res, 200, opts.dashboardConfig, { 'cache-control': 'no-store' });
      if (url.pathname === '/local/session' && req.method === 'POST') {
        return isLoopbackPage(req)
          ? send(res, 200, { token: opts.tokens.admin }, { 'cache-control': 'no-store' })
          : send(res, 403, {
              error: 'Forbidden',
              message: "the dev session is handed only to a page on this stack's own loopback address",
            });
      }
      if (await opts.dataPlane(req, res, body)) return;
      const match = matchRoute(req.method ?? 'GET', url.pathname);
      if (match) {
        const told = (status: number, contentType: string | undefined, text: string) =>
          opts.onApiAnswer?.(match.routeKey, status, contentType, text);
        const role = match.route.role === 'public' ? undefined : roleOfRequest(req, opts.tokens);
        if (match.route.role !== 'public' && !role) {
          told(401, 'application/json', JSON.stringify({ message: 'Unauthorized' }));
          return send(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
        }
        const event = apiEvent(req, url, body, match.routeKey, match.pathParameters, role);
        const result = await invokeApi(opts.api, event, limits, log);
        if ('status' in result) {
          told(result.status, 'application/json', JSON.stringify(result.body));
          return answer(res, result);
        }
        told(result.statusCode ?? 200, result.headers?.['content-type'] as string | undefined, result.body ?? '');
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        return res.end(result.body);
      }
      if (url.pathname.startsWith('/api/') || url.pathname === '/dispatch')
        return send(res, 404, { message: 'Not Found' });
      if (req.method === 'GET') return serveStatic(res, opts.webDir, url.pathname);
      send(res, 405, { message: 'Method Not Allowed' });
    } catch (err) {
      if (err instanceof ValidationError)
        return send(res, 400, { error: 'ValidationError', field: err.field, message: err.message });
      send(res, 500, { error: 'InternalError', message: (err as Error).message });
    }
  };
}

/**
 * The API function invoked as API Gateway invokes it: the event within Lambda's request payload, the answer within the
 * integration timeout (the function runs on, as in Lambda), the return value within Lambda's response payload.
 */
async function invokeApi(
  api: FrontDoorOptions['api'],
  event: APIGatewayProxyEventV2,
  limits: ApiLimits,
  log: (line: string) => void,
): Promise<APIGatewayProxyStructuredResultV2 | LimitAnswer> {
  const eventBytes = payloadBytes(event);
  if (eventBytes > limits.invokeRequestBytes) {
    log(
      `api: ${event.routeKey}: RequestEntityTooLargeException: ${eventBytes} bytes, the request must be smaller than ${limits.invokeRequestBytes} bytes`,
    );
    return HTTP_API_ANSWERS.tooLarge;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), limits.integrationTimeoutMs);
  });
  const invocation = api(event);
  const result = await Promise.race([invocation, timedOut]).finally(() => clearTimeout(timer));
  if (result === 'timed-out') {
    invocation.catch(() => undefined);
    log(`api: ${event.routeKey}: no answer within the ${limits.integrationTimeoutMs} ms integration timeout`);
    return HTTP_API_ANSWERS.timedOut;
  }
  const resultBytes = payloadBytes(result);
  if (resultBytes > limits.invokeResponseBytes) {
    log(
      `api: ${event.routeKey}: Function.ResponseSizeTooLarge: ${resultBytes} bytes, over the maximum allowed payload size (${limits.invokeResponseBytes} bytes)`,
    );
    return HTTP_API_ANSWERS.functionError;
  }
  return result;
}

const answer = (res: ServerResponse, { status, body }: LimitAnswer) => send(res, status, body);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The dev token goes to the dashboard only when the request comes from this machine, names the stack by a loopback
 * host (a rebinding DNS name does not), and is not cross-site: a page elsewhere, or on another machine, needs the token.
 */
export function isLoopbackPage(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress ?? '';
  if (!(peer.startsWith('127.') || peer === '::1' || peer.startsWith('::ffff:127.'))) return false;
  let host: URL;
  try {
    host = new URL(`http://${req.headers.host ?? ''}`);
  } catch {
    return false;
  }
  if (!LOOPBACK_HOSTS.has(host.hostname)) return false;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return false;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

/** The role whose dev token the request presents, if any. */
export function roleOfToken(tokens: Readonly<Record<Role, string>>, presented: string): Role | undefined {
  return ROLES.find((role) => isToken(tokens[role], presented));
}

function roleOfRequest(req: IncomingMessage, tokens: Readonly<Record<Role, string>>): Role | undefined {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? roleOfToken(tokens, header.slice(7)) : undefined;
}

/**
 * What API Gateway's JWT authorizer passes for a Cognito user in the role's group: the claims as strings, arrays
 * flattened to `[a b]`, as `requestContext.authorizer.jwt`.
 */
function localAuthorizer(role: Role) {
  return {
    jwt: { claims: { sub: `local-${role}`, 'cognito:groups': `[${role}]`, token_use: 'access' }, scopes: null },
  };
}

function apiEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  role: Role | undefined,
): APIGatewayProxyEventV2 {
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
  );
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length && { queryStringParameters: query }),
    ...(Object.keys(pathParameters).length && { pathParameters }),
    ...(body.length && { body: body.toString('utf8') }),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      ...(role && { authorizer: localAuthorizer(role) }),
    },
  };
}

// The dashboard runs no inline script and loads nothing from elsewhere; the live feed is this origin's /mqtt.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

async function serveStatic(res: ServerResponse, root: string, path: string) {
  let file = normalize(join(root, path === '/' ? 'index.html' : path));
  // The dashboard routes in the browser: any other path is the app, as CloudFront answers.
  if (!file.startsWith(root + sep) || !existsSync(file)) file = join(root, 'index.html');
  try {
    const content = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...PAGE_HEADERS,
    });
    res.end(content);
  } catch {
    send(res, 404, { message: 'Not Found' });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
