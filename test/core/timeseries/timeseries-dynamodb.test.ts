// The DynamoDB time-series adapter against a real local DynamoDB (dynalite): one compressed item per device and write,
// what a sample costs to write, newest first across days, opaque page tokens, TTL retention, idempotent rewrites, the
// first sample of a time kept, the 400 KB item limit. (timeseries-equivalence.test.ts checks every read against the old layout.)
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { ValidationError } from '../../../lambdas/core/contracts/errors.js';
import { defaultPanel, PanelModel } from '../../../device/panel.js';
import { rngFor } from '../../../device/random.js';
import { meteringRecords } from '../../../lambdas/core/ingest/ingest.js';
import type { SeriesRecord } from '../../../lambdas/core/timeseries/telemetry-store.js';
import { meteringSchema } from '../../../lambdas/core/contracts/schemas.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import {
  contentsOf,
  DynamoTelemetryStore,
  SPAN_MS,
  WRITE_PARALLEL,
} from '../../../lambdas/core/timeseries/timeseries-dynamodb.js';
import { fixture } from '../../fixture.js';
import { consistentReads } from '../consistent-reads.js';

let dir: string;
let dynamo: LocalDynamo;
/** This file is about the layout, not about when a write shows: its reads are consistent. */
let db: DynamoDBDocumentClient;
let store: DynamoTelemetryStore;
const DAY0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-ts-'));
  dynamo = await startDynamo(join(dir, 'db'));
  db = documentClient(consistentReads(dynamo.endpoint));
  await ensureTables(
    dynamo.client,
    Object.fromEntries(['series', 'one', 'two', 'cost'].map((t) => [t, tables.timeseries])),
  );
  store = new DynamoTelemetryStore({ client: db, tableName: 'series', retentionDays: 30 });
});
afterAll(async () => {
  db?.destroy();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const sample = (time: number, loadId = 'c1', kw = 1): SeriesRecord => ({
  series: 'ven_load_sample',
  deviceId: 'ven-001',
  time,
  dimensions: { ven_id: 'ven-001', load_id: loadId },
  measures: { currentKw: kw, enabled: true, name: 'HVAC' },
});

describe('DynamoDB time-series adapter', () => {
  it('pages newest first across day partitions without gaps or repeats', async () => {
    // 60 samples each side of midnight, 2 loads each: 240 records over two UTC days
    const times = Array.from({ length: 120 }, (_, i) => DAY0 + (i - 60) * MIN);
    await store.write(times.flatMap((t) => [sample(t, 'c1'), sample(t, 'c2')]));
    const seen: SeriesRecord[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await store.query({
        series: 'ven_load_sample',
        deviceId: 'ven-001',
        start: DAY0 - 2 * 3_600_000,
        end: DAY0 + 2 * 3_600_000,
        limit: 70,
        next,
      });
      seen.push(...page.items);
      next = page.next;
      pages++;
    } while (next && pages < 10);
    expect(seen).toHaveLength(240);
    expect(seen.map((r) => r.time)).toEqual([...times].reverse().flatMap((t) => [t, t]));
    expect(seen[0]).toEqual(sample(times.at(-1)!, 'c2'));
  });

  it('filters on a dimension and keeps the limit', async () => {
    const page = await store.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: DAY0 - 3_600_000,
      end: DAY0 + 3_600_000,
      limit: 5,
      where: { dimension: 'load_id', value: 'c2' },
    });
    expect(page.items).toHaveLength(5);
    expect(page.items.every((r) => r.dimensions.load_id === 'c2')).toBe(true);
    expect(page.next).toBeDefined();
  });

  it('stores a re-delivered record once, with a TTL from its time', async () => {
    const t = DAY0 + 5 * 86_400_000 + 7_000;
    await store.write([sample(t, 'c9', 2)]);
    await store.write([sample(t, 'c9', 2)]);
    const items = (await scan('series')).filter((i) => i.pk === 'samples#ven-001#2026-01-06');
    expect(items).toEqual([
      {
        pk: 'samples#ven-001#2026-01-06',
        bucket: expect.stringMatching(new RegExp(`^${String(t).padStart(14, '0')}#[\\w-]{8}$`)),
        w: expect.any(Number),
        z: expect.any(Uint8Array),
        expiresAt: t / 1000 + 30 * 86_400,
      },
    ]);
    expect(contentsOf(items[0]!)).toEqual({ ven_load_sample: { '0': [expect.any(String), 2, true] } });
    const page = await store.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: t - 1,
      end: t + 1,
      limit: 10,
    });
    expect(page.items).toEqual([sample(t, 'c9', 2)]);
  });

  it('reads the sample of a time that was written first, when a later write brings another', async () => {
    const t = DAY0 + 6 * 86_400_000;
    await store.write([sample(t, 'c1', 1), sample(t + 5000, 'c1', 1)]);
    await new Promise((r) => setTimeout(r, 5));
    await store.write([sample(t - 5000, 'c1', 7), sample(t, 'c1', 7)]);
    const page = await store.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: t - 60_000,
      end: t + 60_000,
      limit: 10,
    });
    expect(page.items).toEqual([sample(t + 5000, 'c1', 1), sample(t, 'c1', 1), sample(t - 5000, 'c1', 7)]);
  });

  it('writes a day of 5-minute samples (288 items) with a bounded number of requests under way', async () => {
    // all at once, the SDK spent seconds signing them while its connections idled past the keep-alive: socket hang up
    let underWay = 0;
    let most = 0;
    const send = db.send.bind(db) as (command: unknown) => Promise<unknown>;
    const client = new Proxy(db, {
      get: (target, prop) =>
        prop === 'send'
          ? async (command: unknown) => {
              most = Math.max(most, ++underWay);
              try {
                return await send(command);
              } finally {
                underWay--;
              }
            }
          : Reflect.get(target, prop),
    });
    const day = DAY0 + 9 * 86_400_000;
    const bounded = new DynamoTelemetryStore({ client, tableName: 'series', retentionDays: 30 });
    await bounded.write(Array.from({ length: 288 }, (_, i) => sample(day + i * 5 * MIN, 'c1', i)));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(WRITE_PARALLEL);
    const page = await store.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: day,
      end: day + 86_400_000 - 1,
      limit: 1000,
    });
    expect(page.items).toHaveLength(288);
  });

  it('refuses a page token from elsewhere', async () => {
    const q = { series: 'ven_load_sample' as const, deviceId: 'ven-001', start: DAY0, end: DAY0 + 1, limit: 1 };
    await expect(store.query({ ...q, next: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.query({ ...q, next: Buffer.from('{"day":"1999-01-01"}').toString('base64url') }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

const scan = async (table: string) => (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];
const sorted = (items: Record<string, unknown>[]) => items.map((i) => JSON.stringify(i)).sort();

/** The agent's own metering (default 8-circuit panel) every 5 s from `from`, as records, one array per sample. */
function agentSamples(from: number, count: number): SeriesRecord[][] {
  const panel = new PanelModel(defaultPanel, rngFor('ven-cost'));
  return Array.from({ length: count }, (_, i) => {
    panel.step();
    return meteringRecords(meteringSchema.parse(panel.metering('ven-cost', from + i * 5000)));
  });
}

/** A document client that counts requests by command and the write units dynalite reports for them. */
function metered(client: DynamoDBDocumentClient) {
  const seen = { wru: 0, requests: {} as Record<string, number> };
  const send = client.send.bind(client) as (
    command: unknown,
  ) => Promise<{ ConsumedCapacity?: { CapacityUnits?: number } }>;
  const proxy = new Proxy(client, {
    get: (target, prop) =>
      prop === 'send'
        ? async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
            seen.requests[command.constructor.name] = (seen.requests[command.constructor.name] ?? 0) + 1;
            command.input.ReturnConsumedCapacity = 'TOTAL';
            const res = await send(command);
            if (command.constructor.name !== 'QueryCommand') seen.wru += res.ConsumedCapacity?.CapacityUnits ?? 0;
            return res;
          }
        : Reflect.get(target, prop),
  });
  return { client: proxy, seen, reset: () => Object.assign(seen, { wru: 0, requests: {} }) };
}

describe('reads right after a write, under a long lag', () => {
  it('a consistent read finds the template of a device first written a moment ago, in a process that never saw it', async () => {
    // its own DynamoDB, with a lag that outlasts the test: the template and the samples item are both still invisible to
    // eventually consistent reads (it answered 500, "template … is missing", when the template read was not consistent)
    const lagged = await startDynamo(join(dir, 'lagged'), { lagMs: 60_000 });
    try {
      await ensureTables(lagged.client, { series: tables.timeseries });
      const client = documentClient(lagged.client);
      const t = DAY0 + 20 * 86_400_000;
      await new DynamoTelemetryStore({ client, tableName: 'series', retentionDays: 30 }).write([sample(t, 'c7', 3)]);
      const reader = new DynamoTelemetryStore({ client, tableName: 'series', retentionDays: 30 });
      const q = { series: 'ven_load_sample' as const, deviceId: 'ven-001', start: t, end: t, limit: 10 };
      expect((await reader.query(q)).items).toEqual([]);
      expect((await reader.query({ ...q, consistent: true })).items).toEqual([sample(t, 'c7', 3)]);
    } finally {
      await lagged.close();
    }
  });
});

describe('the packed layout', () => {
  it('stores a metering sample as one compressed item, its static circuit description once per device', async () => {
    const one = new DynamoTelemetryStore({
      client: db,
      tableName: 'one',
      retentionDays: 30,
    });
    const seed = meteringSchema.parse(fixture('volttron-metering'));
    await one.write(meteringRecords(seed));
    const items = await scan('one');
    const samples = items.filter((i) => i.pk === 'samples#ven-001#2024-10-23');
    expect(samples).toEqual([
      {
        pk: 'samples#ven-001#2024-10-23',
        bucket: expect.stringMatching(/^01729700000000#/),
        w: expect.any(Number),
        z: expect.any(Uint8Array),
        expiresAt: 1729700000 + 30 * 86_400,
      },
    ]);
    const contents = contentsOf(samples[0]!);
    expect(contents.ven_telemetry).toEqual({
      '0': [expect.stringMatching(/^[\w-]{8}$/), 8.2, 4.8, 5, 13, 85.5, 200, 240, 48, 34.2, 17.1, 'evt-123'],
    });
    // per circuit only what changes: currentKw, currentAmps, enabled (circuit_1 also its load's kW and shed)
    expect(contents.ven_load_sample).toEqual({ '0': [expect.any(String), 2.1, 8.75, true, 2.1, 5, 0, 0, false] });
    const templates = items.filter((i) => (i.pk as string).endsWith('#templates'));
    expect(templates.map((t) => t.pk).sort()).toEqual([
      'ven_load_sample#ven-001#templates',
      'ven_telemetry#ven-001#templates',
    ]);
    expect(JSON.stringify(templates)).toContain('"Main HVAC"');
    expect(JSON.stringify(contents)).not.toContain('Main HVAC');
    expect(items).toHaveLength(3);
  });

  it('writes a sample of the 8-circuit agent in 1 write unit, a batch of 12 in 1 too, templates once', async () => {
    const meter = metered(db);
    const cost = new DynamoTelemetryStore({ client: meter.client, tableName: 'cost', retentionDays: 30 });
    const from = DAY0 + 2 * 86_400_000;
    const samples = agentSamples(from, 30);
    await cost.write(samples[0]!);
    expect(meter.seen.requests).toEqual({ PutCommand: 3 });
    meter.reset();
    // one message at a time: a PutItem each, billed on its own ~200 B, whatever was written before
    for (const s of samples.slice(1, 6)) await cost.write(s);
    expect(meter.seen).toEqual({ wru: 5, requests: { PutCommand: 5 } });
    meter.reset();
    // a batch of 12 (one minute): one item of ~900 B
    await cost.write(samples.slice(13, 25).flat());
    expect(meter.seen).toEqual({ wru: 1, requests: { PutCommand: 1 } });
    const batch = (await scan('cost')).find((i) =>
      (i.bucket as string).startsWith(String(samples[13]![0]!.time).padStart(14, '0')),
    )!;
    expect((batch.z as Uint8Array).length).toBeLessThan(900);
  });

  it('leaves the table as it was when a batch comes again, and reads overlapping batches as one', async () => {
    const from = DAY0 + 3 * 86_400_000 + 2_000;
    const samples = agentSamples(from, 18);
    const one = new DynamoTelemetryStore({
      client: db,
      tableName: 'one',
      retentionDays: 30,
    });
    const two = new DynamoTelemetryStore({
      client: db,
      tableName: 'two',
      retentionDays: 30,
    });
    await one.write(samples.slice(0, 12).flat());
    const once = await scan('one');
    await one.write(samples.slice(0, 12).flat());
    expect(sorted(await scan('one'))).toEqual(sorted(once));
    await one.write(samples.slice(6, 18).flat());
    await two.write(samples.flat());
    for (const series of ['ven_telemetry', 'ven_load_sample'] as const) {
      const q = { series, deviceId: 'ven-cost', start: from, end: from + 120_000, limit: 1000 };
      const page = await one.query(q);
      expect(page.items).toEqual((await two.query(q)).items);
      expect(page.items).toHaveLength(18 * (series === 'ven_telemetry' ? 1 : 8));
    }
  });

  it('splits a write that would pass 400 KB, and a long one into items of at most five minutes each', async () => {
    const t0 = DAY0 + 4 * 86_400_000;
    const noise = Array.from({ length: 6 }, () => randomBytes(90_000).toString('base64'));
    const big = (i: number): SeriesRecord => ({
      series: 'ven_telemetry',
      deviceId: 'ven-big',
      time: t0 + i * 1000,
      dimensions: { ven_id: 'ven-big' },
      measures: { usedPowerKw: i, note: noise[i]! },
    });
    await store.write([0, 1, 2, 3, 4].map(big));
    await store.write([big(2), big(5)]);
    const items = (await scan('series')).filter((i) => (i.pk as string).startsWith('samples#ven-big#'));
    expect(items.length).toBeGreaterThan(2);
    expect(Math.max(...items.map((i) => (i.z as Uint8Array).length))).toBeLessThan(400_000);
    const page = await store.query({
      series: 'ven_telemetry',
      deviceId: 'ven-big',
      start: t0,
      end: t0 + 60_000,
      limit: 4,
    });
    const rest = await store.query({
      series: 'ven_telemetry',
      deviceId: 'ven-big',
      start: t0,
      end: t0 + 60_000,
      limit: 4,
      next: page.next!,
    });
    expect([...page.items, ...rest.items]).toEqual([5, 4, 3, 2, 1, 0].map(big));
    // an hour of samples in one write: twelve items, none spanning five minutes
    const long = Array.from({ length: 720 }, (_, i) => sample(t0 + 3_600_000 + i * 5000, 'c1', i));
    await store.write(long);
    const firsts = (await scan('series'))
      .filter((i) => i.pk === 'samples#ven-001#2026-01-05')
      .map((i) => Number((i.bucket as string).slice(0, 14)));
    expect(firsts.sort()).toEqual(Array.from({ length: 12 }, (_, i) => t0 + 3_600_000 + i * SPAN_MS));
    const all = await store.query({
      series: 'ven_load_sample',
      deviceId: 'ven-001',
      start: t0 + 3_600_000,
      end: t0 + 7_200_000,
      limit: 1000,
    });
    expect(all.items).toEqual([...long].reverse());
  });
  it('gives each record its write time on request, the first write of a time winning (data quality: late, out of order)', async () => {
    const clock = { now: DAY0 + 10 * MIN };
    const clocked = new DynamoTelemetryStore({
      client: db,
      tableName: 'two',
      retentionDays: 30,
      now: () => clock.now,
    });
    const late = (t: number): SeriesRecord => ({ ...sample(t), deviceId: 'ven-w' });
    await clocked.write([late(DAY0), late(DAY0 + MIN)]);
    clock.now = DAY0 + 20 * MIN;
    await clocked.write([late(DAY0 + MIN), late(DAY0 + 2 * MIN)]);
    const q = { series: 'ven_load_sample' as const, deviceId: 'ven-w', start: DAY0, end: DAY0 + 5 * MIN, limit: 10 };
    const { items } = await clocked.query({ ...q, withWriteTime: true });
    expect(items.map((r) => [r.time - DAY0, r.writtenAt! - DAY0])).toEqual([
      [2 * MIN, 20 * MIN],
      [MIN, 10 * MIN],
      [0, 10 * MIN],
    ]);
    expect((await clocked.query(q)).items.every((r) => !('writtenAt' in r))).toBe(true);
  });
});
