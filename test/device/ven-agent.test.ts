// A VEN agent (the one `npm run agent` starts) against the project's broker over mutual TLS.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type Agent } from '../../device/agent.js';
import { loadConfig, type AgentConfig } from '../../device/config.js';
import { memoryLog } from '../../device/log.js';
import type { VenDevice } from '../../device/ven-device.js';
import {
  ackSchema,
  loadsSnapshotSchema,
  meteringBatchSchema,
  meteringSchema,
  parse,
  shadowReportedSchema,
  type EventAck,
} from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { eventually, json, on, sleep, startTestBroker, tempDir, type TestBroker } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let broker: TestBroker;
const agents: Agent[] = [];

beforeAll(async () => {
  dir = await tempDir('vpp-ven-');
  broker = await startTestBroker(dir.path);
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  if (!broker.running) await broker.start();
});
afterAll(async () => {
  await broker.close();
  await dir.remove();
});

/** Samples every 0.2 s and the shadow every 0.5 s, unless `asDeployed` (the profile's own periods). */
async function configFor(thing: string, extra: string[] = [], asDeployed = false): Promise<AgentConfig> {
  const files = await broker.issue(thing);
  const fast = asDeployed ? [] : ['--interval-sec', '0.2', '--shadow-interval-sec', '0.5'];
  const result = loadConfig(
    [
      '--mode',
      'ven',
      '--web-port',
      '0',
      ...fast,
      '--reconnect-max-sec',
      '1',
      '--data-dir',
      join(dir.path, 'data', thing),
      ...extra,
    ],
    {
      IOT_ENDPOINT: broker.host,
      IOT_PORT: String(broker.port),
      CLIENT_ID: thing,
      CERT_FILE: files.certFile,
      KEY_FILE: files.keyFile,
      CA_FILE: broker.caFile,
    },
  );
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

async function start(
  thing: string,
  extra: string[] = [],
  { log = memoryLog(), asDeployed = false } = {},
): Promise<Agent & { log: ReturnType<typeof memoryLog>; ven: VenDevice }> {
  const agent = await startAgent(await configFor(thing, extra, asDeployed), { log, flushTimeoutMs: 3000 });
  agents.push(agent);
  return Object.assign(agent, { log, ven: agent.device as VenDevice });
}

/** The VOLTTRON VEN's reporting: one message per sample on volttron/metering, what the store-and-forward tests count. */
const VOLTTRON = ['--profile', 'volttron'];

const fromThing = (thing: string, topic: string) => on(broker.published, topic).filter((p) => p.clientId === thing);
const acks = (thing: string) => fromThing(thing, topics.ack(thing)).map((p) => json<Record<string, unknown>>(p));
const command = (thing: string, body: object) => broker.publish(topics.command(thing), body);

describe('VEN agent', () => {
  it('with --profile volttron: meters on volttron/metering and ven/telemetry/{id} with the same VOLTTRON-shaped payload, and reports its shadow', async () => {
    const a = await start('ven-201', VOLTTRON);
    expect(a.connected).toBe(true);
    await eventually(() => fromThing('ven-201', topics.telemetry('ven-201')).length >= 2);
    const metering = fromThing('ven-201', topics.metering);
    const telemetry = fromThing('ven-201', topics.telemetry('ven-201')).map((p) => p.payload);
    for (const t of telemetry) expect(metering.map((m) => m.payload)).toContain(t);
    const first = json(metering[0]!);
    expect(parse(meteringSchema, first)).toMatchObject({ ok: true });
    expect(first).toMatchObject({ venId: 'ven-201', panelAmperageRating: 200, panelVoltage: 240 });
    await eventually(() => fromThing('ven-201', topics.shadow('ven-201', 'update')).length >= 1);
    expect(
      parse(shadowReportedSchema, json(fromThing('ven-201', topics.shadow('ven-201', 'update'))[0]!)),
    ).toMatchObject({ ok: true });
    expect(fromThing('ven-201', topics.shadow('ven-201', 'get'))).toHaveLength(1);
    expect(fromThing('ven-201', topics.loads('ven-201'))).toHaveLength(0);
    expect(broker.refused.filter((r) => r.clientId === 'ven-201')).toEqual([]);
  });

  it('with --basic-ingest --metering-batch 3 --telemetry-topic off: the first sample at once, then batches of 3 to the metering rule, no copy, the rest sent on stop', async () => {
    const a = await start('ven-209', [
      '--profile',
      'volttron',
      '--basic-ingest',
      '--metering-batch',
      '3',
      '--telemetry-topic',
      'off',
    ]);
    await eventually(() => fromThing('ven-209', topics.meteringBasicIngest).length >= 2);
    a.ven.publishMetering();
    await a.stop();
    const batches = fromThing('ven-209', topics.meteringBasicIngest).map((p) =>
      json<{ venId: string; batch: { timestamp: number }[] }>(p),
    );
    for (const b of batches)
      expect(parse(meteringBatchSchema, b)).toMatchObject({ ok: true, value: { venId: 'ven-209' } });
    const sizes = batches.map((b) => b.batch.length);
    expect(sizes[0]).toBeLessThan(3); // what was sampled before the connect, at most one period or two
    expect(sizes.slice(1, -1).every((n) => n === 3)).toBe(true);
    expect(sizes.at(-1)).toBeGreaterThanOrEqual(1);
    expect(fromThing('ven-209', topics.metering)).toEqual([]);
    expect(fromThing('ven-209', topics.telemetry('ven-209'))).toEqual([]);
    expect(broker.refused.filter((r) => r.clientId === 'ven-209')).toEqual([]);
  });

  it('sheds the requested kW (at most 5% short, at most one circuit past) without touching critical loads, ACKs the circuits, and restores when the event ends', async () => {
    const a = await start('ven-202', VOLTTRON);
    await eventually(() => fromThing('ven-202', topics.metering).length >= 1);
    await command('ven-202', {
      ...fixture('volttron-event-command'),
      shed_kw: 4,
      duration_sec: 1,
      correlationId: 'corr-e1',
    });
    const ack = (await eventually(() => acks('ven-202').find((x) => x['op'] === 'event'))) as EventAck;
    expect(parse(ackSchema, ack)).toMatchObject({ ok: true });
    expect(ack).toMatchObject({
      status: 'accepted',
      event_id: 'evt-123',
      requested_shed_kw: 4,
      correlationId: 'corr-e1',
    });
    expect(ack.actual_shed_kw).toBeGreaterThanOrEqual(4 * 0.95);
    expect(ack.circuits_curtailed.length).toBeGreaterThan(0);
    const smallest = Math.min(...ack.circuits_curtailed.map((c) => c.shedKw));
    expect(ack.actual_shed_kw - smallest).toBeLessThan(4);
    const critical = a.ven.panel.circuits.filter((c) => c.spec.critical).map((c) => c.spec.id);
    expect(ack.circuits_curtailed.map((c) => c.loadId)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^(${critical.join('|')})$`))]),
    );
    const during = await eventually(() =>
      fromThing('ven-202', topics.metering)
        .map((p) => json(p))
        .find((m) => m['eventId'] === 'evt-123'),
    );
    expect(during).toMatchObject({ requestedReductionKw: 4 });
    expect(during['shedPowerKw']).toBeGreaterThan(0);
    expect(during['baselinePowerKw']).toBeCloseTo(
      (during['usedPowerKw'] as number) + (during['shedPowerKw'] as number),
      1,
    );
    expect(
      (during['circuits'] as { critical: boolean; enabled: boolean }[])
        .filter((c) => c.critical)
        .every((c) => c.enabled),
    ).toBe(true);
    const restore = await eventually(() => acks('ven-202').find((x) => x['op'] === 'restore'), 5000);
    expect(restore).toMatchObject({ status: 'success', event_id: 'evt-123', correlationId: 'corr-e1' });
    expect(a.ven.panel.event).toBeNull();
    expect(a.ven.panel.circuits.every((c) => !c.shed)).toBe(true);
  });

  it('answers restore, ping and bad commands; a redelivered command gets the same ACK and is not applied twice', async () => {
    const a = await start('ven-203');
    await eventually(() => a.ven.runtime.connection.isOnline);
    await command('ven-203', { op: 'event', event_id: 'e-9', shed_kw: 2, duration_sec: 600, correlationId: 'c-ev' });
    await command('ven-203', { op: 'ping', correlationId: 'c-ping' });
    await command('ven-203', { op: 'event', event_id: 'e-bad', shed_kw: 0, duration_sec: 60, correlationId: 'c-bad' });
    await command('ven-203', { op: 'event', event_id: 'e-noid', shed_kw: 1, duration_sec: 60 });
    await command('ven-203', { op: 'dispatch', site_id: 's', mw: 1, correlationId: 'c-disp' });
    await eventually(() => acks('ven-203').length >= 4);
    await command('ven-203', { op: 'restore', correlationId: 'c-res' });
    await eventually(() => acks('ven-203').some((x) => x['correlationId'] === 'c-res'));
    await command('ven-203', { op: 'event', event_id: 'e-9', shed_kw: 2, duration_sec: 600, correlationId: 'c-ev' });
    await eventually(() => acks('ven-203').filter((x) => x['correlationId'] === 'c-ev').length === 2);
    const byCorr = (c: string) => acks('ven-203').filter((x) => x['correlationId'] === c);
    expect(byCorr('c-ping')).toEqual([expect.objectContaining({ op: 'ping', status: 'pong' })]);
    expect(byCorr('c-bad')).toEqual([
      expect.objectContaining({ op: 'event', status: 'rejected', reason: expect.stringMatching(/^shed_kw:/) }),
    ]);
    expect(byCorr('c-disp')).toEqual([
      expect.objectContaining({ op: 'dispatch', status: 'rejected', reason: expect.stringMatching(/gateway/) }),
    ]);
    expect(byCorr('c-res')).toEqual([expect.objectContaining({ op: 'restore', status: 'success', event_id: 'e-9' })]);
    const [first, again] = byCorr('c-ev');
    expect(again).toEqual(first);
    expect(a.ven.panel.event).toBeNull();
    expect(acks('ven-203').every((x) => parse(ackSchema, x).ok)).toBe(true);
    expect(a.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'invalid command',
        fields: expect.objectContaining({ acked: false }),
      }),
    );
  });

  it('applies shadow desired state (circuit switches, reporting interval) and reports it back', async () => {
    const a = await start('ven-204');
    await eventually(() => a.ven.runtime.connection.isOnline);
    const delta = {
      version: 2,
      timestamp: 1_729_700_000,
      state: { reporting_interval_sec: 1, circuit_enabled: { circuit_4: false, circuit_2: false } },
    };
    await broker.publish(topics.shadow('ven-204', 'update/delta'), delta);
    const reported = await eventually(() =>
      fromThing('ven-204', topics.shadow('ven-204', 'update'))
        .map((p) => json<{ state: { reported: Record<string, unknown> } }>(p).state.reported)
        .find((r) => r['reporting_interval_sec'] === 1),
    );
    expect(reported['circuit_enabled']).toMatchObject({ circuit_4: false, circuit_2: true });
    expect(a.ven.panel.powerOf(a.ven.panel.circuits.find((c) => c.spec.id === 'circuit_4')!)).toBe(0);
    const before = fromThing('ven-204', topics.metering).length;
    await new Promise((r) => setTimeout(r, 2100));
    expect(fromThing('ven-204', topics.metering).length - before).toBeLessThanOrEqual(3);
    await broker.publish(topics.shadow('ven-204', 'update/delta'), { state: { reporting_interval_sec: 0 } });
    await eventually(() => a.log.entries.some((e) => e.message === 'shadow desired state ignored'));
  });

  it('publishes load snapshots when asked, and serves its status page: state, connection, buffer depth, dropped count', async () => {
    const a = await start('ven-205', ['--loads-interval-sec', '0.3']);
    await eventually(() => a.ven.runtime.connection.isOnline);
    const loads = await eventually(() => fromThing('ven-205', topics.loads('ven-205'))[0]);
    expect(parse(loadsSnapshotSchema, json(loads))).toMatchObject({
      ok: true,
      value: { venId: 'ven-205', schemaVersion: '1.0' },
    });
    expect(a.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = (await (await fetch(`${a.statusUrl}/status.json`)).json()) as Record<string, any>;
    expect(status['devices'][0]).toMatchObject({
      thingName: 'ven-205',
      mode: 'ven',
      connection: { state: 'online' },
      outbox: { bufferDepth: expect.any(Number), dropped: 0 },
      state: { circuits: expect.any(Array) },
    });
    const html = await (await fetch(`${a.statusUrl}/`)).text();
    expect(html).toContain('ven-205');
    expect(html).toContain('dropped by the buffer bound');
    expect((await fetch(`${a.statusUrl}/nope`)).status).toBe(404);
  });
});

describe('VEN store and forward', () => {
  it('broker stopped mid-stream and restarted: every metering message produced arrives exactly once, in order', async () => {
    const a = await start('ven-206', VOLTTRON);
    const produced: string[] = [];
    const outbox = a.ven.runtime.outbox;
    const original = outbox.sendDurable.bind(outbox);
    vi.spyOn(outbox, 'sendDurable').mockImplementation((topic, payload, qos) => {
      if (topic === topics.metering) produced.push(payload);
      original(topic, payload, qos);
    });
    const arrived = () => fromThing('ven-206', topics.metering).length;
    const seen = arrived();
    await eventually(() => arrived() >= seen + 3);
    await broker.stop();
    await eventually(() => a.status().devices[0]!.outbox.bufferDepth >= 4, 5000);
    expect(a.status().devices[0]!.connection.state).toBe('offline');
    await broker.start();
    await eventually(
      () => a.ven.runtime.connection.isOnline && a.status().devices[0]!.outbox.bufferDepth === 0,
      15_000,
    );
    await eventually(() => arrived() >= seen + produced.length - 1, 5000);
    await a.stop();
    const received = fromThing('ven-206', topics.metering).map((p) => p.payload);
    const from = received.indexOf(produced[0]!);
    expect(from).toBeGreaterThanOrEqual(0);
    expect(received.slice(from)).toEqual(produced);
    expect(new Set(received).size).toBe(received.length);
    expect(a.log.entries).toContainEqual(expect.objectContaining({ message: 'buffer drained to the broker' }));
  });

  it('keeps what it could not send across an agent restart, and sends it first', async () => {
    const first = await start('ven-207', VOLTTRON);
    await eventually(() => first.ven.runtime.connection.isOnline);
    await broker.stop();
    await eventually(() => first.status().devices[0]!.outbox.bufferDepth >= 3, 5000);
    await first.stop();
    const kept = first.status().devices[0]!.outbox.bufferDepth;
    expect(kept).toBeGreaterThanOrEqual(3);
    const countBefore = fromThing('ven-207', topics.metering).length;
    await broker.start();
    const second = await start('ven-207', VOLTTRON);
    await eventually(() => fromThing('ven-207', topics.metering).length >= countBefore + kept + 1, 10_000);
    const after = fromThing('ven-207', topics.metering)
      .slice(countBefore)
      .map((p) => json(p));
    const times = after.map((m) => m['timestamp'] as number);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(second.log.entries).toContainEqual(
      expect.objectContaining({
        message: 'offline buffer found on disk',
        fields: expect.objectContaining({ bufferDepth: kept }),
      }),
    );
  });

  it('counts and reports what the buffer bound drops: status page and log', async () => {
    const a = await start('ven-208', [...VOLTTRON, '--buffer-max-bytes', '4096']);
    await eventually(() => a.ven.runtime.connection.isOnline);
    await broker.stop();
    await eventually(() => a.status().devices[0]!.outbox.dropped >= 2, 5000);
    const status = (await (await fetch(`${a.statusUrl}/status.json`)).json()) as Record<string, any>;
    expect(status['totals']['dropped']).toBeGreaterThanOrEqual(2);
    expect(status['devices'][0]['outbox']['bufferBytes']).toBeLessThanOrEqual(4096);
    expect(a.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'offline buffer full: oldest messages dropped' }),
    );
  });
});

describe('VEN reporting profiles', () => {
  const topicCounts = (thing: string, until: number) => {
    const counts: Record<string, number> = {};
    for (const p of broker.published.slice(0, until))
      if (p.clientId === thing) counts[p.topic] = (counts[p.topic] ?? 0) + 1;
    return counts;
  };

  it(
    'over a minute at the deployed 5 s samples: economy (the default) sends its first sample at once and then one batch of 12 through Basic Ingest, its shadow once; --profile volttron every sample twice and its shadow every 30 s',
    { timeout: 100_000 },
    async () => {
      const [economy, volttron] = await Promise.all([
        start('ven-211', [], { asDeployed: true }),
        start('ven-212', VOLTTRON, { asDeployed: true }),
      ]);
      expect([economy.connected, volttron.connected]).toEqual([true, true]);
      await eventually(() => fromThing('ven-211', topics.meteringBasicIngest).length >= 2, 75_000);
      const until = broker.published.length;
      const batches = fromThing('ven-211', topics.meteringBasicIngest).map(
        (p) => json<{ batch: unknown[] }>(p).batch.length,
      );
      expect(batches[0]).toBeLessThanOrEqual(2); // the first sample, with one taken before the connect on a slow day
      expect(batches.slice(1)).toEqual([12]);
      const shadowUpdates = (thing: string) => topicCounts(thing, until)[topics.shadow(thing, 'update')] ?? 0;
      // on connect; a material power change of the simulated panel in these 13 samples would add one (rare)
      expect(shadowUpdates('ven-211')).toBeLessThanOrEqual(2);
      expect(topicCounts('ven-211', until)).toEqual({
        [topics.meteringBasicIngest]: 2,
        [topics.shadow('ven-211', 'get')]: 1,
        [topics.shadow('ven-211', 'update')]: shadowUpdates('ven-211'),
      });
      const s = topicCounts('ven-212', until);
      expect(Object.keys(s).sort()).toEqual(
        [
          topics.shadow('ven-212', 'get'),
          topics.shadow('ven-212', 'update'),
          topics.telemetry('ven-212'),
          topics.metering,
        ].sort(),
      );
      expect(s[topics.metering]).toBeGreaterThanOrEqual(10); // one per sample: 11 or 12 in the 57 s or so this took
      expect(s[topics.telemetry('ven-212')]).toBe(s[topics.metering]);
      expect(shadowUpdates('ven-212')).toBeGreaterThanOrEqual(3); // on connect, then every 30 s
    },
  );

  /** Two steady circuits (one sheddable) and an idle EV charger: no noise near the 1 kW threshold. */
  const steadyPanel = async () => {
    const file = join(dir.path, 'steady-panel.yaml');
    await writeFile(
      file,
      [
        'amperage: 100',
        'voltage: 240',
        'circuits:',
        '  - { id: heater, name: Heater, type: heater, breakerAmps: 15, capacityKw: 0.5, priority: 5, duty: 1 }',
        '  - { id: fridge, name: Fridge, type: fridge, breakerAmps: 15, capacityKw: 0.4, priority: 1, critical: true, duty: 1 }',
        '  - { id: ev, name: EV Charger, type: ev, breakerAmps: 40, capacityKw: 7.2, priority: 4, duty: 0 }',
      ].join('\n'),
    );
    return file;
  };
  type Reported = { power_kw: number; active_event: { event_id: string } | null };
  const reported = (thing: string) =>
    fromThing(thing, topics.shadow(thing, 'update')).map(
      (p) => json<{ state: { reported: Reported } }>(p).state.reported,
    );

  it('economy: no shadow update while nothing changes within the heartbeat; one on a material power change, one right after an event starts and one when it ends', async () => {
    const a = await start('ven-213', ['--panel', await steadyPanel(), '--interval-sec', '0.1'], { asDeployed: true });
    await eventually(() => reported('ven-213').length === 1);
    await sleep(1500); // 15 samples, the heartbeat 300 s away
    expect(reported('ven-213')).toHaveLength(1);

    a.ven.panel.circuits.find((c) => c.spec.id === 'ev')!.demandKw = 7; // the EV starts charging
    const changed = await eventually(() => reported('ven-213')[1], 1000);
    expect(changed.power_kw).toBeGreaterThan(2);
    a.ven.panel.circuits.find((c) => c.spec.id === 'ev')!.enabled = false; // back to a steady panel (reported below)

    await command('ven-213', {
      op: 'event',
      event_id: 'evt-s',
      shed_kw: 0.2,
      duration_sec: 4,
      correlationId: 'corr-s',
    });
    await eventually(() => acks('ven-213').some((x) => x['correlationId'] === 'corr-s'));
    await eventually(() => reported('ven-213').some((r) => r.active_event?.event_id === 'evt-s'), 1000);
    await eventually(() => acks('ven-213').some((x) => x['op'] === 'restore'), 6000);
    await eventually(() => reported('ven-213').at(-1)!.active_event === null, 1000);
    // metering: batches of 12 (one sample a second here: samples are whole seconds), but while the event runs each
    // sample goes at once (the first with what was waiting); a 4 s event holds at least 3 even if a loaded machine
    // delays a tick
    const batches = fromThing('ven-213', topics.meteringBasicIngest).map(
      (p) => json<{ batch: { eventId?: string; timestamp: number }[] }>(p).batch,
    );
    const times = batches.flat().map((m) => m.timestamp);
    expect(new Set(times).size).toBe(times.length);
    const during = batches.filter((b) => b.some((m) => m.eventId === 'evt-s'));
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.slice(1).map((b) => b.length)).toEqual(during.slice(1).map(() => 1));
    const count = reported('ven-213').length;
    expect(count).toBeLessThanOrEqual(5); // connect, EV, EV off, event, end
    await sleep(1000);
    expect(reported('ven-213')).toHaveLength(count);
  });

  it('economy: with nothing changing, the shadow still goes out once per heartbeat (SHADOW_INTERVAL_SEC)', async () => {
    await start('ven-214', ['--panel', await steadyPanel(), '--interval-sec', '0.1', '--shadow-interval-sec', '1'], {
      asDeployed: true,
    });
    await eventually(() => reported('ven-214').length === 1);
    await sleep(3200);
    expect(reported('ven-214').length).toBeGreaterThanOrEqual(3);
    expect(reported('ven-214').length).toBeLessThanOrEqual(5);
  });
});
