// The local stack's HTTP front door on 127.0.0.1: /health, the IoT data plane, the operator API (the same
// handler API Gateway invokes, behind the dev bearer token in place of the JWT authorizer) and the dashboard.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { matchRoute } from '../../lambdas/api/routes.js';

const MAX_BODY = 1024 * 1024;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

export interface FrontDoorOptions {
  readonly token: string;
  readonly api: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
  readonly dataPlane: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
  readonly health: () => Promise<Record<string, boolean>>;
  readonly webDir: string;
}

export function isToken(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function frontDoor(opts: FrontDoorOptions) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req);
      if (body === undefined) return send(res, 413, { error: 'PayloadTooLarge', message: `body over ${MAX_BODY} bytes` });
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/health') {
        const parts = await opts.health();
        return send(res, Object.values(parts).every(Boolean) ? 200 : 503, { status: 'ok', parts });
      }
      if (await opts.dataPlane(req, res, body)) return;
      const match = matchRoute(req.method ?? 'GET', url.pathname);
      if (match) {
        if (!match.route.public && !authorized(req, opts.token)) {
          return send(res, 401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
        }
        const result = await opts.api(apiEvent(req, url, body, match.routeKey, match.pathParameters));
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        return res.end(result.body);
      }
      if (url.pathname.startsWith('/api/') || url.pathname === '/dispatch') return send(res, 404, { message: 'Not Found' });
      if (req.method === 'GET') return serveStatic(res, opts.webDir, url.pathname);
      send(res, 405, { message: 'Method Not Allowed' });
    } catch (err) {
      send(res, 500, { error: 'InternalError', message: (err as Error).message });
    }
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') && isToken(token, header.slice(7));
}

function apiEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
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
    },
  };
}

async function serveStatic(res: ServerResponse, webDir: string, path: string) {
  const root = existsSync(join(webDir, 'dist')) ? join(webDir, 'dist') : webDir;
  let file = normalize(join(root, path === '/' ? 'index.html' : path));
  if (!file.startsWith(root) || !existsSync(file)) file = join(root, 'index.html');
  try {
    const content = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(content);
  } catch {
    send(res, 404, { message: 'Not Found' });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
