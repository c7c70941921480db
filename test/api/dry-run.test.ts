// Dry runs and strict bodies over HTTP against the local stack, with real devices (the device SDK over mutual TLS)
// subscribed to their command topics: `dry_run: true` on send-event, restore and the Winter River command answers
// what would be sent and publishes nothing; every POST and PATCH route refuses a key it does not know, by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import type { TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startWithListeningDevices, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let ven: TestDevice;
let node: TestDevice;
let devices: Awaited<ReturnType<typeof startWithListeningDevices>> | undefined;
const VEN = 'ven-dry';
const NODE = 'pdu_a';

beforeAll(async () => {
  devices = await startWithListeningDevices(VEN);
  ({ stack, ven, node } = devices);
});
afterAll(async () => {
  await devices?.dispose();
});

const commandsTo = (device: TestDevice) => device.received.map((m) => JSON.parse(m.payload) as Record<string, unknown>);

describe('dry_run: true', () => {
  it('on send-event and restore answers the command and its topic, and publishes and records nothing', async () => {
    const event = await stack.api(
      `/api/vens/${VEN}/send-event`,
      post({ shed_kw: 1, duration_sec: 60, event_id: 'evt-dry', dry_run: true }),
    );
    expect(event).toMatchObject({
      status: 200,
      body: {
        dry_run: true,
        venId: VEN,
        online: true,
        topic: topics.command(VEN),
        command: {
          op: 'event',
          event_id: 'evt-dry',
          shed_kw: 1,
          duration_sec: 60,
          data: { requestedReductionKw: 1, duration_s: 60 },
        },
      },
    });
    expect(event.body.command).not.toHaveProperty('correlationId');
    const restore = await stack.api(`/api/vens/${VEN}/restore`, post({ dry_run: true }));
    expect(restore).toMatchObject({
      status: 200,
      body: { dry_run: true, venId: VEN, topic: topics.command(VEN), command: { op: 'restore' } },
    });
    expect(
      (await stack.api('/api/vens/nobody-here/send-event', post({ shed_kw: 1, duration_sec: 60, dry_run: true })))
        .status,
    ).toBe(404);

    // a real restore after them, with no body: the VEN gets it, and it is the only command it got (QoS 1, in order)
    const sent = await stack.api(`/api/vens/${VEN}/restore`, { method: 'POST' });
    expect(sent.status).toBe(202);
    await eventually(() => ven.received.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(commandsTo(ven)).toEqual([{ op: 'restore', correlationId: sent.body.correlationId }]);
    const ledger = await stack.api(`/api/transactions/${VEN}`);
    expect(ledger.body.items.map((e: { ref?: string }) => e.ref)).toEqual([sent.body.correlationId]);
  });

  it('on a Winter River command answers the command and its topic, and publishes nothing', async () => {
    const dry = await stack.api(
      `/api/winter-river/nodes/${NODE}/command`,
      post({ command: 'set_mode', params: { mode: 'island' }, dry_run: true }),
    );
    expect(dry).toMatchObject({
      status: 200,
      body: {
        dry_run: true,
        nodeId: NODE,
        online: true,
        topic: topics.winterRiverCommand(NODE),
        command: { command: 'set_mode', params: { mode: 'island' } },
      },
    });
    const sent = await stack.api(`/api/winter-river/nodes/${NODE}/command`, post({ command: 'ping' }));
    expect(sent.status).toBe(202);
    await eventually(() => node.received.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(commandsTo(node)).toEqual([{ command: 'ping' }]);
  });
});

describe('strict bodies', () => {
  const ASSET = 'a-bess-1';
  const bodies: [string, string, Record<string, unknown>][] = [
    ['POST', `/api/vens/${VEN}/send-event`, { shed_kw: 1, duration_sec: 60 }],
    ['POST', `/api/vens/${VEN}/restore`, {}],
    ['POST', `/api/winter-river/nodes/${NODE}/command`, { command: 'ping' }],
    ['POST', '/dispatch', { asset_id: ASSET, mw: 0.1 }],
    ['POST', '/api/events', { shed_kw: 1, duration_sec: 60 }],
    ['POST', '/api/telemetry', { ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() - 5 }],
    ['POST', '/api/telemetry', { items: [{ ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() - 6 }] }],
    ['POST', '/api/metadata', { nodeId: 'strict-1', location: { lat: 1, lon: 1 }, capacity_kw: 1, technology: 'pv' }],
    ['PATCH', `/api/metadata/strict-1`, { capacity_kw: 2 }],
    ['POST', '/api/transactions', { nodeId: VEN, type: 'payment', data: { amount: 1 } }],
    ['POST', '/api/devices/nobody-here/revoke', {}],
    ['POST', `/api/certificates/${'0'.repeat(64)}/deactivate`, {}],
  ];

  it.each(bodies)('%s %s refuses an unknown key by name and does nothing', async (method, path, body) => {
    const before = ven.received.length + node.received.length;
    for (const extra of [{ bogus: 1 }, { dryRun: true }]) {
      const res = await stack.api(path, { method, body: JSON.stringify({ ...body, ...extra }) });
      expect(res, `${method} ${path} ${JSON.stringify(extra)}`).toMatchObject({
        status: 400,
        body: { error: 'ValidationError', field: Object.keys(extra)[0] },
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(ven.received.length + node.received.length).toBe(before);
  });

  it('refuses a dry_run that is not a boolean, by name', async () => {
    for (const [path, body] of [
      [`/api/vens/${VEN}/send-event`, { shed_kw: 1, duration_sec: 60 }],
      [`/api/vens/${VEN}/restore`, {}],
      [`/api/winter-river/nodes/${NODE}/command`, { command: 'ping' }],
    ] as const) {
      expect(await stack.api(path, post({ ...body, dry_run: 'yes' }))).toMatchObject({
        status: 400,
        body: { field: 'dry_run' },
      });
    }
  });

  it('names the body when a PATCH changes nothing', async () => {
    expect(
      (
        await stack.api(
          '/api/metadata',
          post({ nodeId: 'strict-2', location: { lat: 1, lon: 1 }, capacity_kw: 1, technology: 'pv' }),
        )
      ).status,
    ).toBe(201);
    expect(await stack.api('/api/metadata/strict-2', { method: 'PATCH', body: '{}' })).toMatchObject({
      status: 400,
      body: { field: 'body', message: 'body: at least one field to change' },
    });
  });
});
