// Child process: a load generator. Many MQTT connections (mqtt.js, mutual TLS, one certificate and client id per
// VEN) publish the agent's metering payload at QoS 1 at a stepped total rate; every message has its own (venId,
// timestamp), and its publish time goes back to the parent over IPC so it can time publish→stored.
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { PanelModel, defaultPanel } from '../device/panel.js';
import { rngFor } from '../device/random.js';

export interface LoadStart {
  readonly type: 'start';
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  readonly topic: string;
  readonly devices: { thingName: string; certFile: string; keyFile: string }[];
}

const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

/** The agent's payload after `"timestamp":<n>`: every message shares it, with its own venId and timestamp. */
function payloadTail(): string {
  const panel = new PanelModel(defaultPanel, rngFor('load'));
  panel.step();
  const full = JSON.stringify(panel.metering('ven-x', 1729700000000));
  return full.slice(full.indexOf(',', full.indexOf('"timestamp"')));
}

let clients: { id: string; client: MqttClient; next: number }[] = [];
let topic = '';
const tail = payloadTail();
let pending: [string, number, number][] = [];
let published = 0;
let failed = 0;

async function connectAll(start: LoadStart) {
  topic = start.topic;
  const ca = readFileSync(start.caFile);
  const base = Math.floor(Date.now() / 1000) - 7 * 86_400;
  const connectOne = async (d: LoadStart['devices'][number]) => {
    const client = await mqtt.connectAsync({
      host: start.host,
      port: start.port,
      protocol: 'mqtts',
      protocolVersion: 4,
      clientId: d.thingName,
      clean: true,
      reconnectPeriod: 0,
      keepalive: 60,
      ca,
      cert: readFileSync(d.certFile),
      key: readFileSync(d.keyFile),
      rejectUnauthorized: true,
    });
    client.on('error', () => void failed++);
    return { id: d.thingName, client, next: base };
  };
  const result: typeof clients = [];
  for (let i = 0; i < start.devices.length; i += 10) {
    result.push(...(await Promise.all(start.devices.slice(i, i + 10).map(connectOne))));
  }
  clients = result;
}

function publishOne(i: number) {
  const c = clients[i % clients.length]!;
  const ts = c.next++;
  pending.push([c.id, ts, now()]);
  published++;
  c.client.publish(topic, `{"venId":"${c.id}","timestamp":${ts}${tail}`, { qos: 1 }, (err) => {
    if (err) failed++;
  });
}

/** Publishes `rate` msg/s in total for `seconds`, evenly in 5 ms slots, round-robin over the connections. */
async function step(rate: number, seconds: number) {
  const started = now();
  let sent = 0;
  let rr = 0;
  const report = setInterval(() => {
    send({ type: 'tick', metering: pending, published, failed });
    pending = [];
  }, 250);
  await new Promise<void>((resolve) => {
    const slot = setInterval(() => {
      const elapsed = (now() - started) / 1000;
      const due = Math.min(rate * seconds, Math.floor(rate * elapsed));
      while (sent < due) {
        publishOne(rr++);
        sent++;
      }
      if (elapsed >= seconds) {
        clearInterval(slot);
        resolve();
      }
    }, 5);
  });
  clearInterval(report);
  send({ type: 'tick', metering: pending, published, failed });
  pending = [];
  send({ type: 'stepped', rate, sent, seconds: (now() - started) / 1000 });
}

process.on('message', (raw) => {
  const m = raw as { type: string; rate?: number; seconds?: number };
  if (m.type === 'start') {
    const started = now();
    connectAll(m as unknown as LoadStart).then(
      () => send({ type: 'connected', connections: clients.length, ms: now() - started }),
      (error: unknown) => send({ type: 'failed', error: String(error) }),
    );
  } else if (m.type === 'rate') {
    void step(m.rate!, m.seconds!);
  } else if (m.type === 'stop') {
    void Promise.all(clients.map((c) => c.client.endAsync().catch(() => undefined))).then(() => process.exit(0));
  }
});

process.on('SIGTERM', () => process.exit(0));
