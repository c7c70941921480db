// The local status page: `/` (HTML, refreshes itself) and `/status.json` for one agent or a whole fleet.
// Bound to 127.0.0.1 unless told otherwise: it shows device state to whoever can reach it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviceStatus } from './runtime.js';

export interface StatusSnapshot {
  readonly startedAt: string;
  readonly uptimeSec: number;
  readonly devices: readonly DeviceStatus[];
  readonly totals: {
    readonly devices: number;
    readonly online: number;
    readonly bufferDepth: number;
    readonly dropped: number;
  };
}

export interface StatusServer {
  readonly url: string;
  close(): Promise<void>;
}

export function snapshot(devices: readonly DeviceStatus[], startedAtMs: number, nowMs = Date.now()): StatusSnapshot {
  return {
    startedAt: new Date(startedAtMs).toISOString(),
    uptimeSec: Math.floor((nowMs - startedAtMs) / 1000),
    devices,
    totals: {
      devices: devices.length,
      online: devices.filter((d) => d.connection.state === 'online').length,
      bufferDepth: devices.reduce((s, d) => s + d.outbox.bufferDepth, 0),
      dropped: devices.reduce((s, d) => s + d.outbox.dropped, 0),
    },
  };
}

export async function startStatusServer(port: number, host: string, read: () => StatusSnapshot): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/status.json') {
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(read()));
    } else if (path === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(renderHtml(read()));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const escape = (v: unknown): string =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderHtml(s: StatusSnapshot): string {
  const rows = s.devices
    .map(
      (
        d,
      ) => `<tr><td>${escape(d.thingName)}</td><td>${escape(d.mode)}</td><td class="${escape(d.connection.state)}">${escape(d.connection.state)}</td>
<td>${escape(d.connection.endpoint)}</td><td>${d.outbox.bufferDepth}</td><td>${d.outbox.dropped}</td><td>${d.outbox.sent}</td>
<td>${escape(d.connection.lastError ?? '')}</td><td><code>${escape(JSON.stringify(d.state))}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>VPP device agent</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.online{color:#080}.offline,.closed{color:#b00}.connecting,.idle{color:#a60}code{font-size:.8rem;white-space:pre-wrap;word-break:break-all}</style></head>
<body><h1>VPP device agent</h1>
<p>Up since ${escape(s.startedAt)} (${s.uptimeSec} s). Devices: ${s.totals.devices}, online: ${s.totals.online},
buffered messages: ${s.totals.bufferDepth}, dropped by the buffer bound: ${s.totals.dropped}. <a href="/status.json">status.json</a></p>
<table><thead><tr><th>thing</th><th>mode</th><th>connection</th><th>endpoint</th><th>buffered</th><th>dropped</th><th>sent</th><th>last error</th><th>state</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
