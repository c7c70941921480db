// The time-bucketed listings against a real local DynamoDB (dynalite): fleet events month by month (two years at
// most), refusals day by day (a week at most) or per device, newest first across buckets, page tokens between.
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { DynamoFleetEventStore } from '../../../lambdas/core/dr/fleet-events-dynamodb.js';
import type { FleetEventRecord } from '../../../lambdas/core/dr/fleet-event-store.js';
import type { Page } from '../../../lambdas/core/common/page.js';
import { DynamoRefusalLog } from '../../../lambdas/core/ingest/refusals-dynamodb.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { eventually } from '../../e2e/helpers.js';

let dir: string;
let dynamo: LocalDynamo;
const NOW = Date.UTC(2026, 0, 15, 12);
const DAY = 86_400_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-list-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { events: tables.fleetEvents, refusals: tables.refusals });
});
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every page of a listing, as arrays of what `pick` takes from each item. */
async function pages<T, U>(list: (next?: string) => Promise<Page<T>>, pick: (t: T) => U): Promise<U[][]> {
  const all: U[][] = [];
  let next: string | undefined;
  do {
    const page = await list(next);
    all.push(page.items.map(pick));
    next = page.next;
  } while (next && all.length < 50);
  return all;
}

const fleetEvent = (eventId: string, startedAt: number): FleetEventRecord => ({
  eventId,
  requested_kw: 1,
  duration_sec: 60,
  startedAt,
  endsAt: startedAt + 60_000,
  allocations: [],
  shortfall_kw: 1,
  excluded: [],
});

describe('fleet events by month', () => {
  it('lists newest first across months, page by page, and stops two years back', async () => {
    const store = new DynamoFleetEventStore(documentClient(dynamo.client), 'events', () => NOW);
    const starts = {
      'e-jan-b': Date.UTC(2026, 0, 14),
      'e-jan-a': Date.UTC(2026, 0, 2),
      'e-dec': Date.UTC(2025, 11, 31, 23, 59),
      'e-feb-2024': Date.UTC(2024, 1, 10),
      'e-dec-2023': Date.UTC(2023, 11, 10),
    };
    for (const [id, at] of Object.entries(starts)) expect(await store.create(fleetEvent(id, at))).toBe(true);
    const ids = (limit: number) =>
      pages(
        (next) => store.list({ limit, ...(next && { next }) }),
        (e) => e.eventId,
      );
    // the listing is an index query, eventually consistent: the events show within the lag
    await eventually(async () => (await ids(100)).flat().length === 4);
    expect(await ids(100)).toEqual([['e-jan-b', 'e-jan-a', 'e-dec', 'e-feb-2024']]);
    expect((await ids(2)).flat()).toEqual(['e-jan-b', 'e-jan-a', 'e-dec', 'e-feb-2024']);
    expect((await ids(3))[0]).toEqual(['e-jan-b', 'e-jan-a', 'e-dec']);
    expect(await store.get('e-dec')).toEqual(fleetEvent('e-dec', starts['e-dec']));
    // TTL: two years (the default archive retention) after it started; the attribute stays out of the record
    const raw = await documentClient(dynamo.client).send(
      new GetCommand({ TableName: 'events', Key: { eventId: 'e-dec' } }),
    );
    expect(raw.Item!.expiresAt).toBe(Math.floor(starts['e-dec'] / 1000) + 730 * 86_400);
  });

  it('lists an event scheduled into next month first, and only the months from `since` when asked (the sweep)', async () => {
    const late = Date.UTC(2026, 0, 28, 12);
    const store = new DynamoFleetEventStore(documentClient(dynamo.client), 'events', () => late);
    expect(await store.create(fleetEvent('e-feb-scheduled', Date.UTC(2026, 1, 3, 17)))).toBe(true);
    const ids = (since?: number) =>
      pages(
        (next) => store.list({ limit: 100, ...(since !== undefined && { since }), ...(next && { next }) }),
        (e) => e.eventId,
      );
    // an index query again: the event just created shows within the lag
    await eventually(async () => (await ids()).flat().includes('e-feb-scheduled'));
    expect((await ids()).flat().slice(0, 3)).toEqual(['e-feb-scheduled', 'e-jan-b', 'e-jan-a']);
    // 14 days back from the 28th: January and February only
    expect((await ids(late - 14 * DAY)).flat()).toEqual(['e-feb-scheduled', 'e-jan-b', 'e-jan-a']);
  });
});

describe('refusals by day and by device', () => {
  let refusals: DynamoRefusalLog;
  beforeAll(async () => {
    refusals = new DynamoRefusalLog(documentClient(dynamo.client), 'refusals', () => NOW);
    const at = { today: NOW - 1000, yesterday: NOW - DAY, sixDays: NOW - 6 * DAY - 3600_000, eightDays: NOW - 8 * DAY };
    await refusals.record(
      { reason: 'schema', message: 'today', clientId: 'ven-1', topic: 'volttron/metering' },
      at.today,
    );
    await refusals.record({ reason: 'oversize', message: 'yesterday', topic: 'volttron/metering' }, at.yesterday);
    await refusals.record({ reason: 'malformed-json', message: 'six days', clientId: 'ven-1' }, at.sixDays);
    await refusals.record({ reason: 'schema', message: 'eight days', clientId: 'ven-1' }, at.eightDays);
    await refusals.record({ reason: 'identity-mismatch', message: 'other', clientId: 'ven-2' }, at.yesterday + 1);
    // the day partitions and the device index are read eventually consistently: wait for the newest write to show in both
    await eventually(async () => (await refusals.list({ limit: 100 })).items.some((r) => r.message === 'other'));
    await eventually(async () => (await refusals.list({ limit: 100, deviceId: 'ven-2' })).items.length === 1);
  });

  it('lists the last week newest first across days, page by page', async () => {
    const messages = (limit: number, deviceId?: string) =>
      pages(
        (next) => refusals.list({ limit, ...(deviceId && { deviceId }), ...(next && { next }) }),
        (r) => r.message,
      );
    expect(await messages(100)).toEqual([['today', 'other', 'yesterday', 'six days']]);
    expect((await messages(1)).flat()).toEqual(['today', 'other', 'yesterday', 'six days']);
    expect(await messages(100, 'ven-1')).toEqual([['today', 'six days']]);
    // as with DynamoDB's own pages, a page filled exactly may hand out a last, empty one
    expect((await messages(1, 'ven-1')).flat()).toEqual(['today', 'six days']);
  });

  it('keeps the refusal as given, with a time-to-live a week on, and no device key without a client id', async () => {
    const [first] = (await refusals.list({ limit: 1 })).items;
    expect(first).toEqual({
      at: NOW - 1000,
      reason: 'schema',
      message: 'today',
      topic: 'volttron/metering',
      clientId: 'ven-1',
    });
    const items = (await documentClient(dynamo.client).send(new ScanCommand({ TableName: 'refusals' }))).Items ?? [];
    const today = items.find((i) => i.message === 'today')!;
    expect(today).toMatchObject({
      pk: 'day#2026-01-15',
      device: 'ven-1',
      expiresAt: Math.floor((NOW - 1000 + 7 * DAY) / 1000),
    });
    expect(today.sk).toMatch(/^2026-01-15T11:59:59\.000Z#[0-9a-f]{12}$/);
    expect(items.find((i) => i.message === 'yesterday')).not.toHaveProperty('device');
  });
});

describe('a local table older than its layout', () => {
  it('is reported by ensureTables, which cannot add the index to it', async () => {
    const { indexes: _none, ...withoutIndex } = tables.fleetEvents;
    expect(await ensureTables(dynamo.client, { old: withoutIndex })).toEqual([]);
    expect(await ensureTables(dynamo.client, { old: tables.fleetEvents, events: tables.fleetEvents })).toEqual([
      'old/byMonth',
    ]);
  });

  it("is reported when its keys or an index's keys changed", async () => {
    const before = {
      ...tables.devices,
      sortKey: undefined,
      indexes: [{ name: 'byKind', partitionKey: 'kind', sortKey: 'deviceId' }],
    };
    expect(await ensureTables(dynamo.client, { olddevices: before })).toEqual([]);
    expect(await ensureTables(dynamo.client, { olddevices: tables.devices })).toEqual([
      'olddevices',
      'olddevices/byKind',
    ]);
  });
});
