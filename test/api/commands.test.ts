// send-event, restore and Winter River commands through the local stack's HTTP API to a device on the real SDK,
// and the command lifecycle back through its ACK.
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture, fixtureText } from '../fixture.js';
import { keyLayout, nowSec, post, shows, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let ven: TestDevice;
const VEN = 'ven-c1';

beforeAll(async () => {
  stack = await startApiStack();
  ven = await connectDevice(await stack.provision(VEN), VEN);
  await ven.subscribe(topics.command(VEN));
  await ven.publish(
    topics.metering,
    JSON.stringify({ ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() }),
  );
  await eventually(async () => (await stack.api(`/api/vens/${VEN}`)).status === 200);
});

afterAll(async () => {
  await ven?.close();
  await stack?.dispose();
});

const commandsTo = (device: TestDevice, topic: string) => device.received.filter((m) => m.topic === topic);

describe('POST /api/vens/{venId}/send-event', () => {
  it('publishes the VOLTTRON event command, and the ACK makes it acked and shows in the event history', async () => {
    const res = await stack.api(
      `/api/vens/${VEN}/send-event`,
      post({ shed_kw: 5, duration_sec: 3600, event_id: 'evt-123' }),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'sent', venId: VEN, event_id: 'evt-123' });
    const { correlationId } = res.body as { correlationId: string };

    const message = await eventually(async () =>
      commandsTo(ven, topics.command(VEN)).find((m) => m.payload.includes(correlationId)),
    );
    const seed = fixture('volttron-event-command');
    const payload = JSON.parse(message.payload);
    expect(keyLayout(payload)).toEqual(keyLayout(seed));
    expect(payload).toEqual({ ...seed, correlationId });
    expect((await stack.api(`/api/commands/${correlationId}`)).body).toMatchObject({
      status: 'sent',
      op: 'event',
      target: VEN,
    });

    const ackTs = nowSec();
    await ven.publish(topics.ack(VEN), JSON.stringify({ ...fixture('volttron-event-ack'), ts: ackTs, correlationId }));
    const command = await eventually(async () => {
      const c = await stack.api(`/api/commands/${correlationId}`);
      return c.body.status === 'acked' && c.body;
    });
    expect(command).toMatchObject({ target: VEN, op: 'event', ack: { status: 'accepted', actual_shed_kw: 4.8 } });
    expect(command.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(command.completedAt)).toBeGreaterThanOrEqual(Date.parse(command.sentAt));

    // the event history is written beside the command's ACK: a listing, it shows within DynamoDB's lag
    await shows(async () =>
      expect((await stack.api(`/api/vens/${VEN}/events`)).body.items).toContainEqual(
        expect.objectContaining({ correlationId, event_id: 'evt-123', actual_shed_kw: 4.8 }),
      ),
    );
  });

  it('makes up an event_id when none is given', async () => {
    const res = await stack.api(`/api/vens/${VEN}/send-event`, post({ shed_kw: 1.5, duration_sec: 60 }));
    expect(res.status).toBe(202);
    expect(res.body.event_id).toMatch(/^evt-/);
    const message = await eventually(async () =>
      commandsTo(ven, topics.command(VEN)).find((m) => m.payload.includes(res.body.correlationId)),
    );
    expect(JSON.parse(message.payload)).toMatchObject({
      event_id: res.body.event_id,
      shed_kw: 1.5,
      data: { requestedReductionKw: 1.5, duration_s: 60 },
    });
  });

  it('answers 400 naming the field, and publishes and records nothing', async () => {
    const before = commandsTo(ven, topics.command(VEN)).length;
    const cases: [unknown, string][] = [
      [{ duration_sec: 60 }, 'shed_kw'],
      [{ shed_kw: -1, duration_sec: 60 }, 'shed_kw'],
      [{ shed_kw: 0, duration_sec: 60 }, 'shed_kw'],
      [{ shed_kw: 2, duration_sec: 1.5 }, 'duration_sec'],
      [{ shed_kw: 2, duration_sec: 60, event_id: '' }, 'event_id'],
      ['{not json', 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api(`/api/vens/${VEN}/send-event`, post(body));
      expect(res, JSON.stringify(body)).toMatchObject({ status: 400, body: { error: 'ValidationError', field } });
    }
    expect(await stack.api(`/api/vens/${VEN}/send-event`, { method: 'POST' })).toMatchObject({
      status: 400,
      body: { field: 'body' },
    });
    expect(await stack.api('/api/vens/bad%20id/send-event', post({ shed_kw: 1, duration_sec: 60 }))).toMatchObject({
      status: 400,
      body: { field: 'venId' },
    });
    await stack.settle();
    await new Promise((r) => setTimeout(r, 200));
    expect(commandsTo(ven, topics.command(VEN))).toHaveLength(before);
  });

  it('answers 404 for an unknown VEN and 401 without the token', async () => {
    expect((await stack.api('/api/vens/ven-404/send-event', post({ shed_kw: 1, duration_sec: 60 }))).status).toBe(404);
    expect(
      (await stack.api(`/api/vens/${VEN}/send-event`, { ...post({ shed_kw: 1, duration_sec: 60 }), token: null }))
        .status,
    ).toBe(401);
    expect((await stack.api(`/api/vens/${VEN}/restore`, { method: 'POST', token: 'wrong' })).status).toBe(401);
    expect((await stack.api('/api/commands/nope', { token: null })).status).toBe(401);
  });
});

describe('POST /api/vens/{venId}/restore', () => {
  it('publishes the VOLTTRON restore command and the restore ACK completes it', async () => {
    const res = await stack.api(`/api/vens/${VEN}/restore`, { method: 'POST' });
    expect(res).toMatchObject({ status: 202, body: { status: 'sent', venId: VEN } });
    const { correlationId } = res.body as { correlationId: string };
    const message = await eventually(async () =>
      commandsTo(ven, topics.command(VEN)).find((m) => m.payload.includes(correlationId)),
    );
    expect(message.payload).toBe(JSON.stringify({ ...fixture('volttron-restore-command'), correlationId }));

    await ven.publish(
      topics.ack(VEN),
      JSON.stringify({ ...fixture('volttron-restore-ack'), ts: nowSec(), correlationId }),
    );
    await eventually(async () => (await stack.api(`/api/commands/${correlationId}`)).body.status === 'acked');
  });

  it('records a failed restore as rejected', async () => {
    const { body } = await stack.api(`/api/vens/${VEN}/restore`, post({}));
    await ven.publish(
      topics.ack(VEN),
      JSON.stringify({
        op: 'restore',
        status: 'failed',
        reason: 'stuck relay',
        ts: nowSec(),
        correlationId: body.correlationId,
      }),
    );
    const command = await eventually(async () => {
      const c = await stack.api(`/api/commands/${body.correlationId}`);
      return c.body.status === 'rejected' && c.body;
    });
    expect(command.ack).toMatchObject({ reason: 'stuck relay' });
  });

  it('answers 404 for an unknown VEN, 400 for a body that is not JSON', async () => {
    expect((await stack.api('/api/vens/ven-404/restore', { method: 'POST' })).status).toBe(404);
    expect(await stack.api(`/api/vens/${VEN}/restore`, post('nope'))).toMatchObject({
      status: 400,
      body: { field: 'body' },
    });
  });
});

describe("the ack rule's CommandAckLatency metric", () => {
  it('writes one EMF line per ACKed command: its sent → ACK milliseconds, by command op, as the API reports them', async () => {
    process.env.VPP_METRICS = 'stdout';
    const written: string[] = [];
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      const { body } = await stack.api(`/api/vens/${VEN}/restore`, { method: 'POST' });
      await eventually(async () =>
        commandsTo(ven, topics.command(VEN)).find((m) => m.payload.includes(body.correlationId)),
      );
      await ven.publish(
        topics.ack(VEN),
        JSON.stringify({ ...fixture('volttron-restore-ack'), ts: nowSec(), correlationId: body.correlationId }),
      );
      const command = await eventually(async () => {
        const c = await stack.api(`/api/commands/${body.correlationId}`);
        return c.body.status === 'acked' && c.body;
      });
      const lines = written
        .join('')
        .split('\n')
        .filter((l) => l.includes('"CommandAckLatency"'))
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        op: 'restore',
        CommandAckLatency: command.latency_ms,
        _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'CommandAckLatency', Unit: 'Milliseconds' }] }] },
      });
      expect(lines[0]._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['service', 'op']));
    } finally {
      spy.mockRestore();
      delete process.env.VPP_METRICS;
    }
  });
});

describe('GET /api/commands/{correlationId}', () => {
  it('answers 404 for an unknown command', async () => {
    expect((await stack.api('/api/commands/does-not-exist')).status).toBe(404);
  });
});

describe('POST /api/winter-river/nodes/{nodeId}/command', () => {
  it('publishes the Winter River command on the node topic', async () => {
    const node = await connectDevice(await stack.provision('srv_a'), 'srv_a');
    try {
      await node.subscribe(topics.winterRiverCommand('srv_a'));
      await node.publish(
        topics.winterRiverStatus('srv_a'),
        fixtureText('winter-river-status').replace('pdu_a', 'srv_a'),
        mqtt.QoS.AtMostOnce,
      );
      await eventually(async () => (await stack.api('/api/winter-river/nodes')).body.items.length > 0);

      const res = await stack.api('/api/winter-river/nodes/srv_a/command', post(fixture('winter-river-command')));
      expect(res).toMatchObject({
        status: 202,
        body: { nodeId: 'srv_a', status: 'sent', topic: topics.winterRiverCommand('srv_a') },
      });
      const message = await eventually(async () =>
        node.received.find((m) => m.topic === topics.winterRiverCommand('srv_a')),
      );
      expect(message.payload).toBe(JSON.stringify(fixture('winter-river-command')));

      expect(await stack.api('/api/winter-river/nodes/srv_a/command', post({ command: 'Set Fault' }))).toMatchObject({
        status: 400,
        body: { field: 'command' },
      });
      expect((await stack.api('/api/winter-river/nodes/pdu_zz/command', post({ command: 'reset' }))).status).toBe(404);
      expect(
        (await stack.api('/api/winter-river/nodes/srv_a/command', { ...post({ command: 'reset' }), token: null }))
          .status,
      ).toBe(401);
    } finally {
      await node.close();
    }
  });
});
