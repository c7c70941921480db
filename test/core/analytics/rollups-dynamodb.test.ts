// The rollup store's late-data markers against a real local DynamoDB (dynalite): a marker rewritten while a pass was
// recomputing its bucket survives that pass's delete, so the next pass sees the sample that came meanwhile; and a
// late sample is marked only after its write, only when its bucket had closed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import type { SeriesRecord, TelemetryStore } from '../../../lambdas/core/timeseries/telemetry-store.js';
import { ROLLUP_GRACE_MS, markingLateSamples } from '../../../lambdas/core/analytics/rollup-pass.js';
import { DynamoRollupStore } from '../../../lambdas/core/analytics/rollups-dynamodb.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';

let dir: string;
let dynamo: LocalDynamo;
let store: DynamoRollupStore;
const T = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-rollups-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { rollups: tables.rollups });
  store = new DynamoRollupStore(documentClient(dynamo.client), 'rollups', 730);
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('late-data markers', () => {
  it('a marker written again after a pass read it is not deleted by that pass', async () => {
    const marker = { deviceId: 'ven-1', series: 'ven_telemetry' as const, bucket: T };
    await store.markDirty([marker], T + 1000);
    const [seen] = await store.dirty(10);
    await store.markDirty([marker], T + 2000); // another late sample, while the pass recomputes
    await store.clean(seen!);
    expect(await store.dirty(10)).toEqual([{ ...marker, at: T + 2000 }]);
    await store.clean({ ...marker, at: T + 2000 });
    expect(await store.dirty(10)).toEqual([]);
  });

  it('a sample is marked after the store took it, and only when its bucket ended more than the grace ago', async () => {
    const order: string[] = [];
    const inner: TelemetryStore = { write: async () => void order.push('write'), query: async () => ({ items: [] }) };
    const marking = { markDirty: async (m: readonly unknown[]) => void order.push(`mark ${m.length}`) };
    const now = T + 3_600_000;
    const record = (time: number): SeriesRecord => ({
      series: 'ven_telemetry',
      deviceId: 'ven-1',
      time,
      dimensions: {},
      measures: { usedPowerKw: 1 },
    });
    const late = markingLateSamples(inner, marking, () => now);
    // two samples of one closed bucket (one marker), one of a bucket that ended just inside the grace (none)
    await late.write([record(T), record(T + 60_000), record(now - ROLLUP_GRACE_MS - 1000)]);
    expect(order).toEqual(['write', 'mark 1']);
    await late.write([record(now - 5000)]);
    expect(order).toEqual(['write', 'mark 1', 'write']);
  });
});
