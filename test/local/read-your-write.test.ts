// The reads the product makes of what it (or a racing run) has just written, against the local DynamoDB with a lag far
// longer than the test: each must be a consistent read, or it would answer as if the write had not happened.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { DynamoCommandLog } from '../../lambdas/core/commands/commands-dynamodb.js';
import type { CommandRecord } from '../../lambdas/core/commands/command-store.js';
import { tables } from '../../lambdas/core/contracts/tables.js';
import type { FleetEventRecord } from '../../lambdas/core/dr/fleet-event-store.js';
import { DynamoFleetEventStore } from '../../lambdas/core/dr/fleet-events-dynamodb.js';

let dir: string;
let dynamo: LocalDynamo;
const T = Date.now();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-read-your-write-'));
  dynamo = await startDynamo(join(dir, 'db'), { lagMs: 10_000 });
  await ensureTables(dynamo.client, { fleetEvents: tables.fleetEvents, commands: tables.commands });
});
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const event: FleetEventRecord = {
  eventId: 'evt-ryw',
  requested_kw: 2,
  duration_sec: 60,
  startedAt: T - 120_000,
  endsAt: T - 60_000,
  allocations: [{ venId: 'ven-1', shed_kw: 2, correlationId: 'c-ryw' }],
  shortfall_kw: 0,
  excluded: [],
};

describe('fleet events', () => {
  const store = () => new DynamoFleetEventStore(documentClient(dynamo.client), 'fleetEvents');

  it('an event just created is found by its id (the API answers 202 with the id the caller then polls)', async () => {
    expect(await store().create(event)).toBe(true);
    expect(await store().get(event.eventId)).toMatchObject({ eventId: 'evt-ryw', requested_kw: 2 });
  });

  it("two settlement runs race: the loser reads the winner's stored report, with its parts, and settles with it", async () => {
    const first = { report: { eventId: 'evt-ryw', delivered_kwh: 1 }, parts: [[{ start: 'a' }], [{ start: 'b' }]] };
    expect(await store().putReport(event, first)).toBe(true);
    expect(await store().putReport(event, { report: { eventId: 'evt-ryw', delivered_kwh: 9 }, parts: [] })).toBe(false);
    expect(await store().getReport(event.eventId, false)).toEqual({ report: first.report, parts: [] });
    expect(await store().getReport(event.eventId, true)).toEqual(first);
  });
});

describe('commands', () => {
  it('a command just sent is found by its id, and its ACK learns its op and send time from the write itself', async () => {
    const log = new DynamoCommandLog(documentClient(dynamo.client), 'commands');
    const command: CommandRecord = {
      correlationId: 'c-ryw',
      target: 'ven-1',
      topic: 'ven/cmd/ven-1',
      op: 'restore',
      status: 'sent',
      sentAt: T,
      expiresAt: T + 60_000,
      command: { op: 'restore', correlationId: 'c-ryw' } as CommandRecord['command'],
    };
    await log.record(command);
    expect(await log.get('c-ryw')).toMatchObject({ status: 'sent', op: 'restore', sentAt: T });
    expect(
      await log.complete(
        'c-ryw',
        'ven-1',
        'acked',
        { op: 'restore', status: 'success', correlationId: 'c-ryw' } as never,
        T + 250,
      ),
    ).toEqual({ op: 'restore', sentAt: T });
    expect(
      await log.complete(
        'c-ryw',
        'ven-1',
        'acked',
        { op: 'restore', status: 'success', correlationId: 'c-ryw' } as never,
        T + 300,
      ),
    ).toBe(false);
    expect(await log.get('c-ryw')).toMatchObject({ status: 'acked', completedAt: T + 250 });
  });
});
