// A live-feed client that stops reading its socket holds nothing broker-wide: a viewer subscribed at QoS 1 to a busy
// topic, whose TCP socket is paused, while a device floods that topic with 100 KB QoS 1 messages. Device commands
// still arrive, another live-feed client keeps receiving, memory stays bounded, the paused client is dropped, the
// stack survives its leaving, and /health stays 200 (deliveries never stall).
import mqtt from 'mqtt';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { createWebSocketStream } from 'ws';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

const VEN = 'ven-bp';
const FLOODER = 'ven-flood';
const PAYLOAD = JSON.stringify({ venId: FLOODER, pad: 'x'.repeat(100 * 1024) });

let stack: TestStack;
let ven: TestDevice;
let flooder: TestDevice;
const lines: { at: number; line: string }[] = [];

beforeAll(async () => {
  stack = await startTestStack({ log: (line) => lines.push({ at: performance.now(), line }) });
  ven = await connectDevice(await stack.provision(VEN), VEN);
  await ven.subscribe(topics.command(VEN));
  await ven.publish(
    topics.metering,
    JSON.stringify({ ...fixture('volttron-metering'), venId: VEN, timestamp: Math.floor(Date.now() / 1000) }),
  );
  await eventually(async () => (await stack.api(`/api/vens/${VEN}`)).status === 200);
  flooder = await connectDevice(await stack.provision(FLOODER), FLOODER);
});

afterAll(async () => {
  await flooder?.close();
  await ven?.close();
  await stack?.dispose();
});

/** A live-feed client (mqtt.js over `ws`) holding the viewer token, with its TCP socket at hand to pause. */
async function liveFeed(clientId: string) {
  let socket: Socket | undefined;
  const ws = new WebSocket(stack.config.wsUrl, 'mqtt');
  ws.on('upgrade', (res) => (socket = res.socket as Socket));
  const client = new mqtt.MqttClient(() => createWebSocketStream(ws) as never, {
    clientId,
    username: 'viewer',
    password: stack.config.tokens.viewer,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  let closed = false;
  client.on('close', () => (closed = true));
  client.on('error', () => undefined);
  await client.subscribeAsync('ven/telemetry/+', { qos: 1 });
  const arrivals: number[] = [];
  client.on('message', () => arrivals.push(performance.now()));
  return { client, socket: () => socket!, arrivals, closed: () => closed };
}

/** The device floods its own telemetry topic, 16 QoS 1 publishes in flight, until stopped. */
function flood() {
  let running = true;
  let acked = 0;
  const lanes = Array.from({ length: 16 }, async () => {
    while (running) {
      await flooder.publish(topics.telemetry(FLOODER), PAYLOAD).then(
        () => acked++,
        () => undefined,
      );
    }
  });
  return {
    acked: () => acked,
    async stop() {
      running = false;
      await Promise.race([Promise.all(lanes), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

/** From the API call to the command on the device agent's connection, in ms. */
async function commandLatency(): Promise<number> {
  const started = performance.now();
  const res = await stack.api(`/api/vens/${VEN}/send-event`, {
    method: 'POST',
    body: JSON.stringify({ shed_kw: 1, duration_sec: 60 }),
  });
  if (res.status !== 202)
    throw new Error(
      `send-event answered ${res.status} after ${Math.round(performance.now() - started)} ms: ${JSON.stringify(res.body)}`,
    );
  await eventually(
    () => ven.received.some((m) => m.topic === topics.command(VEN) && m.payload.includes(res.body.correlationId)),
    20_000,
  );
  return performance.now() - started;
}

const health = async () => (await fetch(`${stack.config.apiUrl}/health`)).status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
/** The longest silence between arrivals in [from, to], the window's edges included. */
const longestGap = (arrivals: number[], from: number, to: number) => {
  const inside = [from, ...arrivals.filter((t) => t > from && t < to), to];
  return Math.max(...inside.slice(1).map((t, i) => t - inside[i]!));
};

describe('a live-feed client that stops reading', () => {
  it('holds nothing broker-wide, is dropped, and its leaving takes nothing down', { timeout: 60_000 }, async () => {
    const observer = await liveFeed('operator-observer');
    const load = flood();
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb()), 100);
    try {
      // with the flood and no paused client: the control
      await sleep(1500);
      const calm = [await commandLatency(), await commandLatency()];
      const rssBefore = Math.max(...samples);

      // two viewers subscribe at QoS 1 to the flooded topic, then stop reading: their TCP windows fill
      const paused = [await liveFeed('operator-paused-1'), await liveFeed('operator-paused-2')];
      for (const p of paused) p.socket().pause();
      const pausedAt = performance.now();
      const healthDuring: number[] = [];
      const healthSampler = setInterval(
        () =>
          void health().then(
            (s) => healthDuring.push(s),
            () => healthDuring.push(0),
          ),
        250,
      );
      const slow: number[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          slow.push(await commandLatency());
          await sleep(1000);
        }
      } finally {
        clearInterval(healthSampler);
      }
      const pausedWindowEnd = performance.now();
      const dropped = ['operator-paused-1', 'operator-paused-2'].map((id) =>
        lines.find((l) => l.line.includes(id) && /slow client/.test(l.line)),
      );
      const rssDuring = Math.max(...samples.slice(-Math.ceil((pausedWindowEnd - pausedAt) / 100)));
      const ackedDuring = load.acked();
      console.log(
        `command latency ms: calm ${calm.map(Math.round)}, paused subscribers ${slow.map(Math.round)}; ` +
          `rss MB: before ${Math.round(rssBefore)}, during ${Math.round(rssDuring)}; flood acked ${ackedDuring}; ` +
          `dropped after ms ${dropped.map((l) => l && Math.round(l.at - pausedAt))}; ` +
          `other feed's longest gap ms ${Math.round(longestGap(observer.arrivals, pausedAt, pausedWindowEnd))}; health ${healthDuring}`,
      );

      // (a) commands arrive within a bound while the paused clients are there
      expect(Math.max(...slow)).toBeLessThan(5000);
      // (b) the other live-feed client kept receiving the flood throughout
      expect(longestGap(observer.arrivals, pausedAt, pausedWindowEnd)).toBeLessThan(2000);
      // (c) memory stays bounded: each paused client may hold its outgoing bound, not the flood
      expect(rssDuring - rssBefore).toBeLessThan(200);
      // (d) the broker dropped the paused clients, naming them
      expect(dropped.every((l) => l !== undefined)).toBe(true);
      // (f) deliveries never stalled, so /health said 200 throughout
      expect(healthDuring.length).toBeGreaterThan(5);
      expect(healthDuring.every((s) => s === 200)).toBe(true);

      // (e) the slow clients leave: they read what the kernel held, see the broker's close, and the stack goes on
      await load.stop();
      for (const p of paused) p.socket().resume();
      await eventually(() => paused.every((p) => p.closed()), 10_000);
      const after = await commandLatency();
      expect(after).toBeLessThan(5000);
      expect(await health()).toBe(200);
      const before = observer.arrivals.length;
      await flooder.publish(topics.telemetry(FLOODER), '{"after":true}');
      await eventually(() => observer.arrivals.length > before);
    } finally {
      clearInterval(sampler);
      console.log(
        `rss MB: first ${Math.round(samples[0] ?? 0)}, highest ${Math.round(Math.max(...samples))}; flood acked ${load.acked()}`,
      );
      await load.stop();
      await observer.client.endAsync(true);
    }
  });
});
