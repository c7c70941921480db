// VEN commitments to fleet events against a real local DynamoDB (dynalite): the conditional write that lets one event
// only take a VEN for a window at a time, under concurrency, windows ahead (scheduled events) beside the one running,
// an early release that the event records, and a commitment given back only by the event holding it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../../lambdas/core/adapters.js';
import { DynamoFleetEventStore } from '../../../lambdas/core/dr/fleet-events-dynamodb.js';
import type { FleetEventRecord, VenCommitment } from '../../../lambdas/core/dr/fleet-event-store.js';
import { tables } from '../../../lambdas/core/contracts/tables.js';

let dir: string;
let dynamo: LocalDynamo;
let store: DynamoFleetEventStore;
const NOW = Date.UTC(2026, 0, 15, 12);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-commit-'));
  dynamo = await startDynamo(join(dir, 'db'));
  await ensureTables(dynamo.client, { events: tables.fleetEvents });
  store = new DynamoFleetEventStore(documentClient(dynamo.client), 'events', () => NOW);
});
afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const commitment = (venId: string, eventId: string, since = NOW, until = NOW + 600_000): VenCommitment => ({
  venId,
  eventId,
  since,
  until,
  shed_kw: 3,
});

describe('VEN commitments', () => {
  it('go to exactly one of 20 events racing for a VEN; the others are told which event holds it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.commit(commitment('ven-race', `evt-${i}`), NOW)),
    );
    const winners = answers.flatMap((a, i) => (a === undefined ? [`evt-${i}`] : []));
    expect(winners).toHaveLength(1);
    for (const a of answers.filter((x) => x !== undefined)) expect(a).toEqual(commitment('ven-race', winners[0]!));
    expect([...(await store.commitments(['ven-race', 'ven-free'], NOW)).values()]).toEqual([
      commitment('ven-race', winners[0]!),
    ]);
    // the holder may write it again (a retry); another event may take it only for a window that does not overlap
    expect(await store.commit(commitment('ven-race', winners[0]!), NOW + 1)).toBeUndefined();
    expect(await store.commit(commitment('ven-race', 'evt-late', NOW + 599_999, NOW + 900_000), NOW + 1)).toMatchObject(
      { eventId: winners[0] },
    );
    expect(
      await store.commit(commitment('ven-race', 'evt-late', NOW + 600_000, NOW + 900_000), NOW + 1),
    ).toBeUndefined();
    expect((await store.commitments(['ven-race'], NOW + 600_000)).get('ven-race')?.eventId).toBe('evt-late');
    expect((await store.commitments(['ven-race'], NOW)).get('ven-race')?.eventId).toBe(winners[0]);
  });

  it('hold a scheduled window ahead: events overlapping it are refused, events before it are not, and it stays', async () => {
    const later = commitment('ven-sched', 'evt-tomorrow', NOW + 86_400_000, NOW + 86_400_000 + 3_600_000);
    expect(await store.commit(later, NOW)).toBeUndefined();
    // free now (nothing holds it at NOW), held over a window reaching into tomorrow's
    expect((await store.commitments(['ven-sched'], NOW)).size).toBe(0);
    expect((await store.commitments(['ven-sched'], NOW, NOW + 86_400_001)).get('ven-sched')).toEqual(later);
    expect(await store.commit(commitment('ven-sched', 'evt-long', NOW, NOW + 86_400_001), NOW)).toEqual(later);
    expect(await store.commit(commitment('ven-sched', 'evt-now', NOW, NOW + 600_000), NOW)).toBeUndefined();
    // both held; giving one back leaves the other
    expect((await store.commitments(['ven-sched'], NOW)).get('ven-sched')?.eventId).toBe('evt-now');
    await store.uncommit('ven-sched', 'evt-now');
    expect((await store.commitments(['ven-sched'], NOW, NOW + 2 * 86_400_000)).get('ven-sched')).toEqual(later);
    // a release (restore) now touches only what runs now: tomorrow's stays
    expect(await store.release('ven-sched', NOW)).toBeUndefined();
    expect((await store.commitments(['ven-sched'], NOW + 86_400_000)).get('ven-sched')?.eventId).toBe('evt-tomorrow');
  });

  it('read a commitment written before windows existed (one per item), and replace it on the next write', async () => {
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await documentClient(dynamo.client).send(
      new PutCommand({
        TableName: 'events',
        Item: {
          eventId: 'commit/ven-old',
          venId: 'ven-old',
          holder: 'evt-old',
          since: NOW,
          until: NOW + 600_000,
          shed_kw: 3,
        },
      }),
    );
    expect((await store.commitments(['ven-old'], NOW)).get('ven-old')).toEqual(commitment('ven-old', 'evt-old'));
    expect(await store.commit(commitment('ven-old', 'evt-new'), NOW)).toEqual(commitment('ven-old', 'evt-old'));
    expect(await store.commit(commitment('ven-old', 'evt-new', NOW + 600_000, NOW + 900_000), NOW)).toBeUndefined();
    expect((await store.commitments(['ven-old'], NOW, NOW + 900_000)).get('ven-old')?.eventId).toBe('evt-old');
    expect((await store.commitments(['ven-old'], NOW + 600_000)).get('ven-old')?.eventId).toBe('evt-new');
  });

  it('are given back only by the event holding them, and are never listed nor read as events', async () => {
    await store.commit(commitment('ven-back', 'evt-a'), NOW);
    await store.uncommit('ven-back', 'evt-b');
    expect((await store.commitments(['ven-back'], NOW)).get('ven-back')?.eventId).toBe('evt-a');
    await store.uncommit('ven-back', 'evt-a');
    expect((await store.commitments(['ven-back'], NOW)).size).toBe(0);
    expect(await store.get('commit/ven-race')).toBeUndefined();
    expect((await store.list({ limit: 100 })).items.map((e) => e.eventId)).not.toContain('commit/ven-race');
  });

  it('end early on release: the event records when, once, and the VEN is free', async () => {
    const event: FleetEventRecord = {
      eventId: 'evt-rel',
      requested_kw: 3,
      duration_sec: 600,
      startedAt: NOW,
      endsAt: NOW + 600_000,
      allocations: [{ venId: 'ven-rel', shed_kw: 3, correlationId: 'c-1' }],
      shortfall_kw: 0,
      excluded: [],
    };
    expect(await store.create(event)).toBe(true);
    expect(await store.get('evt-rel')).toEqual(event);
    await store.commit(commitment('ven-rel', 'evt-rel'), NOW);
    expect(await store.release('ven-rel', NOW + 60_000)).toBe('evt-rel');
    expect(await store.release('ven-rel', NOW + 90_000)).toBeUndefined();
    expect((await store.get('evt-rel'))?.released).toEqual({ 'ven-rel': NOW + 60_000 });
    expect(await store.commit(commitment('ven-rel', 'evt-next', NOW + 60_000), NOW + 60_000)).toBeUndefined();
    // a commitment that has run out is nothing to release
    expect(await store.release('ven-rel', NOW + 600_001)).toBeUndefined();
  });
});
