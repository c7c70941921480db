// Basic Ingest through the local broker, as AWS IoT Core does it, with the real device SDK over mutual TLS:
// `$aws/rules/metering/volttron/metering` reaches the metering rule only, no subscriber ever sees it, nobody may
// subscribe there, and inside the rule topic() is `volttron/metering`.
import { mqtt } from 'aws-iot-device-sdk-v2';
import mqttJs from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { errorSink, eventually, startTestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let ven1: ProvisionResult;
let ven2: ProvisionResult;

beforeAll(async () => {
  stack = await startTestStack();
  ven1 = await stack.provision('ven-001');
  ven2 = await stack.provision('ven-002');
});
afterAll(() => stack?.dispose());

const metering = (venId: string, timestamp: number) =>
  JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp });

describe('Basic Ingest ($aws/rules/metering/volttron/metering)', () => {
  it('stores metering through the metering rule, and no subscriber of volttron/metering receives it', async () => {
    const operator = await mqttJs.connectAsync(stack.config.wsUrl, {
      username: 'operator',
      password: stack.config.token,
      clientId: 'operator-basic-ingest',
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    const seen: string[] = [];
    operator.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()).timestamp));
    const device = await connectDevice(ven1, 'ven-001');
    try {
      await operator.subscribeAsync(topics.metering);
      await device.publish(topics.meteringBasicIngest, metering('ven-001', 1729700000));
      await device.publish(topics.metering, metering('ven-001', 1729700005));
      await stack.settle();
      const telemetry = await eventually(async () => {
        const res = await stack.api('/api/vens/ven-001/telemetry?start=1729699000&end=1729701000');
        return res.body?.items?.length === 2 && res.body.items;
      });
      expect(telemetry.map((r: { timestamp: string }) => r.timestamp)).toEqual([
        '2024-10-23T16:13:25.000Z',
        '2024-10-23T16:13:20.000Z',
      ]);
      await eventually(async () => seen.length >= 1);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([1729700005]);
      expect((await stack.api('/api/vens/ven-001')).body).toMatchObject({
        venId: 'ven-001',
        latest: { source: 'mqtt' },
      });
    } finally {
      await device.close();
      await operator.endAsync();
    }
  });

  it('stores a batched metering message (METERING_BATCH) sample by sample', async () => {
    const device = await connectDevice(ven1, 'ven-001');
    try {
      const batch = [1729800000, 1729800005, 1729800010].map((t) => JSON.parse(metering('ven-001', t)));
      await device.publish(topics.meteringBasicIngest, JSON.stringify({ venId: 'ven-001', batch }));
      await stack.settle();
      const items = await eventually(async () => {
        const res = await stack.api('/api/vens/ven-001/telemetry?start=1729799000&end=1729801000');
        return res.body?.items?.length === 3 && res.body.items;
      });
      expect(items.map((r: { usedPowerKw: number }) => r.usedPowerKw)).toEqual([8.2, 8.2, 8.2]);
      const circuits = await stack.api('/api/vens/ven-001/circuits/history?start=1729799000&end=1729801000');
      expect(circuits.body.items).toHaveLength(6);
    } finally {
      await device.close();
    }
  });

  it('lets no device or operator subscribe to $aws/rules/...', async () => {
    const device = await connectDevice(ven1, 'ven-001');
    const operator = await mqttJs.connectAsync(stack.config.wsUrl, {
      username: 'operator',
      password: stack.config.token,
      clientId: 'operator-basic-ingest',
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    try {
      expect((await device.subscribe(topics.meteringBasicIngest)).qos).toBe(128);
      expect((await device.subscribe('$aws/rules/#')).qos).toBe(128);
      await expect(operator.subscribeAsync(topics.meteringBasicIngest)).rejects.toThrow(/Subscribe error/);
    } finally {
      await device.close();
      await operator.endAsync().catch(() => undefined);
    }
  });

  it('runs the same identity check: metering naming another VEN is refused, and the rule saw topic() = volttron/metering', async () => {
    const device = await connectDevice(ven2, 'ven-002');
    try {
      await device.publish(topics.meteringBasicIngest, metering('ven-001', 1729700010));
      await stack.settle();
      const refusal = await eventually(async () =>
        (await errorSink(stack.config.errorsFile)).find(
          (e) => e.clientId === 'ven-002' && e.reason === 'identity-mismatch',
        ),
      );
      expect(refusal.topic).toBe(topics.metering);
    } finally {
      await device.close();
    }
  });

  it('refuses Basic Ingest to any other rule: the broker drops the connection and records it', async () => {
    const device = await connectDevice(ven2, 'ven-002');
    try {
      await device.publish(
        '$aws/rules/ack/ven/ack/ven-002',
        JSON.stringify({ op: 'ping', status: 'pong', ts: 1729700000, correlationId: 'c-1' }),
        mqtt.QoS.AtMostOnce,
      );
      await eventually(async () => device.interrupted());
      const refusals = (await errorSink(stack.config.errorsFile)).filter(
        (e) => e.clientId === 'ven-002' && e.reason === 'not-authorized',
      );
      expect(refusals.map((e) => e.topic)).toContain('$aws/rules/ack/ven/ack/ven-002');
    } finally {
      await device.close();
    }
  });
});
