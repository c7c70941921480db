// The AWS IoT data-plane HTTP API of the local stack (GetThingShadow, UpdateThingShadow, DeleteThingShadow, Publish),
// answered as AWS restJson does so `@aws-sdk/client-iot-data-plane` and `aws iot-data` work unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logger } from '../../../lambdas/core/common/logger.js';
import { MAX_PAYLOAD_BYTES } from '../../../lambdas/core/contracts/schemas.js';
import { parseBasicIngestTopic, parseShadowTopic } from '../../../lambdas/core/contracts/topics.js';
import type { ShadowResult, ShadowService } from './shadow-service.js';
import { verifySigV4 } from '../aws/sigv4.js';

export interface DataPlaneOptions {
  readonly shadows: ShadowService;
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  /** The local credentials every request must be SigV4-signed with (service `iotdata`). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
}

/** Handles data-plane paths; false for any other path. */
export type DataPlaneRoutes = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;

const ERROR_TYPES = {
  400: 'InvalidRequestException',
  403: 'ForbiddenException',
  404: 'ResourceNotFoundException',
  405: 'MethodNotAllowedException',
  409: 'ConflictException',
  413: 'RequestEntityTooLargeException',
  500: 'InternalFailureException',
} as const;
type ErrorStatus = keyof typeof ERROR_TYPES;

/** AWS IoT's topic limit. */
const MAX_TOPIC_BYTES = 256;

/**
 * Of the reserved topics, a caller may publish only requests, as in AWS IoT: a shadow's update/get/delete and Basic
 * Ingest. Lifecycle events and the shadow service's answers (accepted, rejected, delta, documents) are IoT's own.
 */
function isPublishableReservedTopic(topic: string): boolean {
  const shadow = parseShadowTopic(topic);
  return (shadow !== undefined && !shadow.op.includes('/')) || parseBasicIngestTopic(topic) !== undefined;
}

type Route = { kind: 'shadow'; thingName: string } | { kind: 'publish'; topic: string };

export function dataPlaneRoutes(opts: DataPlaneOptions): DataPlaneRoutes {
  return async (req, res, body) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const [path, query] = q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q + 1)];
    const route = matchRoute(path);
    if (!route) return false;
    const auth = verifySigV4(
      { method: req.method ?? '', url: target, headers: req.headersDistinct, body },
      { credentials: opts.credentials, region: opts.region, service: 'iotdata' },
    );
    if (!auth.ok) return sendError(res, 403, auth.message);
    const params = new URLSearchParams(query);
    try {
      if (route.kind === 'shadow') await shadow(opts.shadows, req.method, route.thingName, params, body, res);
      else await publish(opts, req.method, route.topic, params, body, res);
    } catch (err) {
      logger.error('data-plane request failed', { path, error: err as Error });
      sendError(res, 500, 'Internal service failure');
    }
    return true;
  };
}

function matchRoute(path: string): Route | undefined {
  const thing = /^\/things\/([^/]+)\/shadow$/.exec(path);
  if (thing) return { kind: 'shadow', thingName: decode(thing[1]!) };
  const topic = /^\/topics\/(.+)$/.exec(path);
  return topic ? { kind: 'publish', topic: decode(topic[1]!) } : undefined;
}

async function shadow(
  shadows: ShadowService,
  method: string | undefined,
  thingName: string,
  params: URLSearchParams,
  body: Buffer,
  res: ServerResponse,
) {
  const call = SHADOW_CALLS.get(method ?? '');
  if (!call) return sendError(res, 405, `Method ${method} is not allowed on a shadow`);
  if (params.has('name')) return sendError(res, 400, 'Named shadows are not supported by the local stack');
  const result = await call(shadows, thingName, body);
  if (!result.ok) return sendError(res, result.code, result.message);
  send(res, 200, JSON.stringify(result.body));
}

type ShadowCall = (s: ShadowService, thingName: string, body: Buffer) => Promise<ShadowResult>;
const SHADOW_CALLS = new Map<string, ShadowCall>([
  ['GET', (s, thingName) => s.get(thingName)],
  ['POST', (s, thingName, body) => s.update(thingName, body)],
  ['DELETE', (s, thingName) => s.delete(thingName)],
]);

async function publish(
  opts: DataPlaneOptions,
  method: string | undefined,
  topic: string,
  params: URLSearchParams,
  body: Buffer,
  res: ServerResponse,
) {
  if (method !== 'POST') return sendError(res, 405, `Method ${method} is not allowed on a topic`);
  const qos = params.get('qos') ?? '0';
  if (qos !== '0' && qos !== '1') return sendError(res, 400, 'qos must be 0 or 1');
  if (/[+#]/.test(topic) || Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    return sendError(res, 400, `Invalid topic '${topic}': no wildcards, at most ${MAX_TOPIC_BYTES} bytes`);
  }
  if (topic.startsWith('$') && !isPublishableReservedTopic(topic)) {
    return sendError(res, 403, `Publishing to the reserved topic ${topic} is not allowed`);
  }
  if (body.length > MAX_PAYLOAD_BYTES) {
    return sendError(res, 413, `Payload of ${body.length} bytes is over AWS IoT's ${MAX_PAYLOAD_BYTES}`);
  }
  await opts.publish(topic, body, qos === '1' ? 1 : 0);
  send(res, 200, JSON.stringify({ message: 'OK' }));
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** restJson errors: the SDK picks the exception class from `x-amzn-ErrorType` and the text from `message`. */
function sendError(res: ServerResponse, status: ErrorStatus, message: string): true {
  send(res, status, JSON.stringify({ message }), { 'x-amzn-ErrorType': ERROR_TYPES[status] });
  return true;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
