// The DynamoDB time-series adapter against a real local DynamoDB (dynalite): packed 30-second bucket items, what a
// sample costs to write, newest first across days, opaque page tokens, TTL retention, idempotent rewrites, the
// 400 KB item limit. (timeseries-equivalence.test.ts checks every read against the old layout.)
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { ValidationError } from '../../lambdas/core/errors.js';
import { defaultPanel, PanelModel } from '../../device/panel.js';
import { rngFor } from '../../device/random.js';
import { meteringRecords } from '../../lambdas/core/ingest.js';
import type { SeriesRecord } from '../../lambdas/core/ports.js';
import { meteringSchema } from '../../lambdas/core/schemas.js';
import { tables } from '../../lambdas/core/tables.js';
import { BUCKET_MS, DynamoTelemetryStore } from '../../lambdas/core/timeseries-dynamodb.js';
import { fixture } from '../fixture.js';

let dir: string;
let dynamo: LocalDynamo;
let store: DynamoTelemetryStore;
const DAY0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-ts-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, Object.fromEntries(['series', 'one', 'two', 'cost'].map((t) => [t, tables.timeseries])));
  store = new DynamoTelemetryStore({ client: documentClient(dynamo.client), tableName: 'series', retentionDays: 30 });
});
afterAll(async () => {
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
      const page = await store.query({ series: 'ven_load_sample', deviceId: 'ven-001', start: DAY0 - 2 * 3_600_000, end: DAY0 + 2 * 3_600_000, limit: 70, next });
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
      series: 'ven_load_sample', deviceId: 'ven-001', start: DAY0 - 3_600_000, end: DAY0 + 3_600_000, limit: 5,
      where: { dimension: 'load_id', value: 'c2' },
    });
    expect(page.items).toHaveLength(5);
    expect(page.items.every((r) => r.dimensions.load_id === 'c2')).toBe(true);
    expect(page.next).toBeDefined();
  });

  it('stores a re-delivered record once, with a TTL from the end of its bucket', async () => {
    const t = DAY0 + 5 * 86_400_000 + 7_000;
    await store.write([sample(t, 'c9', 2)]);
    await store.write([sample(t, 'c9', 2)]);
    const items = (await scan('series')).filter((i) => i.pk === 'ven_load_sample#ven-001#2026-01-06');
    expect(items).toEqual([{ pk: 'ven_load_sample#ven-001#2026-01-06', bucket: String(t - 7_000).padStart(14, '0'), expiresAt: (t - 7_000 + BUCKET_MS) / 1000 + 30 * 86_400, '7000': [expect.any(String), 2, true] }]);
    const page = await store.query({ series: 'ven_load_sample', deviceId: 'ven-001', start: t - 1, end: t + 1, limit: 10 });
    expect(page.items).toEqual([sample(t, 'c9', 2)]);
  });

  it('refuses a page token from elsewhere', async () => {
    const q = { series: 'ven_load_sample' as const, deviceId: 'ven-001', start: DAY0, end: DAY0 + 1, limit: 1 };
    await expect(store.query({ ...q, next: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.query({ ...q, next: Buffer.from('{"day":"1999-01-01"}').toString('base64url') })).rejects.toBeInstanceOf(ValidationError);
  });
});

const scan = async (table: string) => (await documentClient(dynamo.client).send(new ScanCommand({ TableName: table }))).Items ?? [];
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
  const send = client.send.bind(client) as (command: unknown) => Promise<{ ConsumedCapacity?: { CapacityUnits?: number } }>;
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

describe('the packed layout', () => {
  it('stores a metering sample as one item per series and bucket, its static circuit description once per device', async () => {
    const one = new DynamoTelemetryStore({ client: documentClient(dynamo.client), tableName: 'one', retentionDays: 30 });
    const seed = meteringSchema.parse(fixture('seed-001-metering'));
    await one.write(meteringRecords(seed));
    const items = await scan('one');
    const telemetry = items.find((i) => i.pk === 'ven_telemetry#ven-001#2024-10-23');
    // 1729700000 s is 20 s into the bucket that starts at 1729699980000 ms
    expect(telemetry).toEqual({
      pk: 'ven_telemetry#ven-001#2024-10-23',
      bucket: '01729699980000',
      expiresAt: 1729700010 + 30 * 86_400,
      '20000': [expect.stringMatching(/^[\w-]{8}$/), 8.2, 4.8, 5, 13, 85.5, 200, 240, 48, 34.2, 17.1, 'evt-123'],
    });
    const loads = items.find((i) => i.pk === 'ven_load_sample#ven-001#2024-10-23')!;
    // per circuit only what changes: currentKw, currentAmps, enabled (circuit_1 also its load's kW and shed)
    expect(loads['20000']).toEqual([expect.any(String), 2.1, 8.75, true, 2.1, 5, 0, 0, false]);
    const templates = items.filter((i) => (i.pk as string).endsWith('#templates'));
    expect(templates.map((t) => t.pk).sort()).toEqual(['ven_load_sample#ven-001#templates', 'ven_telemetry#ven-001#templates']);
    expect(JSON.stringify(templates)).toContain('"Main HVAC"');
    expect(JSON.stringify([telemetry, loads])).not.toContain('Main HVAC');
    expect(items).toHaveLength(4);
  });

  it('writes a sample of the 8-circuit agent in 2 write units, a batch of 12 in at most 6, templates once', async () => {
    const meter = metered(documentClient(dynamo.client));
    const cost = new DynamoTelemetryStore({ client: meter.client, tableName: 'cost', retentionDays: 30 });
    const from = Math.ceil(DAY0 / BUCKET_MS) * BUCKET_MS + 2 * 86_400_000;
    const samples = agentSamples(from, 30);
    await cost.write(samples[0]!);
    expect(meter.seen.requests).toEqual({ PutCommand: 2, UpdateCommand: 2 });
    meter.reset();
    // one message at a time: each fills its two bucket items (telemetry, circuits) a little more, never past 1 KB
    for (const s of samples.slice(1, 6)) await cost.write(s);
    expect(meter.seen).toEqual({ wru: 10, requests: { UpdateCommand: 10 } });
    const full = (await scan('cost')).filter((i) => i.bucket === String(from).padStart(14, '0'));
    expect(full.map((i) => Object.keys(i).length - 3)).toEqual([6, 6]);
    const sampleBytes = full.map((i) => Math.max(...Object.entries(i).filter(([k]) => /^\d+$/.test(k)).map(([, v]) => JSON.stringify(v).length)));
    // as JSON: ~50 B of aggregates and ~190 B for 8 circuits, against nine items of ~1 KB in the old layout
    const [aggregate, circuits] = sampleBytes.sort((a, b) => a - b);
    expect(aggregate).toBeLessThan(80);
    expect(circuits).toBeLessThan(220);
    meter.reset();
    // a batch of 12 (one minute) straddling three buckets: one update per series and bucket
    await cost.write(samples.slice(13, 25).flat());
    expect(meter.seen.requests).toEqual({ UpdateCommand: 6 });
    expect(meter.seen.wru).toBeLessThanOrEqual(6);
  });

  it('leaves the table as it was when a batch comes again, and merges overlapping batches', async () => {
    const from = DAY0 + 3 * 86_400_000 + 2_000;
    const samples = agentSamples(from, 18);
    const one = new DynamoTelemetryStore({ client: documentClient(dynamo.client), tableName: 'one', retentionDays: 30 });
    const two = new DynamoTelemetryStore({ client: documentClient(dynamo.client), tableName: 'two', retentionDays: 30 });
    await one.write(samples.slice(0, 12).flat());
    const once = await scan('one');
    await one.write(samples.slice(0, 12).flat());
    expect(sorted(await scan('one'))).toEqual(sorted(once));
    await one.write(samples.slice(6, 18).flat());
    await two.write(samples.slice(0, 9).flat());
    await two.write(samples.slice(9, 18).flat());
    await two.write(meteringRecords(meteringSchema.parse(fixture('seed-001-metering'))));
    expect(sorted(await scan('two'))).toEqual(sorted(await scan('one')));
    const page = await two.query({ series: 'ven_telemetry', deviceId: 'ven-cost', start: from, end: from + 120_000, limit: 100 });
    expect(page.items.map((r) => r.time)).toEqual(samples.map((s) => s[0]!.time).reverse());
  });

  it('keeps every item under 400 KB: samples that no longer fit get items of their own beside their bucket', async () => {
    const t0 = DAY0 + 4 * 86_400_000;
    const big = (i: number): SeriesRecord => ({
      series: 'ven_telemetry', deviceId: 'ven-big', time: t0 + i * 1000, dimensions: { ven_id: 'ven-big' }, measures: { usedPowerKw: i, note: `${i}`.padEnd(120_000, 'x') },
    });
    await store.write([0, 1, 2, 3, 4].map(big));
    await store.write([big(2), big(5)]);
    const items = (await scan('series')).filter((i) => (i.pk as string).startsWith('ven_telemetry#ven-big#'));
    expect(items.length).toBeGreaterThan(1);
    const page = await store.query({ series: 'ven_telemetry', deviceId: 'ven-big', start: t0, end: t0 + 60_000, limit: 4 });
    const rest = await store.query({ series: 'ven_telemetry', deviceId: 'ven-big', start: t0, end: t0 + 60_000, limit: 4, next: page.next! });
    expect([...page.items, ...rest.items]).toEqual([5, 4, 3, 2, 1, 0].map(big));
  });
});
