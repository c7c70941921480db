// The plumbing of the rule proxies in front of the local emulators: read a request, call the emulator behind with a
// (possibly rewritten) JSON body, answer. Runs inside the emulators' worker threads (bundled): Node only.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Upstream {
  readonly port: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type Json = Record<string, unknown>;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function upstreamCaller(upstream: Upstream) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /**
   * One call on a kept-alive socket, or a fresh one. A reused socket the emulator closed as idle just as the request
   * went out (its keep-alive timeout) ends in ECONNRESET before any answer: the request was never read, so it is sent
   * again (Node's documented pattern, `req.reusedSocket`), instead of failing the caller's call.
   */
  const send = (out: Record<string, string | string[]>, data: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      let answered = false;
      const req = request(
        { host: '127.0.0.1', port: upstream.port, method: 'POST', path: '/', headers: out, agent },
        (res) => {
          answered = true;
          readBody(res).then((b) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: b }), reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // each such socket is gone after it: the tries end, at the latest on a fresh socket, which is not retried
        if (!answered && req.reusedSocket && err.code === 'ECONNRESET') send(out, data).then(resolve, reject);
        else reject(err);
      });
      req.end(data);
    });
  /** Sends `body` to the emulator with the client's headers (the target replaced when given). */
  return (headers: IncomingHttpHeaders, body: Buffer | string, target?: string): Promise<Answer> => {
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers))
      if (v !== undefined && k !== 'content-length' && k !== 'host' && k !== 'connection') out[k] = v;
    if (target) out['x-amz-target'] = target;
    out['content-length'] = String(data.length);
    return send(out, data);
  };
}

/** Answers with the emulator's answer, or with `json` in its place (its checksum then dropped: it no longer holds). */
export function reply(res: ServerResponse, answer: Answer, json?: unknown): void {
  const body = json === undefined ? answer.body : Buffer.from(JSON.stringify(json));
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(answer.headers)) {
    if (
      v === undefined ||
      k === 'content-length' ||
      k === 'connection' ||
      k === 'keep-alive' ||
      k === 'transfer-encoding'
    )
      continue;
    if (json !== undefined && k === 'x-amz-crc32') continue;
    headers[k] = v;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(answer.status, headers);
  res.end(body);
}

/** An AWS JSON error as the service sends it. */
export function replyError(res: ServerResponse, contentType: string, type: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ __type: type, message }));
  res.writeHead(400, {
    'content-type': contentType,
    'content-length': String(body.length),
    'x-amzn-requestid': requestId(),
  });
  res.end(body);
}

const requestId = () =>
  Array.from({ length: 52 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(Math.random() * 36)]).join('');
