// The rollup pass puts an hour's four 15-minute rows and then builds the hour (day, month) from them: on DynamoDB an
// eventually consistent read of rows just written may miss them, and the hour would then lack its last quarter for
// good. Against the local DynamoDB with a lag longer than the pass, the hour still has all four quarters.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { ROLLUP_GRACE_MS, runRollupPass } from '../../../lambdas/core/analytics/rollup-pass.js';
import { DynamoRollupStore } from '../../../lambdas/core/analytics/rollups-dynamodb.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { DynamoTelemetryStore } from '../../../lambdas/core/timeseries/timeseries-dynamodb.js';

const H = Date.UTC(2026, 0, 1, 10);
let dir: string;
let lagging: LocalDynamo;
let plain: LocalDynamo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-rollup-consistency-'));
  // the rollups lag far longer than the pass takes; the samples are read from a store without lag (not under test)
  lagging = await startDynamo(join(dir, 'rollups'), { lagMs: 10_000 });
  plain = await startDynamo(join(dir, 'timeseries'), { lagMs: 0 });
  await ensureTables(lagging.client, { rollups: tables.rollups });
  await ensureTables(plain.client, { timeseries: tables.timeseries });
});

afterAll(async () => {
  await lagging?.close();
  await plain?.close();
  await rm(dir, { recursive: true, force: true });
});

it('an hour built right after its quarters were put has all four of them', async () => {
  const telemetry = new DynamoTelemetryStore({
    client: documentClient(plain.client),
    tableName: 'timeseries',
    retentionDays: 30,
    now: () => H + 60_000,
  });
  // a sample every 5 minutes: three per quarter, twelve in the hour
  await telemetry.write(
    Array.from({ length: 12 }, (_, i) => ({
      series: 'ven_telemetry' as const,
      deviceId: 'ven-1',
      time: H + i * 300_000,
      dimensions: {},
      measures: { usedPowerKw: 4 },
    })),
  );
  const rollups = new DynamoRollupStore(documentClient(lagging.client), 'rollups', 730);
  await rollups.setWatermark(H);
  const fleet = async () => ({
    devices: [{ deviceId: 'ven-1', series: 'ven_telemetry' as const }],
    sites: new Map(),
    portfolio: ['ven-1'],
  });
  const result = await runRollupPass({ telemetry, rollups, fleet }, H + 3_600_000 + ROLLUP_GRACE_MS);
  expect([result.from, result.to]).toEqual([H, H + 3_600_000]);
  const read = (tier: '15m' | '1h') =>
    rollups.query('ven-1', tier, { from: H, to: H + 3_600_000, limit: 10, oldestFirst: true, consistent: true });
  expect((await read('15m')).items.map((r) => r.samples)).toEqual([3, 3, 3, 3]);
  expect((await read('1h')).items.map((r) => [r.start, r.samples, r.intervals])).toEqual([[H, 12, 4]]);
});

it('samples stored just before the pass are in its rows', async () => {
  const H2 = H + 86_400_000;
  // the samples in the lagging store too: the pass runs right after they were stored
  await ensureTables(lagging.client, { timeseries: tables.timeseries });
  const telemetry = new DynamoTelemetryStore({
    client: documentClient(lagging.client),
    tableName: 'timeseries',
    retentionDays: 30,
    now: () => H2 + 60_000,
  });
  await telemetry.write(
    Array.from({ length: 3 }, (_, i) => ({
      series: 'ven_telemetry' as const,
      deviceId: 'ven-2',
      time: H2 + i * 300_000,
      dimensions: {},
      measures: { usedPowerKw: 4 },
    })),
  );
  const rollups = new DynamoRollupStore(documentClient(lagging.client), 'rollups', 730);
  await rollups.setWatermark(H2);
  const fleet = async () => ({
    devices: [{ deviceId: 'ven-2', series: 'ven_telemetry' as const }],
    sites: new Map(),
    portfolio: ['ven-2'],
  });
  await runRollupPass({ telemetry, rollups, fleet }, H2 + 900_000 + ROLLUP_GRACE_MS);
  const rows = await rollups.query('ven-2', '15m', { from: H2, to: H2 + 900_000, limit: 10, consistent: true });
  expect(rows.items.map((r) => r.samples)).toEqual([3]);
});
