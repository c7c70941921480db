// 3. Commands end to end: POST /api/vens/{id}/send-event and POST /dispatch → the device's ACK recorded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { FleetDeviceSpec } from '../device/fleet.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import {
  apiCaller,
  now,
  ROOT,
  sleep,
  startChild,
  startTimedStack,
  type BenchContext,
  type StoreTimer,
} from './harness.js';
import { atMost, int, ms, summarize, type BenchResult, type Summary } from './stats.js';

const VENS = 100;
const GATEWAY = 'gw-site-gt';
const SITE = 'site-gt';
const ASSET = 'gt-bess-a';
const ROUNDS = 3;
const DISPATCHES = 200;
const WARMUP = 10;

const PLAIN_CLIENT_EVENTS = 50;

const venName = (i: number) => `ven-${String(i).padStart(5, '0')}`;

/** A VEN on mqtt.js that registers with one metering message and ACKs every event command at once. */
async function plainDevice(port: number, caFile: string, venId: string, cert: { certFile: string; keyFile: string }) {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    protocol: 'mqtts',
    protocolVersion: 4,
    clientId: venId,
    reconnectPeriod: 0,
    ca: readFileSync(caFile),
    cert: readFileSync(cert.certFile),
    key: readFileSync(cert.keyFile),
  });
  await client.subscribeAsync(topics.command(venId), { qos: 1 });
  client.on('message', (_topic, payload) => {
    const c = JSON.parse(payload.toString()) as { event_id: string; shed_kw: number; correlationId: string };
    const ack = {
      op: 'event',
      status: 'accepted',
      event_id: c.event_id,
      requested_shed_kw: c.shed_kw,
      actual_shed_kw: c.shed_kw,
      circuits_curtailed: [],
      ts: Math.floor(Date.now() / 1000),
      correlationId: c.correlationId,
    };
    client.publish(topics.ack(venId), JSON.stringify(ack), { qos: 1 });
  });
  const metering = {
    venId,
    timestamp: Math.floor(Date.now() / 1000),
    usedPowerKw: 5,
    circuits: [{ id: 'c1', currentKw: 5, enabled: true }],
  };
  await client.publishAsync(topics.metering, JSON.stringify(metering), { qos: 1 });
  return client;
}

/** Resolves when the ACK for `correlationId` has been recorded (the ack handler completed the command). */
function ackOf(timer: StoreTimer, correlationId: string, timeoutMs = 10_000): Promise<number> {
  const done = timer.acked.get(correlationId);
  if (done !== undefined) return Promise.resolve(done);
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`no ACK for ${correlationId} in ${timeoutMs} ms`)), timeoutMs);
    const previous = timer.onAcked;
    waiting.set(correlationId, (t) => {
      clearTimeout(timeout);
      resolve(t);
    });
    if (!previous) timer.onAcked = (id, t) => waiting.get(id)?.(t);
  });
}
const waiting = new Map<string, (t: number) => void>();

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  waiting.clear();
  const plainVen = venName(VENS);
  const names = [...Array.from({ length: VENS }, (_, i) => venName(i)), GATEWAY, plainVen];
  const certs = await ctx.issue(names);
  const { stack, timer } = await startTimedStack(ctx);
  const api = apiCaller(stack.config);

  const devices: FleetDeviceSpec[] = names
    .filter((n) => n !== plainVen)
    .map((thingName) => ({
      mode: thingName === GATEWAY ? 'gateway' : 'ven',
      thingName,
      ...certs.get(thingName)!,
      ...(thingName === GATEWAY && { inventoryFile: join(ROOT, 'device', 'inventory.example.yaml') }),
    }));
  const fleet = startChild(ctx, 'bench/fleet-child.ts');
  fleet.send({
    type: 'start',
    host: '127.0.0.1',
    port: stack.config.mqtt.port,
    caFile: ctx.ca.caFile,
    dataDir: join(ctx.dir, 'fleet-data', 'dispatch'),
    devices,
  });
  const up = await fleet.next<{ type: string; connected: number; error?: string }>(
    (m) => m.type === 'started' || m.type === 'failed',
    120_000,
  );
  if (up.type === 'failed') throw new Error(`fleet: ${up.error}`);
  ctx.log(`  ${up.connected}/${devices.length} devices connected; waiting for every VEN's first metering`);
  for (let i = 0; i < 100; i++) {
    const vens = await api(`/api/vens?limit=1000`);
    if ((vens.items as unknown[]).length >= VENS) break;
    await sleep(250);
  }

  /** One command: POST, then the time until its ACK is recorded; also the POST's own response time. */
  const timed = async (path: string, body: unknown) => {
    const t0 = now();
    const res = await api(path, body);
    const t1 = now();
    const acked = await ackOf(timer, res.correlationId as string);
    return { ack: acked - t0, response: t1 - t0, correlationId: res.correlationId as string };
  };

  for (let i = 0; i < WARMUP; i++)
    await timed(`/api/vens/${venName(i)}/send-event`, { shed_kw: 1, duration_sec: 3600 });
  const sendEvent = { ack: [] as number[], response: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < VENS; i++) {
      const r = await timed(`/api/vens/${venName(i)}/send-event`, { shed_kw: 1 + round, duration_sec: 3600 });
      sendEvent.ack.push(r.ack);
      sendEvent.response.push(r.response);
    }
  }
  const dispatch = { ack: [] as number[], response: [] as number[] };
  let last = '';
  for (let i = 0; i < DISPATCHES; i++) {
    const body = i % 4 === 3 ? { asset_id: ASSET, mw: i % 8 < 4 ? 2 : -2 } : { site_id: SITE, mw: (i % 10) - 5 };
    const r = await timed('/dispatch', body);
    dispatch.ack.push(r.ack);
    dispatch.response.push(r.response);
    last = r.correlationId;
  }
  const lastView = await api(`/api/dispatch/${last}`);

  // A fleet-wide burst: one send-event to every VEN at once.
  const burstStart = now();
  const burst = await Promise.all(
    Array.from({ length: VENS }, (_, i) =>
      timed(`/api/vens/${venName(i)}/send-event`, { shed_kw: 1, duration_sec: 3600 }),
    ),
  );
  const burstAll = now() - burstStart;

  // The same send-event path with a minimal device on mqtt.js instead of aws-iot-device-sdk-v2: the client's share.
  const plain = await plainDevice(stack.config.mqtt.port, ctx.ca.caFile, plainVen, certs.get(plainVen)!);
  await sleep(300);
  const plainAck: number[] = [];
  for (let i = 0; i < PLAIN_CLIENT_EVENTS; i++)
    plainAck.push((await timed(`/api/vens/${plainVen}/send-event`, { shed_kw: 1, duration_sec: 3600 })).ack);
  await plain.endAsync();

  fleet.send({ type: 'stop' });
  await fleet.next((m) => m.type === 'stopped', 60_000).catch(() => undefined);
  await fleet.stop();
  await stack.close();

  const s = {
    plainClient: summarize(plainAck),
    sendEvent: summarize(sendEvent.ack),
    sendEventResponse: summarize(sendEvent.response),
    dispatch: summarize(dispatch.ack),
    dispatchResponse: summarize(dispatch.response),
    burst: summarize(burst.map((b) => b.ack)),
  };
  const lat = (x: Summary) => `p50 ${ms(x.p50)}, p99 ${ms(x.p99)}, max ${ms(x.max)} (n = ${int(x.n)})`;
  return {
    id: 'dispatch',
    title: '3. Dispatch and events: API call → device ACK recorded',
    method:
      `A local stack (bench process) and, in a child process, ${VENS} simulated VENs plus the site-gt gateway (device/fleet.ts, metering ` +
      'every 5 s as background load). One command at a time: t0 just before the HTTP request; done when the ACK handler has completed ' +
      "the command in the command log (taken by wrapping the stack's ingest ports, i.e. the same moment `GET /api/commands/{correlationId}` " +
      `would first show \`acked\`). send-event: ${ROUNDS} rounds over the ${VENS} VENs (a new event replaces the active one), after ` +
      `${WARMUP} warm-up calls. dispatch: ${DISPATCHES} calls, three in four to the site (split over its BESS), one in four to one asset. ` +
      `Then a burst: one send-event to each of the ${VENS} VENs at once. Path: HTTP API (SigV4-free dev token) → command log write → ` +
      'IoT data-plane Publish (the real SDK client against the local data plane) → broker → device (aws-iot-device-sdk-v2) → ACK → ack rule ' +
      '→ event history and command log.',
    figures: { ...s, burstAllMs: burstAll, lastDispatch: lastView },
    rows: [
      ['send-event → ACK recorded', lat(s.sendEvent)],
      ['send-event HTTP response (command stored and published)', lat(s.sendEventResponse)],
      ['dispatch → ACK recorded', lat(s.dispatch)],
      ['dispatch HTTP response', lat(s.dispatchResponse)],
      [`burst of ${VENS} concurrent send-events → each ACK`, `${lat(s.burst)}; all ${VENS} in ${ms(burstAll)}`],
      ['send-event → ACK recorded, device on mqtt.js instead of the device SDK', lat(s.plainClient)],
      ['last dispatch as GET /api/dispatch/{id} reports it', String(lastView.status)],
    ],
    goals: [
      atMost('send-event → ACK p50', s.sendEvent.p50, 20, 'ms'),
      atMost('send-event → ACK p99', s.sendEvent.p99, 100, 'ms'),
      atMost('dispatch → ACK p50', s.dispatch.p50, 20, 'ms'),
      atMost('dispatch → ACK p99', s.dispatch.p99, 100, 'ms'),
    ],
    notes: [
      `The HTTP call itself (command log write, IoT data-plane Publish through the real SDK client) takes p50 ${ms(s.sendEventResponse.p50)}; the ` +
        `rest is the device and the ACK rule (event history and command log writes on dynalite). A device on mqtt.js answering the same ` +
        `commands brings send-event → ACK to p50 ${ms(s.plainClient.p50)} against ${ms(s.sendEvent.p50)} with the agent on ` +
        "aws-iot-device-sdk-v2. The gap is Nagle's algorithm in the device SDK: aws-crt never sets TCP_NODELAY on its socket (strace of " +
        'the agent: socket, SO_REUSEADDR, connect, no other option; 1.33.1, pinned by aws-iot-device-sdk-v2 1.28.0, and 1.33.2 alike), so ' +
        'the ACK, written right after the PUBACK the SDK sends for the QoS 1 command, waits until that PUBACK is acknowledged, which the ' +
        'receiving kernel delays up to 40 ms (delayed ACK). Measured on its own: device publish → broker 50 ms after a QoS 1 command, 6 ms ' +
        "when the command subscription is QoS 0 (no PUBACK), whatever the ACK's own QoS. The agent keeps QoS 1: its persistent session " +
        'holds commands sent while it is offline. aws-c-io gained a TCP_NODELAY socket option in July 2026 (awslabs/aws-c-io#816; the ' +
        'Java and C++ bindings turn it on by default): device/connection.ts should set it once aws-crt for Node exposes it. The broker ' +
        'sets TCP_NODELAY on its own sockets (before it did, this bench measured dispatch → ACK p50 88 ms on this machine).',
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
