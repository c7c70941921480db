// End to end: simulated devices (device/fleet.ts) against the whole local stack, driven through the
// operator API as a user would: API → backend publish → broker → device → ACK → rule → DynamoDB → API.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalStack, type LocalStack } from '../../bin/local/stack.js';
import { startFleet, type Fleet } from '../../device/fleet.js';
import type { GatewayDevice } from '../../device/gateway-device.js';
import { memoryLog } from '../../device/log.js';
import type { VenDevice } from '../../device/ven-device.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually, sleep, tempDir } from './helpers.js';
import { apiClient } from '../e2e/helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let stack: LocalStack;
let fleet: Fleet;
const log = memoryLog();

type Json = Record<string, any>;
/** GET, or POST of `body`, as the admin. */
const api = (path: string, body?: object) =>
  apiClient(stack.config.apiUrl, stack.config.token)(path, body && { method: 'POST', body: JSON.stringify(body) });

const things = [
  { mode: 'ven' as const, thingName: 'ven-301' },
  { mode: 'ven' as const, thingName: 'ven-302' },
  {
    mode: 'gateway' as const,
    thingName: 'gw-site-gt',
    inventoryFile: join(import.meta.dirname, '../../device/inventory.example.yaml'),
  },
  { mode: 'winter-river' as const, thingName: 'pdu_a' },
];

beforeAll(async () => {
  dir = await tempDir('vpp-device-e2e-');
  stack = await startLocalStack({ dir: dir.path, httpPort: 0, mqttPort: 0, fleet: false });
  const devices = await Promise.all(things.map(async (t) => ({ ...t, ...(await stack.provision(t.thingName)) })));
  fleet = await startFleet({
    host: stack.config.mqtt.host,
    port: stack.config.mqtt.port,
    caFile: stack.config.mqtt.caFile,
    dataDir: join(dir.path, 'fleet'),
    devices,
    intervals: { meteringMs: 1000, shadowMs: 2000, gatewayMs: 500, winterRiverMs: 500 },
    // the default (economy) profile, with batches of 3 so that a batch goes out every 3 s here
    metering: { batch: 3 },
    reconnectMinSec: 1,
    reconnectMaxSec: 1,
    log,
  });
  expect(fleet.connected).toBe(things.length);
});

afterAll(async () => {
  await fleet?.stop();
  await stack?.close();
  await dir?.remove();
});

const ven = (id: string) => fleet.device(id) as VenDevice;
const gateway = () => fleet.device('gw-site-gt') as GatewayDevice;
const setpoints = () => Object.fromEntries(gateway().batteries.map((b) => [b.asset.asset_id, b.setpointMw]));

describe('a VEN, through the operator API', () => {
  it('receives an event, sheds the requested kW (at most 5% short) without critical loads, ACKs its circuits, restores when it ends', async () => {
    await eventually(async () => (await api('/api/vens/ven-301')).status === 200);
    const sent = await api('/api/vens/ven-301/send-event', { shed_kw: 3, duration_sec: 2, event_id: 'evt-e2e' });
    expect(sent).toMatchObject({ status: 202, body: { status: 'sent', event_id: 'evt-e2e' } });
    const command = await eventually(async () => {
      const c = await api(`/api/commands/${sent.body['correlationId']}`);
      return c.body['status'] === 'acked' ? c.body : undefined;
    });
    const ack = command['ack'] as Json;
    expect(ack).toMatchObject({ op: 'event', status: 'accepted', event_id: 'evt-e2e', requested_shed_kw: 3 });
    expect(ack['actual_shed_kw']).toBeGreaterThanOrEqual(3 * 0.95);
    const critical = ven('ven-301')
      .panel.circuits.filter((c) => c.spec.critical)
      .map((c) => c.spec.id);
    const curtailed = (ack['circuits_curtailed'] as { loadId: string }[]).map((c) => c.loadId);
    expect(curtailed.length).toBeGreaterThan(0);
    for (const id of critical) expect(curtailed).not.toContain(id);

    const during = await eventually(async () =>
      ((await api('/api/vens/ven-301/telemetry')).body['items'] as Json[]).find((m) => m['eventId'] === 'evt-e2e'),
    );
    expect(during['shedPowerKw']).toBeGreaterThan(0);
    expect(during).toMatchObject({ requestedReductionKw: 3 });

    const events = await eventually(async () => {
      const items = (await api('/api/vens/ven-301/events')).body['items'] as Json[];
      return items.some((e) => e['op'] === 'restore') ? items : undefined;
    }, 8000);
    expect(events.find((e) => e['op'] === 'restore')).toMatchObject({
      status: 'success',
      event_id: 'evt-e2e',
      correlationId: sent.body['correlationId'],
    });
    const shadow = await eventually(async () => {
      const s = await api('/api/vens/ven-301/shadow');
      return s.body['state']?.['reported']?.['active_event'] === undefined ||
        s.body['state']['reported']['active_event'] === null
        ? s.body
        : undefined;
    }, 8000);
    expect(shadow['state']['reported']['circuits']).toHaveLength(8);
  });

  it('applies a desired circuit switch from the shadow and reports it back', async () => {
    await stack.publish(
      topics.shadow('ven-301', 'update'),
      JSON.stringify({ state: { desired: { circuit_enabled: { circuit_5: false } } } }),
      1,
    );
    const reported = await eventually(async () => {
      const s = await api('/api/vens/ven-301/shadow');
      return s.body['state']?.['reported']?.['circuit_enabled']?.['circuit_5'] === false ? s.body : undefined;
    });
    expect(reported['state']['delta']).toBeUndefined();
  });
});

describe('a site gateway, through the operator API', () => {
  it('splits a site setpoint capacity-weighted with clamping, and ACKs the split', async () => {
    await eventually(() => gateway().runtime.connection.isOnline);
    const sent = await api('/dispatch', { site_id: 'site-gt', mw: 9 });
    expect(sent).toMatchObject({ status: 202, body: { gateway: 'gw-site-gt', mw_sent: 9 } });
    const view = await eventually(async () => {
      const d = await api(`/api/dispatch/${sent.body['dispatch_id']}`);
      return d.body['status'] === 'acked' ? d.body : undefined;
    });
    // 6:2:2 gives 5.4 / 1.8 / 1.8; gt-bess-c tops out at 1.5 and the 0.3 MW left goes 3:1 to the others
    expect(view['split']).toMatchObject([
      { asset_id: 'gt-bess-a', mw: 5.625, requested_mw: 5.4 },
      { asset_id: 'gt-bess-b', mw: 1.875, requested_mw: 1.8 },
      { asset_id: 'gt-bess-c', mw: 1.5, requested_mw: 1.8 },
    ]);
    expect(setpoints()).toEqual({ 'gt-bess-a': 5.625, 'gt-bess-b': 1.875, 'gt-bess-c': 1.5 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'dispatch split',
        fields: expect.objectContaining({ target: 'site', mw_total: 9, num_assets: 3 }),
      }),
    );
  });

  it('an asset setpoint touches only that asset, even when the command also names the site', async () => {
    const before = setpoints();
    const sent = await api('/dispatch', { asset_id: 'gt-bess-b', mw: -1 });
    const view = await eventually(async () => {
      const d = await api(`/api/dispatch/${sent.body['dispatch_id']}`);
      return d.body['status'] === 'acked' ? d.body : undefined;
    });
    expect(view['split']).toMatchObject([{ asset_id: 'gt-bess-b', mw: -1 }]);
    expect(setpoints()).toEqual({ ...before, 'gt-bess-b': -1 });

    await stack.publish(
      topics.command('gw-site-gt'),
      JSON.stringify({ op: 'dispatch', asset_id: 'gt-bess-c', site_id: 'site-gt', mw: 0.5, correlationId: 'both-ids' }),
      1,
    );
    await eventually(() => gateway().batteries.find((b) => b.asset.asset_id === 'gt-bess-c')!.setpointMw === 0.5);
    expect(setpoints()).toEqual({ ...before, 'gt-bess-b': -1, 'gt-bess-c': 0.5 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'dispatch split',
        fields: expect.objectContaining({
          correlationId: 'both-ids',
          target: 'asset',
          num_assets: 1,
          ignoredSiteId: 'site-gt',
        }),
      }),
    );
  });
});

describe('a Winter River node, through the operator API', () => {
  it('obeys set_fault and publishes a fresh status at once', async () => {
    await eventually(async () =>
      ((await api('/api/winter-river/nodes')).body['items'] as Json[] | undefined)?.some(
        (n) => n['nodeId'] === 'pdu_a',
      ),
    );
    const sent = await api('/api/winter-river/nodes/pdu_a/command', { command: 'set_fault', params: { state: true } });
    expect(sent.status).toBe(202);
    const node = await eventually(
      async () =>
        ((await api('/api/winter-river/nodes')).body['items'] as Json[]).find(
          (n) => n['nodeId'] === 'pdu_a' && n['status'] === 'fault',
        ),
      3000,
    );
    expect(node['latest']).toMatchObject({ power_kw: 0 });
  });
});

describe('store and forward through a broker restart', () => {
  it(
    'every metering sample produced arrives exactly once, in order (batched, through Basic Ingest)',
    { timeout: 60_000 },
    async () => {
      const device = ven('ven-302');
      type Sample = { timestamp: number; usedPowerKw: number };
      const produced: Sample[] = [];
      const outbox = device.runtime.outbox;
      const send = outbox.sendDurable.bind(outbox);
      vi.spyOn(outbox, 'sendDurable').mockImplementation((topic, payload, qos) => {
        if (topic === topics.meteringBasicIngest) produced.push(...(JSON.parse(payload) as { batch: Sample[] }).batch);
        send(topic, payload, qos);
      });
      const stored = async () =>
        ((await api('/api/vens/ven-302/telemetry?limit=1000')).body['items'] as Json[] | undefined) ?? [];
      await eventually(
        async () =>
          produced.length >= 2 &&
          (await stored()).some((m) => Date.parse(m['timestamp']) / 1000 === produced[1]!.timestamp),
      );

      const mqttPort = stack.config.mqtt.port;
      await stack.close();
      await eventually(() => device.status().outbox.bufferDepth >= 2, 10_000);
      expect(device.status().connection.state).toBe('offline');
      stack = await startLocalStack({ dir: dir.path, httpPort: 0, mqttPort, fleet: false });
      await eventually(() => device.runtime.connection.isOnline && device.status().outbox.bufferDepth === 0, 20_000);
      await sleep(1500);
      await device.stop();
      await stack.settle();

      // the telemetry listing is an eventually consistent query: wait for the last sample produced to show
      const last = produced.at(-1)!.timestamp;
      const all = await eventually(async () => {
        const got = await stored();
        return got.some((m) => Date.parse(m['timestamp']) / 1000 === last) && got;
      });
      const items = all.reverse();
      const from = items.findIndex((m) => Date.parse(m['timestamp']) / 1000 === produced[0]!.timestamp);
      expect(from).toBeGreaterThanOrEqual(0);
      expect(items.slice(from).map((m) => [Date.parse(m['timestamp']) / 1000, m['usedPowerKw']])).toEqual(
        produced.map((p) => [p.timestamp, p.usedPowerKw]),
      );
      expect(produced.length).toBeGreaterThanOrEqual(5);
    },
  );
});
