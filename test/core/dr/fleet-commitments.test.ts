// VEN commitments to fleet events against a real local DynamoDB (dynalite): the conditional write that lets one event
// only take a VEN at a time, under concurrency, with takeover once the commitment has run out, an early release that
// the event records, and a commitment given back only by the event holding it.
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

const commitment = (venId: string, eventId: string, since = NOW, until = NOW + 600_000): VenCommitment => ({ venId, eventId, since, until, shed_kw: 3 });

describe('VEN commitments', () => {
  it('go to exactly one of 20 events racing for a VEN; the others are told which event holds it', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => store.commit(commitment('ven-race', `evt-${i}`), NOW)));
    const winners = answers.flatMap((a, i) => (a === undefined ? [`evt-${i}`] : []));
    expect(winners).toHaveLength(1);
    for (const a of answers.filter((x) => x !== undefined)) expect(a).toEqual(commitment('ven-race', winners[0]!));
    expect([...(await store.commitments(['ven-race', 'ven-free'], NOW)).values()]).toEqual([commitment('ven-race', winners[0]!)]);
    // the holder may write it again (a retry); another event may take it only once it has run out
    expect(await store.commit(commitment('ven-race', winners[0]!), NOW + 1)).toBeUndefined();
    expect(await store.commit(commitment('ven-race', 'evt-late', NOW + 600_000, NOW + 900_000), NOW + 599_999)).toMatchObject({ eventId: winners[0] });
    expect(await store.commit(commitment('ven-race', 'evt-late', NOW + 600_000, NOW + 900_000), NOW + 600_000)).toBeUndefined();
    expect((await store.commitments(['ven-race'], NOW + 600_000)).get('ven-race')?.eventId).toBe('evt-late');
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
      eventId: 'evt-rel', requested_kw: 3, duration_sec: 600, startedAt: NOW, endsAt: NOW + 600_000,
      allocations: [{ venId: 'ven-rel', shed_kw: 3, correlationId: 'c-1' }], shortfall_kw: 0, excluded: [],
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
