// The transaction ledger through the local server and the local DynamoDB: external entries chain by hash, an entry
// edited or removed underneath the API is named by verify, concurrent appends never fork, and the platform's own
// write paths (send-event and its ACK, POST /api/events) append to the VEN's chain.
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/core/adapters.js';
import { canonical, GENESIS, hashOf } from '../../lambdas/core/records/ledger.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.dispose());

const settlement = (nodeId: string, n: number) => ({
  nodeId,
  type: 'settlement',
  ref: `mkt-${n}`,
  data: { kwh: 10 + n, price_per_kwh: 0.25, amount: (10 + n) * 0.25 },
});
const table = () => stack.dynamodb.tables.ledger;
const doc = () => documentClient(stack.dynamodb.client);

async function append(nodeId: string, count: number) {
  for (let n = 1; n <= count; n++)
    expect((await stack.api('/api/transactions', post(settlement(nodeId, n)))).status).toBe(201);
}

describe('POST and GET /api/transactions', () => {
  it('chains each entry to the one before by SHA-256 and lists them newest first, page by page', async () => {
    await append('node-chain', 5);
    const seen: { seq: number; hash: string; prevHash: string; ref: string }[] = [];
    let next: string | undefined;
    do {
      const res = await stack.api(`/api/transactions/node-chain?limit=2${next ? `&next=${next}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      next = res.body.next;
    } while (next);
    expect(seen.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(seen.map((e) => e.ref)).toEqual(['mkt-5', 'mkt-4', 'mkt-3', 'mkt-2', 'mkt-1']);
    const oldestFirst = [...seen].reverse();
    expect(oldestFirst[0]!.prevHash).toBe(GENESIS);
    for (let i = 1; i < 5; i++) expect(oldestFirst[i]!.prevHash).toBe(oldestFirst[i - 1]!.hash);
    for (const e of seen) expect(hashOf(e as never)).toBe(e.hash);
    expect(await stack.api('/api/transactions/node-chain/verify')).toEqual({
      status: 200,
      body: { nodeId: 'node-chain', ok: true, entries: 5, head: { seq: 5, hash: seen[0]!.hash } },
    });
  });

  it('books a settlement retried with the same Idempotency-Key once', async () => {
    const send = () =>
      fetch(`${stack.config.apiUrl}/api/transactions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.config.token}`,
          'content-type': 'application/json',
          'idempotency-key': 'settle-42',
        },
        body: JSON.stringify(settlement('node-retry', 1)),
      }).then(async (r) => ({
        status: r.status,
        replayed: r.headers.get('idempotent-replayed'),
        body: await r.json(),
      }));
    const first = await send();
    const retry = await send();
    expect(first).toMatchObject({ status: 201, replayed: null, body: { seq: 1 } });
    expect(retry).toEqual({ ...first, replayed: 'true' });
    expect((await stack.api('/api/transactions/node-retry')).body.items).toHaveLength(1);
  });

  it('names the field of a bad entry and writes nothing', async () => {
    for (const [field, body] of [
      ['type', { ...settlement('node-bad', 1), type: 'dispatch' }],
      ['nodeId', { ...settlement('node-bad', 1), nodeId: 'a b' }],
      ['data', { nodeId: 'node-bad', type: 'settlement' }],
    ] as const) {
      expect((await stack.api('/api/transactions', post(body))).body).toMatchObject({
        error: 'ValidationError',
        field,
      });
    }
    expect((await stack.api('/api/transactions/node-bad')).body).toEqual({ items: [] });
  });
});

describe('GET /api/transactions/{nodeId}/verify', () => {
  it('names the first entry edited in DynamoDB behind the API', async () => {
    await append('node-edit', 4);
    await doc().send(
      new UpdateCommand({
        TableName: table(),
        Key: { nodeId: 'node-edit', seq: 2 },
        UpdateExpression: 'SET #d.amount = :a',
        ExpressionAttributeNames: { '#d': 'data' },
        ExpressionAttributeValues: { ':a': 1000 },
      }),
    );
    const raw = await doc().send(
      new GetCommand({ TableName: table(), Key: { nodeId: 'node-edit', seq: 1 }, ConsistentRead: true }),
    );
    // TTL: the local stack's default archive retention, two years after the entry
    expect(raw.Item!.expiresAt).toBe(Math.floor(Date.parse(raw.Item!.at) / 1000) + 730 * 86_400);
    expect((await stack.api('/api/transactions/node-edit/verify')).body).toMatchObject({
      ok: false,
      entries: 2,
      firstBad: { seq: 2, reason: 'its content does not match its hash (edited)' },
      head: { seq: 1 },
    });
  });

  it('names an entry whose hash was recomputed after an edit, by its successor’s prevHash', async () => {
    await append('node-rehash', 3);
    const list = (await stack.api('/api/transactions/node-rehash')).body.items as Record<string, unknown>[];
    const second = list.find((e) => e.seq === 2)!;
    const forged = { ...second, data: { ...(second.data as object), amount: 0 } };
    const hash = hashOf(forged as never);
    await doc().send(
      new UpdateCommand({
        TableName: table(),
        Key: { nodeId: 'node-rehash', seq: 2 },
        UpdateExpression: 'SET #d = :d, #h = :h',
        ExpressionAttributeNames: { '#d': 'data', '#h': 'hash' },
        ExpressionAttributeValues: { ':d': forged.data, ':h': hash },
      }),
    );
    expect((await stack.api('/api/transactions/node-rehash/verify')).body).toMatchObject({
      ok: false,
      firstBad: { seq: 3, reason: 'prevHash is not the hash of entry 2' },
    });
  });

  it('names a gap where an entry was deleted', async () => {
    await append('node-gap', 3);
    await doc().send(new DeleteCommand({ TableName: table(), Key: { nodeId: 'node-gap', seq: 2 } }));
    expect((await stack.api('/api/transactions/node-gap/verify')).body).toMatchObject({
      ok: false,
      firstBad: { seq: 3, reason: 'entries 2 to 2 are missing' },
    });
  });
});

describe('concurrent appends', () => {
  it('never fork the chain: 24 writers at once make 24 entries in one line', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, n) => stack.api('/api/transactions', post(settlement('node-race', n)))),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(201));
    expect(new Set(results.map((r) => r.body.seq)).size).toBe(24);
    expect((await stack.api('/api/transactions/node-race/verify')).body).toMatchObject({
      ok: true,
      entries: 24,
      head: { seq: 24 },
    });
  });
});

describe('the write paths append to the ledger', () => {
  const VEN = 'ven-ledger';
  let ven: TestDevice;
  beforeAll(async () => {
    ven = await connectDevice(await stack.provision(VEN), VEN);
    await ven.subscribe(topics.command(VEN));
    await ven.publish(
      topics.metering,
      JSON.stringify({ ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() }),
    );
    await eventually(async () => (await stack.api(`/api/vens/${VEN}`)).status === 200);
  });
  afterAll(() => ven?.close());

  it('records the DR command sent and its ACK outcome, then a fleet event’s share, in the VEN’s chain', async () => {
    const sent = await stack.api(
      `/api/vens/${VEN}/send-event`,
      post({ shed_kw: 5, duration_sec: 600, event_id: 'evt-ledger' }),
    );
    const { correlationId } = sent.body;
    await ven.publish(
      topics.ack(VEN),
      JSON.stringify({ ...fixture('volttron-event-ack'), ts: nowSec(), correlationId }),
    );
    const entries = await eventually(async () => {
      const items = (await stack.api(`/api/transactions/${VEN}`)).body.items as {
        type: string;
        ref: string;
        data: any;
      }[];
      return items.length === 2 ? items : undefined;
    });
    expect(entries[1]).toMatchObject({
      seq: 1,
      type: 'dr-event',
      ref: correlationId,
      data: { command: { op: 'event', event_id: 'evt-ledger', shed_kw: 5 } },
    });
    expect(entries[0]).toMatchObject({
      seq: 2,
      type: 'command-outcome',
      ref: correlationId,
      data: { status: 'acked', ack: { status: 'accepted' } },
    });
    // a resent ACK (QoS 1 redelivery) records nothing twice
    await ven.publish(
      topics.ack(VEN),
      JSON.stringify({ ...fixture('volttron-event-ack'), ts: nowSec(), correlationId }),
    );
    const fleet = await stack.api('/api/events', post({ shed_kw: 2, duration_sec: 60, ven_ids: [VEN] }));
    expect(fleet.status).toBe(202);
    expect(fleet.body.allocations.map((a: { venId: string }) => a.venId)).toEqual([VEN]); // whole loads: its one 2.1 kW load
    const after = (await stack.api(`/api/transactions/${VEN}`)).body.items;
    expect(after[0]).toMatchObject({ seq: 3, type: 'dr-event', data: { fleetEventId: fleet.body.eventId } });
    expect((await stack.api(`/api/transactions/${VEN}/verify`)).body).toMatchObject({ ok: true, entries: 3 });
  });

  it('serialises canonically: key order does not change the hash', () => {
    expect(canonical({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});
