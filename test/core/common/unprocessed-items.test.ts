// Every BatchWriteItem / BatchGetItem path of the stores, against the local DynamoDB in fault mode (30 % of a batch's
// items left unprocessed and not applied): each resends with backoff until all are done, and a batch DynamoDB keeps
// refusing fails loudly after the bound instead of being dropped. A stored fleet event report that names a part
// that is not stored is an error, not a shorter CSV.
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FAULT_RATES } from '../../../bin/local/aws/aws-rules.js';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { BATCH_RETRY, backoffMs, batchGetAll, batchWriteAll } from '../../../lambdas/core/common/dynamo.js';
import { DynamoFleetEventStore } from '../../../lambdas/core/dr/fleet-events-dynamodb.js';
import { DynamoInventoryStore } from '../../../lambdas/core/inventory/inventory-dynamodb.js';
import type { FleetEventRecord } from '../../../lambdas/core/dr/fleet-event-store.js';
import { DynamoDeviceRegistry } from '../../../lambdas/core/fleet/registry-dynamodb.js';
import { DynamoRollupStore } from '../../../lambdas/core/analytics/rollups-dynamodb.js';
import type { RollupRow } from '../../../lambdas/core/analytics/rollups.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';

const T = Date.UTC(2026, 0, 1);
const NO_THROTTLE = { ...DEFAULT_FAULT_RATES, dynamodbThrottle: 0 };
let dir: string;
let half: LocalDynamo;
let stubborn: LocalDynamo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-unprocessed-'));
  // lag 0: these tests are about the batches; consistency has its own tests
  half = await startDynamo(join(dir, 'half'), { lagMs: 0, faults: { ...NO_THROTTLE, unprocessed: 0.3, seed: 3 } });
  stubborn = await startDynamo(join(dir, 'stubborn'), {
    lagMs: 0,
    faults: { ...NO_THROTTLE, unprocessed: 0.99, seed: 3 },
  });
  const defs = {
    rollups: tables.rollups,
    inventory: tables.inventory,
    devices: tables.devices,
    fleetEvents: tables.fleetEvents,
  };
  await ensureTables(half.client, defs);
  await ensureTables(stubborn.client, { rollups: tables.rollups });
});

afterAll(async () => {
  await half?.close();
  await stubborn?.close();
  await rm(dir, { recursive: true, force: true });
});

const row = (start: number, kwh: number): RollupRow => ({
  start,
  end: start + 900_000,
  samples: 3,
  intervals: 1,
  importKwh: kwh,
  exportKwh: 0,
  kwSum: kwh * 4,
  peakKw: kwh * 4,
  onlineHours: 0.25,
  socSum: 0,
  socN: 0,
});

describe('every batch path resends what DynamoDB leaves unprocessed', () => {
  it('rollups: 150 rows put and read back (BatchWriteItem, consistent BatchGetItem)', async () => {
    const store = new DynamoRollupStore(documentClient(half.client), 'rollups', 730);
    const ids = Array.from({ length: 150 }, (_, i) => `node-${i}`);
    for (const id of ids) await store.put(id, '15m', [row(T, Number(id.slice(5)))]);
    const many = Array.from({ length: 60 }, (_, i) => row(T + i * 900_000, i));
    await store.put('node-many', '15m', many);
    const got = await store.intervals(ids, T);
    expect([...got.keys()].sort()).toEqual([...ids].sort());
    expect(got.get('node-42')?.importKwh).toBe(42);
    const back = await store.query('node-many', '15m', {
      from: T,
      to: T + 60 * 900_000,
      limit: 100,
      oldestFirst: true,
      consistent: true,
    });
    expect(back.items.map((r) => r.importKwh)).toEqual(many.map((r) => r.importKwh));
  });

  it('inventory: 80 assets replaced, then 30 of them removed (puts and deletes in one batch stream)', async () => {
    const store = new DynamoInventoryStore(documentClient(half.client), 'inventory');
    const asset = (i: number) =>
      ({ asset_id: `a-${i}`, site_id: 's-1', technology: 'battery', capacity_kw: i + 1 }) as never;
    await store.replace({
      sites: [{ site_id: 's-1' } as never],
      assets: Array.from({ length: 80 }, (_, i) => asset(i)),
    });
    const all = async () => {
      const ids: string[] = [];
      let next: string | undefined;
      do {
        const page = await store.listAssets({ limit: 1000, ...(next && { next }) });
        ids.push(...page.items.map((a) => a.asset_id));
        next = page.next;
      } while (next);
      return ids.sort();
    };
    expect((await all()).length).toBe(80);
    await store.replace({
      sites: [{ site_id: 's-1' } as never],
      assets: Array.from({ length: 50 }, (_, i) => asset(i)),
    });
    expect(await all()).toEqual(Array.from({ length: 50 }, (_, i) => `a-${i}`).sort());
  });

  it("registry: the listing reads 110 devices' states in batches and loses none", async () => {
    const registry = new DynamoDeviceRegistry(documentClient(half.client), 'devices', () => T + 10_000);
    const ids = Array.from({ length: 110 }, (_, i) => `ven-${String(i).padStart(3, '0')}`);
    for (const id of ids) await registry.recordHeartbeat('ven', id, T, { usedPowerKw: 1 });
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = await registry.list('ven', { limit: 100, ...(next && { next }) });
      for (const d of page.items) if (d.lastSeen) seen.push(d.deviceId);
      next = page.next;
    } while (next);
    expect(seen.sort()).toEqual(ids);
  });

  it('fleet events: a report of many parts reads back whole; a part gone missing is an error, not a shorter CSV', async () => {
    const client = documentClient(half.client);
    const store = new DynamoFleetEventStore(client, 'fleetEvents', () => T);
    const event = { eventId: 'evt-1', startedAt: T } as FleetEventRecord;
    // over 1.5 million characters of JSON a part: three parts
    const parts = Array.from({ length: 320 }, (_, i) => ({ venId: `ven-${i}`, intervals: `${'0,'.repeat(5000)}${i}` }));
    expect(await store.putReport(event, { report: { total: 1 }, parts })).toBe(true);
    const stored = await store.getReport('evt-1', true);
    expect(stored?.parts).toEqual(parts);
    const keys = (await client.send(new GetCommand({ TableName: 'fleetEvents', Key: { eventId: 'evt-1/report' } })))
      .Item!.parts as string[];
    expect(keys.length).toBeGreaterThan(1);
    await client.send(new DeleteCommand({ TableName: 'fleetEvents', Key: { eventId: keys[0]! } }));
    await expect(store.getReport('evt-1', true)).rejects.toThrow(`names 1 part(s) that are not stored: ${keys[0]}`);
  });
});

describe('a batch DynamoDB keeps refusing fails loudly', () => {
  it('after the bound, naming what was left, for writes and reads', async () => {
    const client = documentClient(stubborn.client);
    const requests = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: 'x', sk: String(i) } } }));
    const retry = { attempts: 4, baseMs: 1, capMs: 5 };
    await expect(batchWriteAll(client, 'rollups', requests, 'rollups', retry)).rejects.toThrow(
      /^rollups: DynamoDB left \d+ write\(s\) unprocessed after 4 attempts$/,
    );
    const keys = Array.from({ length: 25 }, (_, i) => ({ pk: 'x', sk: String(i) }));
    await expect(batchGetAll(client, 'rollups', keys, 'rollups', {}, retry)).rejects.toThrow(
      /^rollups: DynamoDB left \d+ key\(s\) unprocessed after 4 attempts$/,
    );
  });

  it('waits a jittered, growing, capped backoff between resends', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const waits = Array.from({ length: 200 }, () => backoffMs(attempt));
      const bound = Math.min(BATCH_RETRY.capMs, BATCH_RETRY.baseMs * 2 ** attempt);
      expect(Math.max(...waits)).toBeLessThan(bound);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
      expect(new Set(waits).size).toBeGreaterThan(150); // jittered, not one fixed wait
      expect(Math.max(...waits)).toBeGreaterThan(bound / 2);
    }
  });
});
