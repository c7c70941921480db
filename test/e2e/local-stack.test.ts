// End to end over the local stack: real device SDK over mutual TLS → broker → rules engine → handlers →
// DynamoDB → HTTP API, with the example payloads byte for byte.
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture, fixtureText } from '../fixture.js';
import { errorSink, eventually, startTestStack } from './helpers.js';
import { connectDevice, type TestDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let ven1: ProvisionResult;
let ven1Device: TestDevice;
const window = 'start=1729690000&end=1729710000';

beforeAll(async () => {
  stack = await startTestStack();
  ven1 = await stack.provision('ven-001');
  ven1Device = await connectDevice(ven1, 'ven-001');
});

afterAll(async () => {
  await ven1Device?.close();
  await stack?.dispose();
});

describe('a VEN over the real device SDK', () => {
  it('publishes the example metering, ACK and shadow update and reads them back through the API', async () => {
    await ven1Device.publish(topics.metering, fixtureText('volttron-metering'));
    await ven1Device.publish(topics.ack('ven-001'), fixtureText('volttron-event-ack'));
    await ven1Device.publish(topics.shadow('ven-001', 'update'), fixtureText('volttron-shadow-reported'));

    const ven = await eventually(async () => {
      const res = await stack.api('/api/vens/ven-001');
      // presence and metering travel in streams of their own: the VEN may be listed before its connection is
      return res.status === 200 && res.body.online === true && res.body;
    });
    expect(ven).toMatchObject({ venId: 'ven-001', online: true, latest: { usedPowerKw: 8.2, eventId: 'evt-123' } });

    const list = await stack.api('/api/vens');
    expect(list.body.items.map((v: { venId: string }) => v.venId)).toContain('ven-001');

    const telemetry = await stack.api(`/api/vens/ven-001/telemetry?${window}`);
    expect(telemetry.status).toBe(200);
    expect(telemetry.body.items).toEqual([
      expect.objectContaining({
        timestamp: '2024-10-23T16:13:20.000Z',
        usedPowerKw: 8.2,
        shedPowerKw: 4.8,
        eventId: 'evt-123',
      }),
    ]);

    const circuits = await stack.api(`/api/vens/ven-001/circuits/history?load_id=circuit_1&${window}`);
    expect(circuits.body.items).toEqual([
      expect.objectContaining({
        load_id: 'circuit_1',
        name: 'Main HVAC',
        currentKw: 2.1,
        shedCapabilityKw: 5,
        priority: 2,
      }),
    ]);
    const allCircuits = await stack.api(`/api/vens/ven-001/circuits/history?${window}`);
    expect(allCircuits.body.items.map((c: { load_id: string }) => c.load_id).sort()).toEqual([
      'circuit_1',
      'circuit_3',
    ]);

    const events = await eventually(async () => {
      const res = await stack.api(`/api/vens/ven-001/events?${window}`);
      return res.body.items.length > 0 && res.body.items;
    });
    expect(events).toEqual([
      expect.objectContaining({
        op: 'event',
        event_id: 'evt-123',
        requested_shed_kw: 5,
        actual_shed_kw: 4.8,
        correlationId: 'xyz-123',
        circuits_curtailed: fixture('volttron-event-ack').circuits_curtailed,
      }),
    ]);

    const shadow = await eventually(async () => {
      const res = await stack.api('/api/vens/ven-001/shadow');
      return res.status === 200 && res.body;
    });
    expect(shadow.state.reported).toMatchObject({ power_kw: 8.2, active_event: { event_id: 'evt-123' } });
    expect(shadow.version).toBe(1);
  });

  it('stores a resent ACK once', async () => {
    const ack = JSON.stringify({ op: 'restore', status: 'success', ts: 1729700100, correlationId: 'dup-1' });
    await ven1Device.publish(topics.ack('ven-001'), ack);
    await ven1Device.publish(topics.ack('ven-001'), ack);
    // the listing is an eventually consistent query: once an ACK sent after both shows, both had their chance to
    const after = JSON.stringify({ op: 'restore', status: 'success', ts: 1729700101, correlationId: 'dup-after' });
    await ven1Device.publish(topics.ack('ven-001'), after);
    await stack.settle();
    const items = await eventually(async () => {
      const res = await stack.api(`/api/vens/ven-001/events?${window}`);
      const found = res.body.items as { correlationId: string }[];
      return found.some((e) => e.correlationId === 'dup-after') && found;
    });
    expect(items.filter((e) => e.correlationId === 'dup-1')).toHaveLength(1);
  });

  it('receives commands on its own topic', async () => {
    await ven1Device.subscribe(topics.command('ven-001'));
    await stack.publish(topics.command('ven-001'), fixtureText('volttron-ping-command'));
    await eventually(async () => ven1Device.received.find((m) => m.topic === topics.command('ven-001')));
  });
});

describe('a Winter River node', () => {
  it('publishes the example status and the node is listed with it', async () => {
    const node = await connectDevice(await stack.provision('pdu_a'), 'pdu_a');
    try {
      await node.publish(topics.winterRiverStatus('pdu_a'), fixtureText('winter-river-status'), mqtt.QoS.AtMostOnce);
      const nodes = await eventually(async () => {
        const res = await stack.api('/api/winter-river/nodes');
        return res.body.items.length > 0 && res.body.items;
      });
      expect(nodes).toEqual([
        expect.objectContaining({
          nodeId: 'pdu_a',
          status: 'ok',
          online: true,
          latest: expect.objectContaining({
            voltage_in: 480,
            current: 12.5,
            power_kw: 6,
            wifi_rssi: -62,
            uptime: 3600,
          }),
        }),
      ]);
    } finally {
      await node.close();
    }
  });

  it("ignores the backend's own command messages on winter-river/#", async () => {
    await stack.publish(topics.winterRiverCommand('pdu_b'), fixtureText('winter-river-command'));
    await stack.settle();
    const nodes = await stack.api('/api/winter-river/nodes');
    expect(nodes.body.items.map((n: { nodeId: string }) => n.nodeId)).not.toContain('pdu_b');
    expect((await errorSink(stack.config.errorsFile)).filter((e) => e.topic?.includes('pdu_b'))).toEqual([]);
  });
});

describe('the API', () => {
  it('needs the bearer token on every /api route', async () => {
    expect((await stack.api('/api/vens', { token: null })).status).toBe(401);
    expect((await stack.api('/api/vens/ven-001/shadow', { token: 'wrong' })).status).toBe(401);
    expect((await stack.api('/health', { token: null })).status).toBe(200);
  });

  it('answers 400 naming the field, and 404 for unknown VENs', async () => {
    expect(await stack.api('/api/vens/ven-001/telemetry?start=yesterday')).toMatchObject({
      status: 400,
      body: { field: 'start' },
    });
    expect(await stack.api('/api/vens/ven-001/telemetry?limit=0')).toMatchObject({
      status: 400,
      body: { field: 'limit' },
    });
    expect(await stack.api('/api/vens?next=garbage')).toMatchObject({ status: 400, body: { field: 'next' } });
    expect((await stack.api('/api/vens/ven-404')).status).toBe(404);
    expect((await stack.api('/api/vens/ven-404/shadow')).status).toBe(404);
  });
});
