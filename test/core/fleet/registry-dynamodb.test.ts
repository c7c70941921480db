// The device registry and the command log's due list against a real local DynamoDB (dynalite): a heartbeat writes
// only the unindexed state item, index keys are sharded, and listings merge the shards in order, page by page.
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { DynamoCommandLog } from '../../../lambdas/core/commands/commands-dynamodb.js';
import { ValidationError } from '../../../lambdas/core/contracts/errors.js';
import type { CommandRecord } from '../../../lambdas/core/commands/command-store.js';
import type { Device, DeviceKind } from '../../../lambdas/core/fleet/registry.js';
import type { Page } from '../../../lambdas/core/common/page.js';
import { DynamoDeviceRegistry } from '../../../lambdas/core/fleet/registry-dynamodb.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';
import { eventually } from '../../e2e/helpers.js';
import { consistentReads } from '../consistent-reads.js';

let dir: string;
let dynamo: LocalDynamo;
/** Reads of the table's own items are consistent here (this file is about layout); the kind index lags. */
let db: DynamoDBDocumentClient;
let registry: DynamoDeviceRegistry;
const T = Date.UTC(2026, 0, 1);
/** The registry's clock: shortly after the heartbeats below. */
let now = T + 10_000;
const iso = (ms: number) => new Date(ms).toISOString();
const VENS = Array.from({ length: 40 }, (_, i) => `ven-${String(i).padStart(3, '0')}`);

/** A document client that counts the requests sent through it, by command. */
function counted(client: DynamoDBDocumentClient) {
  const requests: Record<string, number> = {};
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const proxy = new Proxy(client, {
    get: (target, prop) =>
      prop === 'send'
        ? (command: { constructor: { name: string } }) => {
            requests[command.constructor.name] = (requests[command.constructor.name] ?? 0) + 1;
            return send(command);
          }
        : Reflect.get(target, prop),
  });
  return { client: proxy, requests };
}

const scan = async (table: string) => (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-reg-'));
  dynamo = await startDynamo(join(dir, 'db'));
  db = documentClient(consistentReads(dynamo.endpoint));
  await ensureTables(dynamo.client, { devices: tables.devices, commands: tables.commands });
  registry = new DynamoDeviceRegistry(db, 'devices', () => now);
  // every VEN connected, then reported
  for (const id of VENS) await registry.recordPresence(id, true, T - 1000);
  for (const [i, id] of VENS.entries()) await registry.recordHeartbeat('ven', id, T + i, { usedPowerKw: i });
  for (const id of ['gw-1', 'gw-2']) await registry.recordHeartbeat('gateway', id, T, { assets: 3 });
  // every third VEN has since disconnected
  for (const [i, id] of VENS.entries()) if (i % 3 === 0) await registry.recordPresence(id, false, T + 1000);
});
afterAll(async () => {
  db?.destroy();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

async function pages(kind: DeviceKind, limit: number, online?: boolean): Promise<string[][]> {
  const all: string[][] = [];
  let next: string | undefined;
  do {
    const page: Page<Device> = await registry.list(kind, {
      limit,
      ...(online !== undefined && { online }),
      ...(next && { next }),
    });
    all.push(page.items.map((d) => d.deviceId));
    next = page.next;
  } while (next && all.length < 100);
  return all;
}

describe('device registry', () => {
  it('gets a device as one Device from its identity and state', async () => {
    expect(await registry.get('ven-001')).toEqual({
      deviceId: 'ven-001',
      kind: 'ven',
      online: true,
      firstSeen: iso(T + 1),
      lastSeen: iso(T + 1),
      reportIntervalMs: 60_000,
      latest: { usedPowerKw: 1 },
      sessions: [{ connected_at: iso(T - 1000) }],
    });
    expect(await registry.get('ven-003')).toMatchObject({ online: false, lastSeen: iso(T + 3) });
    expect(await registry.get('nobody')).toBeUndefined();
  });

  it('takes a heartbeat in one write to the unindexed state item, and ignores an older one', async () => {
    const { client, requests } = counted(db);
    const counting = new DynamoDeviceRegistry(client, 'devices');
    const identity = async () => (await scan('devices')).find((i) => i.deviceId === 'ven-005' && i.part === 'identity');
    const before = await identity();
    expect(before).toEqual({
      deviceId: 'ven-005',
      part: 'identity',
      kind: 'ven',
      kindShard: expect.stringMatching(/^ven#\d\d$/),
      firstSeen: iso(T + 5),
    });
    await counting.recordHeartbeat('ven', 'ven-005', T + 60_000, { usedPowerKw: 9 });
    expect(requests).toEqual({ UpdateCommand: 2 }); // the heartbeat, and the interval it taught (60 s after the last)
    await counting.recordHeartbeat('ven', 'ven-005', T + 120_000, { usedPowerKw: 8 });
    expect(requests).toEqual({ UpdateCommand: 3 }); // a steady interval is not written again
    await counting.recordHeartbeat('ven', 'ven-005', T + 30_000, { usedPowerKw: 7 }, T + 20_000);
    expect(requests).toEqual({ UpdateCommand: 5 }); // an older sample: refused, then only when it was heard (not newer either)
    expect(await identity()).toEqual(before);
    expect(await registry.get('ven-005')).toMatchObject({
      lastSeen: iso(T + 120_000),
      latest: { usedPowerKw: 8 },
      firstSeen: iso(T + 5),
      reportIntervalMs: 59_995,
    });
    const state = (await scan('devices')).find((i) => i.deviceId === 'ven-005' && i.part === 'state')!;
    expect(Object.keys(state)).not.toContain('kindShard');
  });

  it('keeps the newest presence, and a device only seen connecting is not listed', async () => {
    await registry.recordPresence('ven-010', true, T + 5000);
    await registry.recordPresence('ven-010', false, T + 4000);
    // the older disconnect leaves the presence alone, but closes its own session (the one open since T - 1000)
    expect(await registry.get('ven-010')).toMatchObject({
      online: true,
      sessions: [
        { connected_at: iso(T + 5000) },
        { connected_at: iso(T - 1000), disconnected_at: iso(T + 4000), duration_s: 5 },
      ],
    });
    await registry.recordPresence('ghost', true, T);
    expect(await registry.get('ghost')).toEqual({
      deviceId: 'ghost',
      online: true,
      kind: undefined,
      firstSeen: undefined,
      lastSeen: undefined,
      reportIntervalMs: 60_000,
      latest: undefined,
      sessions: [{ connected_at: iso(T) }],
    });
    expect((await pages('ven', 1000)).flat()).not.toContain('ghost');
  });

  it('spreads each kind over shards and lists it merged in deviceId order, page by page', async () => {
    const shards = new Set((await scan('devices')).filter((i) => i.kind === 'ven').map((i) => i.kindShard));
    expect(shards.size).toBeGreaterThan(8);
    // the kind index lags the writes above, as a GSI does in AWS: wait for the last of them to show
    await eventually(
      async () =>
        (await pages('ven', 100))[0]?.length === VENS.length && (await pages('gateway', 100))[0]?.length === 2,
    );
    expect(await pages('ven', 100)).toEqual([VENS]);
    expect((await pages('ven', 7)).flat()).toEqual(VENS);
    expect((await pages('ven', 7))[0]).toHaveLength(7);
    expect(await pages('gateway', 100)).toEqual([['gw-1', 'gw-2']]);
    expect(await pages('winter-river', 100)).toEqual([[]]);
  });

  it('filters on online across shards and pages, and a page of 100 costs one Query per shard and one BatchGet', async () => {
    const offline = VENS.filter((_, i) => i % 3 === 0 && i !== 9 && i !== 0);
    // ven-010 came back online above; ven-000 and ven-009 reconnect here
    await registry.recordPresence('ven-000', true, T + 9000);
    await registry.recordPresence('ven-009', true, T + 9000);
    expect((await pages('ven', 100, false)).flat()).toEqual(offline.filter((id) => id !== 'ven-010'));
    expect((await pages('ven', 3, false)).flat()).toEqual(offline.filter((id) => id !== 'ven-010'));
    expect((await pages('ven', 5, true)).flat()).toEqual(
      VENS.filter((id) => !offline.includes(id) || id === 'ven-010'),
    );
    const { client, requests } = counted(db);
    const page = await new DynamoDeviceRegistry(client, 'devices').list('ven', { limit: 100 });
    expect(page.items).toHaveLength(40);
    expect(requests).toEqual({ QueryCommand: 16, BatchGetCommand: 1 });
  });

  it('online means connected: a heartbeat processed after the disconnect does not bring a device back', async () => {
    await registry.recordPresence('ven-late', true, T);
    await registry.recordPresence('ven-late', false, T + 2000);
    await registry.recordHeartbeat('ven', 'ven-late', T + 1000, { usedPowerKw: 1 }, T + 1500); // sent before, processed after
    expect(await registry.get('ven-late')).toMatchObject({ online: false, latest: { usedPowerKw: 1 } });
  });

  it('a connected device silent for two of its intervals is offline (a broker killed with -9 sends no disconnect)', async () => {
    await registry.recordPresence('ven-quiet', true, T);
    await registry.recordHeartbeat('ven', 'ven-quiet', T, { usedPowerKw: 1 });
    const at = async (ms: number) => {
      now = ms;
      try {
        return (await registry.get('ven-quiet'))!.online;
      } finally {
        now = T + 10_000;
      }
    };
    expect(await at(T + 2 * 60_000 + 14_000)).toBe(true); // the default interval: the economy profile's minute
    expect(await at(T + 2 * 60_000 + 16_000)).toBe(false);
  });

  it("learns a device's interval from its heartbeats: one reporting every 5 s is offline after some 25 s of silence", async () => {
    await registry.recordPresence('ven-fast', true, T);
    for (let i = 0; i <= 6; i++) await registry.recordHeartbeat('ven', 'ven-fast', T + 5000 * i, { usedPowerKw: i });
    const last = T + 30_000;
    expect(await registry.get('ven-fast')).toMatchObject({ reportIntervalMs: 5000 });
    now = last + 20_000;
    expect((await registry.get('ven-fast'))!.online).toBe(true);
    now = last + 30_000;
    expect((await registry.get('ven-fast'))!.online).toBe(false);
    expect((await registry.list('ven', { limit: 1000, online: true })).items.map((d) => d.deviceId)).not.toContain(
      'ven-fast',
    );
    now = T + 10_000;
  });

  it("keeps a device's interval through the drain of its offline buffer: batches sampled a minute apart, heard milliseconds apart", async () => {
    await registry.recordPresence('ven-drain', true, T);
    const batch = (i: number, heard: number) =>
      registry.recordHeartbeat('ven', 'ven-drain', T + 60_000 * i, { usedPowerKw: i }, heard);
    for (let i = 0; i <= 3; i++) await batch(i, T + 60_000 * i);
    expect(await registry.get('ven-drain')).toMatchObject({ reportIntervalMs: 60_000 });
    // ten minutes offline, then the ten batches it buffered, 5 ms apart, on reconnect
    const back = T + 14 * 60_000;
    for (let i = 4; i < 14; i++) await batch(i, back + (i - 4) * 5);
    const { reportIntervalMs } = (await registry.get('ven-drain'))!;
    expect(reportIntervalMs).toBeGreaterThanOrEqual(60_000);
    expect(reportIntervalMs).toBeLessThan(2 * 60_000);
    now = back + 60_000; // its next batch due
    expect((await registry.get('ven-drain'))!.online).toBe(true);
    now = T + 10_000;
  });

  it('a reading not heard over the connection (the HTTP fallback) keeps the summary but never makes a device online', async () => {
    await registry.recordHeartbeat('ven', 'ven-http', T + 5000, { usedPowerKw: 2, source: 'http' }, null);
    expect(await registry.get('ven-http')).toMatchObject({ online: false, latest: { usedPowerKw: 2 } });
    await registry.recordPresence('ven-http2', true, T - 200_000);
    await registry.recordHeartbeat('ven', 'ven-http2', T + 5000, { usedPowerKw: 2, source: 'http' }, null);
    expect(await registry.get('ven-http2')).toMatchObject({ online: false });
  });

  it('refuses a page token it did not issue', async () => {
    await expect(registry.list('ven', { limit: 5, next: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      registry.list('ven', { limit: 5, next: Buffer.from('{"deviceId":"ven-001"}').toString('base64url') }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('command log: commands due, over sharded index keys', () => {
  it('lists every due command oldest expiry first across shards, page by page, and drops completed ones', async () => {
    const log = new DynamoCommandLog(documentClient(dynamo.client), 'commands');
    const command = (i: number): CommandRecord => ({
      correlationId: `c-${i}`,
      target: 'ven-001',
      topic: 'ven/cmd/ven-001',
      op: 'ping',
      status: 'sent',
      sentAt: T,
      expiresAt: T + i * 1000,
      command: { op: 'ping', correlationId: `c-${i}` } as CommandRecord['command'],
    });
    for (let i = 0; i < 30; i++) await log.record(command(i));
    const pendings = new Set((await scan('commands')).map((i) => i.pending));
    expect(pendings.size).toBeGreaterThan(8);
    const due = async (limit: number) => {
      const ids: string[] = [];
      let next: string | undefined;
      do {
        const page = await log.listDue(T + 24_500, { limit, ...(next && { next }) });
        ids.push(...page.items.map((c) => c.correlationId));
        next = page.next;
      } while (next && ids.length < 100);
      return ids;
    };
    const expected = Array.from({ length: 25 }, (_, i) => `c-${i}`);
    // the due list is an index query: the commands just recorded show there within the lag, as in AWS
    await eventually(async () => (await due(100)).length === expected.length);
    expect(await due(100)).toEqual(expected);
    expect(await due(4)).toEqual(expected);
    expect(await log.timeOut('c-0', T + 30_000)).toBe(true);
    await eventually(async () => !(await due(100)).includes('c-0'));
    expect(await due(6)).toEqual(expected.slice(1));
    await expect(log.listDue(T, { limit: 5, next: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
  });
});
