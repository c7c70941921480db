// The rule proxies' call to the emulator behind them: a kept-alive socket the emulator drops as idle, just as a request
// goes out on it, must not fail the caller's call (it surfaced as a 500 "socket hang up" in the dashboard's tests).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { upstreamCaller } from '../../bin/local/aws/proxy-http.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

it('sends a request again when the kept-alive socket it went out on is reset before any answer', async () => {
  const seen: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(body);
      // the second request on the first socket meets it closing, as an idle timeout would close it
      if (body === 'second' && seen.filter((b) => b === 'second').length === 1) {
        req.socket.destroy();
        return;
      }
      res.end(`ok ${body}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const call = upstreamCaller({ port: (server.address() as AddressInfo).port });

  expect((await call({}, 'first')).body.toString()).toBe('ok first');
  const again = await call({}, 'second'); // on the kept-alive socket of the first
  expect(again).toMatchObject({ status: 200 });
  expect(again.body.toString()).toBe('ok second');
  expect(seen).toEqual(['first', 'second', 'second']);
});

it('does not send again when a fresh socket is reset: the caller gets the error', async () => {
  server = createServer((req) => req.socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const call = upstreamCaller({ port: (server.address() as AddressInfo).port });
  await expect(call({}, 'once')).rejects.toThrow(/socket hang up|ECONNRESET/);
});
