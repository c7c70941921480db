// The broker restarted under real agents (the device agent on aws-iot-device-sdk-v2, mutual TLS) while they meter:
// each agent buffers on disk what it cannot send and replays it when the broker is back. Counted end to end: every
// sample produced is stored, once (the QoS 1 resends the restart causes are absorbed by the idempotent store).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type Agent } from '../../device/agent.js';
import { loadConfig } from '../../device/config.js';
import { memoryLog } from '../../device/log.js';
import type { VenDevice } from '../../device/ven-device.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, startTestStack, type TestStack } from './helpers.js';

const VENS = ['ven-r1', 'ven-r2', 'ven-r3'];
let stack: TestStack;
/** Metering samples (by VEN and time) the store was handed, repeats included. */
const written: string[] = [];
const agents: Agent[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    instrumentPorts: (ports) => ({
      ...ports,
      telemetry: {
        ...ports.telemetry,
        write: async (records) => {
          for (const r of records) if (r.series === 'ven_telemetry') written.push(`${r.deviceId}@${r.time}`);
          return ports.telemetry.write(records);
        },
      },
    }),
  });
});
afterAll(async () => {
  for (const a of agents) await a.stop();
  await stack?.dispose();
});

async function startVen(thing: string): Promise<{ agent: Agent; produced: number[] }> {
  const files = await stack.provision(thing);
  const config = loadConfig(
    [
      '--mode',
      'ven',
      '--profile',
      'volttron',
      '--interval-sec',
      '1',
      '--web-port',
      '0',
      '--reconnect-max-sec',
      '1',
      '--data-dir',
      join(stack.dir, 'agents', thing),
    ],
    {
      IOT_ENDPOINT: files.endpoint,
      IOT_PORT: String(files.port),
      CLIENT_ID: thing,
      CERT_FILE: files.certFile,
      KEY_FILE: files.keyFile,
      CA_FILE: files.caFile,
    },
  );
  if (!config.ok) throw new Error(config.errors.join('; '));
  const agent = await startAgent(config.config, { log: memoryLog(), flushTimeoutMs: 5000 });
  agents.push(agent);
  const produced: number[] = [];
  const outbox = (agent.device as VenDevice).runtime.outbox;
  const send = outbox.sendDurable.bind(outbox);
  vi.spyOn(outbox, 'sendDurable').mockImplementation((topic, payload, qos) => {
    if (topic === topics.metering) produced.push((JSON.parse(payload) as { timestamp: number }).timestamp);
    send(topic, payload, qos);
  });
  return { agent, produced };
}

const storedTimes = async (venId: string) =>
  (
    (await stack.api(`/api/vens/${venId}/telemetry?start=${Math.floor(Date.now() / 1000) - 600}&limit=1000`)).body
      .items as { timestamp: string }[]
  )
    .map((s) => Date.parse(s.timestamp) / 1000)
    .sort((a, b) => a - b);

describe('broker restart with agents replaying', () => {
  it(
    'stores every sample the agents produced across the restart: 0 lost, resends stored once',
    { timeout: 90_000 },
    async () => {
      const vens = await Promise.all(VENS.map(startVen));
      await eventually(async () => (await Promise.all(VENS.map(storedTimes))).every((t) => t.length >= 2), 20_000);

      await stack.parts.broker.stop();
      // the agents keep metering into their offline buffers
      await eventually(() => vens.every((v) => v.agent.status().devices[0]!.outbox.bufferDepth >= 4), 15_000);
      await stack.parts.broker.start();
      await eventually(
        () =>
          vens.every(
            (v) =>
              v.agent.status().devices[0]!.outbox.bufferDepth === 0 &&
              (v.agent.device as VenDevice).runtime.connection.isOnline,
          ),
        30_000,
      );

      for (const v of vens) await v.agent.stop(); // flushes what is left
      await stack.settle();
      const read = () =>
        Promise.all(
          vens.map(async (v, i) => {
            const sent = [...new Set(v.produced)].sort((a, b) => a - b); // two samples of one second share a key
            return { ven: VENS[i], sent, stored: await storedTimes(VENS[i]!) };
          }),
        );
      // the listing is eventually consistent, in AWS too: wait for every sent sample to show, then hold it to them
      const report = await eventually(async () => {
        const r = await read();
        return r.every(({ sent, stored }) => sent.every((t) => stored.includes(t))) && r;
      }, 10_000).catch(read);
      for (const { sent, stored } of report) {
        expect(sent.length).toBeGreaterThanOrEqual(5);
        // the sample sent on connect, before the count began, is stored too
        expect(stored.length - stored.filter((t) => t >= sent[0]!).length).toBeLessThanOrEqual(1);
        expect(stored.filter((t) => t >= sent[0]!)).toEqual(sent);
      }
      const handed = written.length;
      const stored = report.reduce((n, r) => n + r.stored.length, 0);
      expect(handed).toBeGreaterThanOrEqual(stored);
      console.log(
        `broker restart: ${report.map((r) => `${r.ven} sent ${r.sent.length} stored ${r.stored.length}`).join(', ')}; the store was handed ${handed} samples`,
      );
    },
  );
});
