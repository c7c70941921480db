// The packed DynamoDB time series answers every read exactly as the one-item-per-record layout did: the same
// traffic (agent payloads, the example payload, Winter River status) goes through both adapters, the packed one in
// mixed batch compositions with redeliveries, and every read endpoint is walked page by page with small limits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { defaultPanel, PanelModel } from '../../../device/panel.js';
import { rngFor } from '../../../device/random.js';
import { circuitHistory, venTelemetry, type ApiPorts, type Query } from '../../../lambdas/api/queries.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { fleetEventReport, type FleetEventPorts } from '../../../lambdas/core/dr/fleet-event.js';
import { meteringRecords } from '../../../lambdas/core/ingest/ingest.js';
import type { FleetEventRecord } from '../../../lambdas/core/dr/fleet-event-store.js';
import type { SeriesRecord, TelemetryStore } from '../../../lambdas/core/timeseries/telemetry-store.js';
import { DynamoDeviceRegistry } from '../../../lambdas/core/fleet/registry-dynamodb.js';
import { meteringSchema } from '../../../lambdas/core/contracts/schemas.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { DynamoTelemetryStore } from '../../../lambdas/core/timeseries/timeseries-dynamodb.js';
import { fixture } from '../../fixture.js';
import { eventually } from '../../e2e/helpers.js';
import { LegacyTelemetryStore, legacyTable } from './legacy-timeseries.js';

const DAY = 86_400_000;
/**
 * The event starts 3 minutes before a UTC midnight, so its window and every prior day's cross one; a Thursday, so
 * the baseline's weekdays among the 10 days before it are 8 (Monday the 12th had an event of its own).
 */
const EVENT = Date.UTC(2026, 0, 15, 23, 57);
const EVENT_MS = 6 * 60_000;
const VENS = ['ven-a', 'ven-b'];

let dir: string;
let dynamo: LocalDynamo;
let legacy: LegacyTelemetryStore;
let packed: DynamoTelemetryStore;
let registry: DynamoDeviceRegistry;

/** Each VEN's agent payloads around the event time on the event day and the 10 before it (an event on day 3 too). */
function traffic(venId: string): SeriesRecord[][] {
  const panel = new PanelModel(defaultPanel, rngFor(venId));
  const samples: SeriesRecord[][] = [];
  for (let d = 10; d >= 0; d--) {
    const from = EVENT - d * DAY - 90_000;
    for (let t = from; t <= EVENT - d * DAY + EVENT_MS + 90_000; t += 5000) {
      if (t === EVENT - d * DAY && (d === 0 || d === 3)) {
        panel.startEvent(
          {
            op: 'event',
            event_id: `evt-${d}`,
            shed_kw: 4,
            duration_sec: EVENT_MS / 1000,
            correlationId: `c-${venId}-${d}`,
          },
          t,
        );
      }
      if (t === EVENT - d * DAY + EVENT_MS + 5000) panel.restore(`r-${venId}-${d}`, t);
      panel.step();
      samples.push(meteringRecords(meteringSchema.parse(panel.metering(venId, t))));
    }
  }
  // the example payload: circuits and loads merged, a load id no circuit has
  const seed = fixture('volttron-metering');
  const loads = [...(seed.loads as object[]), { loadId: 'battery', currentPowerKw: 1.5, enabled: true }];
  samples.push(meteringRecords(meteringSchema.parse({ ...seed, venId, timestamp: (EVENT + 61_000) / 1000, loads })));
  return samples;
}

const winterRiver = (i: number): SeriesRecord => ({
  series: 'winter_river_status',
  deviceId: 'pdu_a',
  time: EVENT - 30_000 + i * 2_345,
  dimensions: { node_id: 'pdu_a', status: i % 7 === 0 ? 'fault' : 'ok' },
  measures: { power_w: 100 + i, voltage_v: 230.1, uptime_s: i * 2 },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-ts-eq-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { legacy: legacyTable, packed: tables.timeseries, devices: tables.devices });
  const client = documentClient(dynamo.client);
  legacy = new LegacyTelemetryStore({ client, tableName: 'legacy', retentionDays: 30 });
  packed = new DynamoTelemetryStore({ client, tableName: 'packed', retentionDays: 30 });
  registry = new DynamoDeviceRegistry(client, 'devices');
  const status = Array.from({ length: 40 }, (_, i) => winterRiver(i));
  await legacy.write(status);
  for (const r of status) await packed.write([r]);
  for (const venId of VENS) {
    await registry.recordHeartbeat('ven', venId, EVENT, { usedPowerKw: 1 });
    const samples = traffic(venId);
    await legacy.write(samples.flat());
    // the packed store gets them one at a time and in batches of 5, 12 and 40, and some twice, overlapping
    const sizes = [1, 12, 1, 40, 5, 12];
    for (let i = 0, k = 0; i < samples.length; k++) {
      const n = sizes[k % sizes.length]!;
      await packed.write(samples.slice(i, i + n).flat());
      if (k % 4 === 3) await packed.write(samples.slice(Math.max(0, i - 3), i + 2).flat());
      i += n;
    }
  }
  // the comparisons read eventually consistently: wait until the last VEN's newest samples (the last writes) show
  const newest = {
    series: 'ven_telemetry' as const,
    deviceId: VENS.at(-1)!,
    start: EVENT - 12 * DAY,
    end: EVENT + 2 * DAY,
    limit: 50,
  };
  const visible = JSON.stringify((await packed.query({ ...newest, consistent: true })).items);
  await eventually(async () => JSON.stringify((await packed.query(newest)).items) === visible);
}, 120_000);
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const portsWith = (telemetry: TelemetryStore) => ({ registry, telemetry }) as unknown as ApiPorts;

/** Every page's body of a listing; a last page emptied by a `next` that had nothing behind it is left out. */
async function walk(
  read: (ports: ApiPorts, query: Query) => Promise<{ items: unknown[]; next?: string }>,
  telemetry: TelemetryStore,
  query: Query,
) {
  const pages: unknown[] = [];
  let next: string | undefined;
  do {
    const body = await read(portsWith(telemetry), { ...query, ...(next && { next }) });
    next = body.next;
    if (body.items.length || pages.length === 0) pages.push({ ...body, next: next !== undefined });
  } while (next && pages.length < 500);
  return pages;
}

const sec = (ms: number) => String(ms / 1000);
const around = { start: sec(EVENT - 2 * 60_000), end: sec(EVENT + 3 * 60_000) };

describe('the packed time series against the one-item-per-record layout', () => {
  it.each([
    ['telemetry, event window over midnight, limit 7', venTelemetry, { ...around, limit: '7' }],
    [
      'telemetry, 11 days, limit 1000',
      venTelemetry,
      { start: sec(EVENT - 11 * DAY), end: sec(EVENT + DAY), limit: '1000' },
    ],
    [
      'telemetry, window inside one bucket, limit 1',
      venTelemetry,
      { start: sec(EVENT + 5_000), end: sec(EVENT + 20_000), limit: '1' },
    ],
    ['circuits, every load over midnight, limit 10', circuitHistory, { ...around, limit: '10' }],
    [
      'circuits, every load, limit 4 (pages end inside a sample)',
      circuitHistory,
      { start: sec(EVENT - 30_000), end: sec(EVENT + 90_000), limit: '4' },
    ],
    ['circuits, one load, limit 6', circuitHistory, { ...around, load_id: 'circuit_4', limit: '6' }],
    [
      'circuits, a load only the example payload has',
      circuitHistory,
      { start: sec(EVENT - DAY), end: sec(EVENT + DAY), load_id: 'battery', limit: '3' },
    ],
    ['circuits, a load nobody has', circuitHistory, { ...around, load_id: 'nothing', limit: '5' }],
  ] as const)('answers the same: %s', async (_name, read, query) => {
    for (const venId of VENS) {
      const bound = (ports: ApiPorts, q: Query) => read(ports, venId, q);
      const before = await walk(bound, legacy, query);
      const after = await walk(bound, packed, query);
      expect(after).toEqual(before);
      expect(JSON.stringify(after)).toBe(JSON.stringify(before));
    }
    expect((await walk((p, q) => read(p, 'ven-a', q), packed, query)).length).toBeGreaterThan(0);
  });

  it('measures an event the same: metered load during it and the baseline over 10 prior days', async () => {
    const event: FleetEventRecord = {
      eventId: 'evt-0',
      requested_kw: 8,
      duration_sec: EVENT_MS / 1000,
      startedAt: EVENT,
      endsAt: EVENT + EVENT_MS,
      allocations: VENS.map((venId) => ({ venId, shed_kw: 4, correlationId: `c-${venId}-0` })),
      shortfall_kw: 0,
      excluded: [],
    };
    const report = (telemetry: TelemetryStore) =>
      fleetEventReport(
        'evt-0',
        {
          telemetry,
          fleetEvents: { get: async () => event },
          commands: { get: async () => undefined },
        } as unknown as FleetEventPorts,
        EVENT + DAY,
      );
    const before = await report(legacy);
    // of the 8 weekdays before it, day 3 had an event of its own in that window: its samples do not count
    expect(before.vens.map((v) => [v.baseline_source, v.baseline_days])).toEqual([
      ['history', 7],
      ['history', 7],
    ]);
    expect(await report(packed)).toEqual(before);
  });

  it('reads Winter River status the same, newest first, a page at a time', async () => {
    const all = async (store: TelemetryStore) => {
      const pages: SeriesRecord[][] = [];
      let next: string | undefined;
      do {
        const page = await store.query({
          series: 'winter_river_status',
          deviceId: 'pdu_a',
          start: EVENT - DAY,
          end: EVENT + DAY,
          limit: 6,
          ...(next && { next }),
        });
        if (page.items.length) pages.push(page.items);
        next = page.next;
      } while (next);
      return pages;
    };
    const before = await all(legacy);
    expect(before.flat()).toHaveLength(40);
    expect(await all(packed)).toEqual(before);
  });
});
