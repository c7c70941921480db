// The rule proxies' calls to the emulator behind them (bin/local/aws/proxy-http.ts): a kept-alive connection the
// emulator closed as idle just as a request went out on it is reset before any answer; the request is sent again on a
// new connection (AWS does not hang up). A reset of a new connection is the emulator's answer and is not retried.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { upstreamCaller } from '../../bin/local/aws/proxy-http.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A server that resets the connection, unanswered, on the request numbers of each connection that `drop` picks. */
async function emulator(drop: (requestOnConnection: number) => boolean) {
  let seen = 0;
  const served = new WeakMap<object, number>();
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (drop(n)) req.socket.destroy();
      else res.end(`answer ${n}`);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen: () => seen };
}

it('sends a request again on a new connection when a kept-alive one is reset before its answer', async () => {
  const upstream = await emulator((n) => n === 2);
  const call = upstreamCaller(upstream);
  expect((await call({}, '{}')).body.toString()).toBe('answer 1');
  // the second request goes out on the kept-alive connection, which is reset: sent again, first on a new one
  expect((await call({}, '{}')).body.toString()).toBe('answer 1');
  expect(upstream.seen()).toBe(3);
});

it('fails a request whose new connection is reset (not sent twice)', async () => {
  const upstream = await emulator(() => true);
  await expect(upstreamCaller(upstream)({}, '{}')).rejects.toThrow(/socket hang up|ECONNRESET/);
  expect(upstream.seen()).toBe(1);
});
