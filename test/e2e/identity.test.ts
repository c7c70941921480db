// Identity = certificate, and bad input never reaches the stores: proven over mutual TLS with the real device SDK.
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture, fixtureText } from '../fixture.js';
import { errorSink, eventually, startTestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let ven1: ProvisionResult;

beforeAll(async () => {
  stack = await startTestStack();
  ven1 = await stack.provision('ven-001');
  await stack.provision('ven-002');
});
afterAll(() => stack?.dispose());

const reasons = async (clientId: string) =>
  (await errorSink(stack.config.errorsFile)).filter((e) => e.clientId === clientId).map((e) => e.reason);

describe('a device certificate for ven-001', () => {
  it('cannot connect as ven-002, nor knock the real ven-002 off', async () => {
    const real = await connectDevice(await stack.provision('ven-002'), 'ven-002');
    try {
      await real.publish(
        topics.metering,
        JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-002', timestamp: Math.floor(Date.now() / 1000) }),
      );
      await eventually(async () => (await stack.api('/api/vens/ven-002')).body?.online === true);
      await expect(connectDevice(ven1, 'ven-002')).rejects.toThrow(/Failed to connect/);
      await new Promise((r) => setTimeout(r, 300));
      await stack.settle();
      // a session taken over would have dropped the real device and recorded its disconnect
      expect(real.interrupted()).toBe(false);
      expect((await stack.api('/api/vens/ven-002')).body).toMatchObject({ online: true });
    } finally {
      await real.close();
    }
  });

  it('cannot publish to ven/ack/ven-002: the broker drops the connection and records the refusal', async () => {
    // ven-002 exists (it reported), so an ACK stored for it would show in its event history
    const own = { ...fixture('volttron-metering'), venId: 'ven-002', timestamp: 1729700100 };
    stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify(own)), 'ven-002');
    await stack.settle();
    const device = await connectDevice(ven1, 'ven-001');
    try {
      await device.publish(topics.ack('ven-002'), fixtureText('volttron-event-ack'), mqtt.QoS.AtMostOnce);
      await eventually(async () => device.interrupted());
      await eventually(async () => (await reasons('ven-001')).includes('not-authorized'));
      await stack.settle();
      const events = await stack.api('/api/vens/ven-002/events?start=2024-10-23T00:00:00Z&end=2024-10-24T23:59:59Z');
      expect(events).toMatchObject({ status: 200, body: { items: [] } });
    } finally {
      await device.close();
    }
  });

  it('cannot subscribe to ven/cmd/ven-002 and receives nothing sent there', async () => {
    const device = await connectDevice(ven1, 'ven-001');
    try {
      const suback = await device.subscribe(topics.command('ven-002'));
      expect(suback.qos).toBe(128);
      const wildcard = await device.subscribe('ven/cmd/+');
      expect(wildcard.qos).toBe(128);
      await stack.publish(topics.command('ven-002'), fixtureText('volttron-ping-command'));
      await new Promise((r) => setTimeout(r, 300));
      expect(device.received).toEqual([]);
    } finally {
      await device.close();
    }
  });

  it('cannot write metering for ven-002: the rule handler refuses it to the error sink', async () => {
    const device = await connectDevice(ven1, 'ven-001');
    try {
      await device.publish(topics.metering, JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-002' }));
      await eventually(async () => (await reasons('ven-001')).includes('identity-mismatch'));
      await stack.settle();
      const stored = await stack.api('/api/vens/ven-002/telemetry?start=2024-10-23T00:00:00Z&end=2024-10-24T00:00:00Z');
      expect(stored.body.items.map((i: { timestamp: string }) => i.timestamp)).toEqual(['2024-10-23T16:15:00.000Z']); // its own only
    } finally {
      await device.close();
    }
  });
});

describe('a device speaking for another', () => {
  it("cannot report a Winter River status for another node: node_id must be the topic's", async () => {
    const node = await connectDevice(await stack.provision('pdu_x'), 'pdu_x');
    try {
      await node.publish(
        topics.winterRiverStatus('pdu_x'),
        JSON.stringify({ ...fixture('winter-river-status'), node_id: 'pdu_y' }),
      );
      await eventually(async () => (await reasons('pdu_x')).includes('identity-mismatch'));
      await stack.settle();
      const nodes = (await stack.api('/api/winter-river/nodes')).body.items as { nodeId: string }[];
      expect(nodes.map((n) => n.nodeId)).not.toContain('pdu_y');
    } finally {
      await node.close();
    }
  });

  it("cannot complete another device's command by reusing its correlationId", async () => {
    stack.deliverToRules(
      topics.metering,
      Buffer.from(
        JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-002', timestamp: Math.floor(Date.now() / 1000) }),
      ),
      'ven-002',
    );
    await stack.settle();
    const sent = await stack.api('/api/vens/ven-002/send-event', {
      method: 'POST',
      body: JSON.stringify({ shed_kw: 1, duration_sec: 60 }),
    });
    expect(sent.status).toBe(202);
    const device = await connectDevice(ven1, 'ven-001');
    try {
      const ack = {
        ...fixture('volttron-event-ack'),
        correlationId: sent.body.correlationId,
        ts: Math.floor(Date.now() / 1000),
      };
      await device.publish(topics.ack('ven-001'), JSON.stringify(ack));
      await stack.settle();
      expect((await stack.api(`/api/commands/${sent.body.correlationId}`)).body).toMatchObject({
        status: 'sent',
        target: 'ven-002',
        ack: null,
      });
    } finally {
      await device.close();
    }
  });
});

describe('bad input', () => {
  it('goes to the error sink with its reason and never stops the messages after it', async () => {
    const device = await connectDevice(ven1, 'ven-001');
    try {
      const good = fixture('volttron-metering');
      await device.publish(topics.metering, '{"venId": "ven-001", "usedPowerKw": ');
      await device.publish(topics.metering, JSON.stringify({ ...good, usedPowerKw: 'a lot' }));
      await device.publish(topics.ack('ven-001'), JSON.stringify({ op: 'event', status: 'accepted' }));
      await device.publish(topics.metering, JSON.stringify({ ...good, timestamp: 1729700005, usedPowerKw: 7.5 }));
      await stack.settle();
      await eventually(
        async () =>
          (await reasons('ven-001')).filter((r) => r !== 'identity-mismatch' && r !== 'not-authorized').length >= 3,
      );
      const sink = (await errorSink(stack.config.errorsFile)).filter((e) => e.clientId === 'ven-001');
      // (an oversized payload drops the connection at the broker, as AWS IoT: broker-hardening.test.ts)
      expect(sink.map((e) => e.reason)).toEqual(expect.arrayContaining(['malformed-json', 'schema']));
      expect(sink.find((e) => e.reason === 'schema' && e.topic === topics.metering)?.message).toMatch(/^usedPowerKw:/);
      expect(sink.find((e) => e.reason === 'schema' && e.topic === topics.ack('ven-001'))?.message).toMatch(
        /^event_id:/,
      );

      const telemetry = await eventually(async () => {
        const res = await stack.api('/api/vens/ven-001/telemetry?start=1729690000&end=1729710000');
        return res.body.items.length > 0 && res.body.items;
      });
      expect(telemetry).toEqual([expect.objectContaining({ usedPowerKw: 7.5, timestamp: '2024-10-23T16:13:25.000Z' })]);
    } finally {
      await device.close();
    }
  });
});
