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
   * Sends `body` to the emulator with the client's headers (the target replaced when given). A kept-alive connection
   * the emulator closed as idle just as the request went out on it (its keep-alive timer and this request share the
   * worker's event loop, late under load) is reset before any byte of an answer: the emulator never read the request,
   * so it is sent again on a new connection, as Node's docs advise (`request.reusedSocket`). AWS does not hang up.
   */
  return (headers: IncomingHttpHeaders, body: Buffer | string, target?: string): Promise<Answer> =>
    send(headers, body, target).catch((err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      if (!err.reusedSocket || err.code !== 'ECONNRESET') throw err;
      return send(headers, body, target);
    });

  function send(headers: IncomingHttpHeaders, body: Buffer | string, target?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const data = typeof body === 'string' ? Buffer.from(body) : body;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers))
        if (v !== undefined && k !== 'content-length' && k !== 'host' && k !== 'connection') out[k] = v;
      if (target) out['x-amz-target'] = target;
      out['content-length'] = String(data.length);
      const req = request(
        { host: '127.0.0.1', port: upstream.port, method: 'POST', path: '/', headers: out, agent },
        (res) => {
          readBody(res).then((b) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: b }), reject);
        },
      );
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(data);
    });
  }
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
