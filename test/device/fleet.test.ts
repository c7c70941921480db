// The fleet launcher: many devices of every kind in one process, each with its own certificate and connection.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultFleet, startFleet, type Fleet } from '../../device/fleet.js';
import { memoryLog } from '../../device/log.js';
import { Scheduler } from '../../device/scheduler.js';
import { gatewayTelemetrySchema } from '../../lambdas/core/contracts/schemas.js';
import { parse, winterRiverStatusSchema } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { edgeTelemetrySchema } from '../../lambdas/core/contracts/edge-schemas.js';
import { eventually, json, on, startTestBroker, tempDir, type TestBroker } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: TestBroker;
let fleet: Fleet;
const log = memoryLog();
const root = join(import.meta.dirname, '../..');

/** Every task put on the fleet's shared timer: its period, its first delay, and whether a VEN's metering put it there. */
const scheduled: { periodMs: number; phaseMs?: number; ven: boolean }[] = [];

beforeAll(async () => {
  const every = Scheduler.prototype.every;
  vi.spyOn(Scheduler.prototype, 'every').mockImplementation(function (this: Scheduler, periodMs, fn, phaseMs) {
    scheduled.push({ periodMs, phaseMs, ven: fn.toString().includes('publishMetering') });
    return every.call(this, periodMs, fn, phaseMs);
  });
  dir = await tempDir('vpp-fleet-');
  broker = await startTestBroker(dir.path);
  const devices = await Promise.all(
    defaultFleet(root).map(async (d) => ({ ...d, ...(await broker.issue(d.thingName)) })),
  );
  fleet = await startFleet({
    host: broker.host,
    port: broker.port,
    caFile: broker.caFile,
    dataDir: join(dir.path, 'fleet'),
    devices,
    intervals: { meteringMs: 300, gatewayMs: 300, winterRiverMs: 300, shadowMs: 1000 },
    // the default (economy) profile; batches of 3 whole-second samples, a message every 3 s here
    metering: { batch: 3 },
    statusPort: 0,
    log,
  });
});
afterAll(async () => {
  await fleet?.stop();
  await broker?.close();
  await dir?.remove();
});

const from = (thing: string, topic: string) => on(broker.published, topic).filter((p) => p.clientId === thing);

describe('startFleet', () => {
  it('runs the local stack fleet: 3 VENs, 2 site gateways, every node of the Winter River topology, 2 edge nodes, each on its own connection', async () => {
    expect(fleet.connected).toBe(15);
    expect(fleet.devices.map((d) => [d.thingName, d.mode])).toEqual([
      ['ven-001', 'ven'],
      ['ven-002', 'ven'],
      ['ven-003', 'ven'],
      ['gw-site-gt', 'gateway'],
      ['gw-site-mx', 'gateway'],
      ...['util_a', 'gen_a', 'trf_a', 'sw_a', 'dist_a', 'ups_a', 'pdu_a', 'srv_a'].map((id) => [id, 'winter-river']),
      ['dc-edge-01', 'edge'],
      ['dc-edge-02', 'edge'],
    ]);
    // the default (economy) profile: metering through Basic Ingest, nothing on volttron/metering or ven/telemetry/{id}
    for (const ven of ['ven-001', 'ven-002', 'ven-003'])
      await eventually(() => from(ven, topics.meteringBasicIngest).length > 0);
    for (const ven of ['ven-001', 'ven-002', 'ven-003'])
      expect([from(ven, topics.metering), from(ven, topics.telemetry(ven))]).toEqual([[], []]);
    const gw = await eventually(() => from('gw-site-gt', topics.derTelemetry('gw-site-gt'))[0]);
    expect(gatewayTelemetrySchema.safeParse(json(gw)).success).toBe(true);
    for (const node of ['pdu_a', 'ups_a', 'srv_a']) {
      const status = await eventually(() => from(node, topics.winterRiverStatus(node))[0]);
      expect(parse(winterRiverStatusSchema, json(status))).toMatchObject({
        ok: true,
        value: { node_id: node, status: 'ok' },
      });
    }
    for (const node of ['dc-edge-01', 'dc-edge-02']) {
      const telemetry = await eventually(() => from(node, topics.edgeTelemetry(node))[0]);
      expect(parse(edgeTelemetrySchema, json(telemetry))).toMatchObject({ ok: true, value: { dc_id: node } });
    }
    expect(broker.refused).toEqual([]);
  });

  it('a Winter River node obeys set_fault with a fresh status at once', async () => {
    const before = from('ups_a', topics.winterRiverStatus('ups_a')).length;
    await broker.publish(topics.winterRiverCommand('ups_a'), { command: 'set_fault', params: { state: true } });
    const fault = await eventually(
      () =>
        from('ups_a', topics.winterRiverStatus('ups_a'))
          .slice(before)
          .map((p) => json(p))
          .find((s) => s['status'] === 'fault'),
      2000,
    );
    expect(fault).toMatchObject({ node_id: 'ups_a', power_kw: 0 });
    await broker.publish(topics.winterRiverCommand('ups_a'), { command: 'set_fault', params: { state: false } });
    await eventually(() => fleet.device('ups_a')!.status().state['status'] === 'ok');
    await broker.publish(topics.winterRiverCommand('ups_a'), '{"command":"Bad Name"}');
    await eventually(() =>
      log.entries.some((e) => e.message === 'invalid command' && e.fields['thingName'] === 'ups_a'),
    );
  });

  it('staggers its devices: each VEN meters on its own phase of the shared timer', async () => {
    // the metering tasks (period 300 ms) the three VENs put on the fleet's one timer, and the first delay of each
    const vens = scheduled.filter((t) => t.periodMs === 300 && t.ven).map((t) => t.phaseMs);
    expect(vens).toHaveLength(3);
    expect(new Set(vens).size).toBe(3); // three phases: the VENs do not all fire in the same tick
    await eventually(
      () => ['ven-001', 'ven-002', 'ven-003'].every((v) => from(v, topics.meteringBasicIngest).length >= 2),
      10_000,
    );
  });

  it('serves one status page for the whole fleet', async () => {
    const status = (await (await fetch(`${fleet.statusUrl}/status.json`)).json()) as {
      totals: Record<string, number>;
      devices: { thingName: string }[];
    };
    expect(status.totals).toMatchObject({ devices: 15, online: 15, dropped: 0 });
    expect(status.devices.map((d) => d.thingName)).toContain('gw-site-gt');
  });

  it('refuses a bad device list before connecting anything', async () => {
    const base = { certFile: 'x', keyFile: 'y' };
    const opts = { host: broker.host, port: broker.port, caFile: broker.caFile, dataDir: dir.path };
    await expect(startFleet({ ...opts, devices: [{ mode: 'ven', thingName: 'a/b', ...base }] })).rejects.toThrow(
      /devices.0.thingName/,
    );
    await expect(
      startFleet({
        ...opts,
        devices: [
          { mode: 'ven', thingName: 'v', ...base },
          { mode: 'ven', thingName: 'v', ...base },
        ],
      }),
    ).rejects.toThrow(/devices.1.thingName: v appears twice/);
    await expect(startFleet({ ...opts, devices: [{ mode: 'gateway', thingName: 'g', ...base }] })).rejects.toThrow(
      /devices.0.inventoryFile/,
    );
  });

  it('stop disconnects every device; nothing is published afterwards', async () => {
    await fleet.stop();
    expect(fleet.devices.every((d) => d.status().connection.state === 'closed')).toBe(true);
    const byDevices = () => broker.published.filter((p) => p.clientId !== undefined).length;
    const count = byDevices();
    await new Promise((r) => setTimeout(r, 700));
    expect(byDevices()).toBe(count);
    await expect(fetch(`${fleet.statusUrl}/status.json`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
