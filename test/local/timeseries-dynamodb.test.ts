// The DynamoDB time-series adapter against a real local DynamoDB (dynalite): per-device-per-day partitions,
// newest first across days, opaque page tokens, TTL retention, idempotent rewrites.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { ValidationError } from '../../lambdas/core/errors.js';
import type { SeriesRecord } from '../../lambdas/core/ports.js';
import { tables } from '../../lambdas/core/tables.js';
import { DynamoTelemetryStore } from '../../lambdas/core/timeseries-dynamodb.js';

let dir: string;
let dynamo: LocalDynamo;
let store: DynamoTelemetryStore;
const DAY0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-ts-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { series: tables.timeseries });
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

  it('stores a re-delivered record once, with a TTL from its own time', async () => {
    const t = DAY0 + 5 * 86_400_000;
    await store.write([sample(t, 'c9', 2)]);
    await store.write([sample(t, 'c9', 2)]);
    const items = (await documentClient(dynamo.client).send(new ScanCommand({ TableName: 'series' }))).Items!.filter((i) => i.time === t);
    expect(items).toHaveLength(1);
    expect(items[0]!.expiresAt).toBe(t / 1000 + 30 * 86_400);
  });

  it('refuses a page token from elsewhere', async () => {
    const q = { series: 'ven_load_sample' as const, deviceId: 'ven-001', start: DAY0, end: DAY0 + 1, limit: 1 };
    await expect(store.query({ ...q, next: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.query({ ...q, next: Buffer.from('{"day":"1999-01-01"}').toString('base64url') })).rejects.toBeInstanceOf(ValidationError);
  });
});
