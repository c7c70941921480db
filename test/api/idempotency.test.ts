// `Idempotency-Key` on the command routes through the real local server and a VEN on the real SDK: a retry gets the
// first response and sends nothing; another request with the key gets a 422; of 20 concurrent requests with one key
// exactly one command reaches the device. The key store's expiry and take-over rules against dynalite.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables, startDynamo, type LocalDynamo } from '../../bin/local/aws/dynamodb.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { idempotent } from '../../lambdas/api/idempotency.js';
import { ConflictError } from '../../lambdas/core/contracts/errors.js';
import { DynamoIdempotencyStore, IDEMPOTENCY_TTL_MS } from '../../lambdas/core/commands/idempotency-dynamodb.js';
import { tables } from '../../lambdas/core/contracts/tables.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let ven: TestDevice;
let node: TestDevice;
const VEN = 'ven-i1';
const OTHER = 'ven-i2';
const NODE = 'ups_a';

beforeAll(async () => {
  stack = await startApiStack();
  const devices = await Promise.all([VEN, OTHER, NODE].map(async (id) => connectDevice(await stack.provision(id), id)));
  [ven, node] = [devices[0]!, devices[2]!];
  await ven.subscribe(topics.command(VEN));
  await node.subscribe(topics.winterRiverCommand(NODE));
  for (const [i, id] of [VEN, OTHER].entries()) {
    await devices[i]!.publish(
      topics.metering,
      JSON.stringify({ ...fixture('volttron-metering'), venId: id, timestamp: nowSec() }),
    );
  }
  await node.publish(
    topics.winterRiverStatus(NODE),
    JSON.stringify({ ...fixture('winter-river-status'), node_id: NODE }),
    mqtt.QoS.AtMostOnce,
  );
  await eventually(
    async () =>
      (await stack.api(`/api/vens/${OTHER}`)).status === 200 && (await stack.api(`/api/vens/${VEN}`)).status === 200,
  );
  await eventually(async () =>
    (await stack.api('/api/winter-river/nodes')).body.items.some((n: { nodeId: string }) => n.nodeId === NODE),
  );
  await Promise.all(devices.slice(1, 2).map((d) => d.close()));
});
afterAll(async () => {
  await ven?.close();
  await node?.close();
  await stack?.dispose();
});

interface Answer {
  status: number;
  body: any;
  replayed: boolean;
}

/** A POST with an `Idempotency-Key` (undefined: none), as the operator unless another token is given. */
async function postWithKey(
  path: string,
  body: unknown,
  key: string | undefined,
  token = stack.config.tokens.operator,
): Promise<Answer> {
  const res = await fetch(`${stack.config.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(key !== undefined && { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), replayed: res.headers.get('idempotent-replayed') === 'true' };
}

let keys = 0;
const newKey = () => `key-${process.pid}-${++keys}`;
const commandsTo = (device: TestDevice, topic: string) => device.received.filter((m) => m.topic === topic);
/** Commands the VEN received carrying this correlationId, after everything in flight has landed. */
async function delivered(correlationId: string, device = ven, topic = topics.command(VEN)) {
  await stack.settle();
  await new Promise((r) => setTimeout(r, 300));
  return commandsTo(device, topic).filter((m) => m.payload.includes(correlationId)).length;
}

describe('Idempotency-Key on POST /api/vens/{venId}/send-event', () => {
  const event = { shed_kw: 2, duration_sec: 60, event_id: 'evt-idem' };

  it('answers a retry with the first response and sends the command once', async () => {
    const key = newKey();
    const first = await postWithKey(`/api/vens/${VEN}/send-event`, event, key);
    expect(first).toMatchObject({
      status: 202,
      body: { status: 'sent', correlationId: expect.any(String) },
      replayed: false,
    });
    const again = await postWithKey(`/api/vens/${VEN}/send-event`, event, key);
    expect(again).toEqual({ ...first, replayed: true });
    expect(await delivered(first.body.correlationId)).toBe(1);
    expect(commandsTo(ven, topics.command(VEN)).filter((m) => m.payload.includes('evt-idem'))).toHaveLength(1);
  });

  it('answers 422 for the key with another body or another VEN, and sends nothing more', async () => {
    const key = newKey();
    const first = await postWithKey(`/api/vens/${VEN}/send-event`, { ...event, event_id: 'evt-422' }, key);
    expect(first.status).toBe(202);
    for (const [path, body] of [
      [`/api/vens/${VEN}/send-event`, { ...event, event_id: 'evt-422', shed_kw: 3 }],
      [`/api/vens/${OTHER}/send-event`, { ...event, event_id: 'evt-422' }],
      [`/api/vens/${VEN}/restore`, {}],
    ] as const) {
      expect(await postWithKey(path, body, key), path).toMatchObject({
        status: 422,
        body: { error: 'Unprocessable', field: 'Idempotency-Key' },
      });
    }
    expect(await delivered('evt-422')).toBe(1);
  });

  it('sends exactly one command for 20 identical concurrent requests, and all 20 get its response', async () => {
    const key = newKey();
    const body = { ...event, event_id: 'evt-twenty' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postWithKey(`/api/vens/${VEN}/send-event`, body, key)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    expect(new Set(answers.map((a) => a.body.correlationId)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(await delivered('evt-twenty')).toBe(1);
    expect(await delivered(answers[0]!.body.correlationId)).toBe(1);
  });

  it('sends again without a key, and gives a failed request’s key back for a corrected retry', async () => {
    const plain = [await postWithKey(`/api/vens/${VEN}/send-event`, { ...event, event_id: 'evt-plain' }, undefined)];
    plain.push(await postWithKey(`/api/vens/${VEN}/send-event`, { ...event, event_id: 'evt-plain' }, undefined));
    expect(plain[0]!.body.correlationId).not.toBe(plain[1]!.body.correlationId);
    expect(await delivered('evt-plain')).toBe(2);

    const key = newKey();
    expect((await postWithKey(`/api/vens/${VEN}/send-event`, { shed_kw: -1, duration_sec: 60 }, key)).status).toBe(400);
    expect(await postWithKey(`/api/vens/${VEN}/send-event`, { ...event, event_id: 'evt-fixed' }, key)).toMatchObject({
      status: 202,
      replayed: false,
    });
  });

  it('keeps one caller’s key apart from another’s', async () => {
    const key = newKey();
    const body = { ...event, event_id: 'evt-two-callers' };
    const asOperator = await postWithKey(`/api/vens/${VEN}/send-event`, body, key, stack.config.tokens.operator);
    const asAdmin = await postWithKey(`/api/vens/${VEN}/send-event`, body, key, stack.config.tokens.admin);
    expect(asAdmin.body.correlationId).not.toBe(asOperator.body.correlationId);
    expect(await delivered('evt-two-callers')).toBe(2);
  });

  it('answers 400 naming the header for a key that is empty, too long or not visible ASCII', async () => {
    for (const key of ['', 'k'.repeat(256), 'with space']) {
      expect(await postWithKey(`/api/vens/${VEN}/send-event`, event, key), JSON.stringify(key)).toMatchObject({
        status: 400,
        body: { error: 'ValidationError', field: 'Idempotency-Key' },
      });
    }
  });
});

describe('Idempotency-Key on the other command routes', () => {
  it('answers a retry of restore, dispatch, a fleet event and a Winter River command with the first response', async () => {
    const cases: [string, unknown, (b: any) => string][] = [
      [`/api/vens/${VEN}/restore`, {}, (b) => b.correlationId],
      ['/dispatch', { site_id: 'site-a', mw: 1 }, (b) => b.dispatch_id],
      ['/api/events', { shed_kw: 0.5, duration_sec: 60, ven_ids: [VEN] }, (b) => b.eventId],
      [
        `/api/winter-river/nodes/${NODE}/command`,
        { command: 'set_fault', params: { state: true, n: 1 } },
        (b) => JSON.stringify(b),
      ],
    ];
    for (const [path, body, idOf] of cases) {
      const key = newKey();
      const first = await postWithKey(path, body, key);
      expect(first.status, `${path}: ${JSON.stringify(first.body)}`).toBe(202);
      const again = await postWithKey(path, body, key);
      expect(again, path).toEqual({ ...first, replayed: true });
      expect(idOf(again.body)).toBe(idOf(first.body));
    }
    await stack.settle();
    await new Promise((r) => setTimeout(r, 300));
    expect(commandsTo(node, topics.winterRiverCommand(NODE)).filter((m) => m.payload.includes('"n":1'))).toHaveLength(
      1,
    );
  });
});

describe('a duplicate of a request still under way', () => {
  it('waits for its response, and gets a 409 when it takes longer than the wait', async () => {
    const event = {
      headers: { 'idempotency-key': 'slow' },
      rawPath: '/dispatch',
      body: '{}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2;
    const dir = await mkdtemp(join(tmpdir(), 'vpp-idem-'));
    const dynamo = await startDynamo(join(dir, 'db'));
    try {
      await ensureTables(dynamo.client, { keys: tables.idempotency });
      const store = new DynamoIdempotencyStore(documentClient(dynamo.client), 'keys');
      const caller = { subject: 'u', role: 'operator' as const };
      let finish!: () => void;
      let runs = 0;
      const slow = () => {
        runs++;
        return new Promise<{ statusCode: number; body: string }>(
          (resolve) => (finish = () => resolve({ statusCode: 202, body: '"first"' })),
        );
      };
      const first = idempotent(event, caller, store, slow);
      await eventually(() => runs === 1);
      await expect(idempotent(event, caller, store, slow, 200)).rejects.toBeInstanceOf(ConflictError);
      const waiting = idempotent(event, caller, store, slow, 5000);
      finish();
      expect(await first).toEqual({ statusCode: 202, body: '"first"' });
      expect(await waiting).toEqual({ statusCode: 202, body: '"first"', headers: { 'idempotent-replayed': 'true' } });
      expect(runs).toBe(1);
    } finally {
      await dynamo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the key store (dynalite)', () => {
  let dir: string;
  let dynamo: LocalDynamo;
  let store: DynamoIdempotencyStore;
  const T = Date.UTC(2026, 0, 15, 12);
  const response = { statusCode: 202, body: '{"ok":true}' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpp-idem-'));
    dynamo = await startDynamo(join(dir, 'db'));
    await ensureTables(dynamo.client, { keys: tables.idempotency });
    store = new DynamoIdempotencyStore(documentClient(dynamo.client), 'keys');
  });
  afterAll(async () => {
    await dynamo?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a completed key 24 h, then lets it be used for anything', async () => {
    expect(await store.claim('a', 'owner-1', 'fp-1', T, 30_000)).toBe(true);
    await store.complete('a', 'owner-1', response);
    expect(await store.claim('a', 'owner-2', 'fp-1', T + 60_000, 30_000)).toBe(false);
    expect(await store.get('a', T + IDEMPOTENCY_TTL_MS - 1000)).toEqual({ fingerprint: 'fp-1', response });
    expect(await store.get('a', T + IDEMPOTENCY_TTL_MS + 1000)).toBeUndefined();
    expect(await store.claim('a', 'owner-3', 'fp-2', T + IDEMPOTENCY_TTL_MS + 1000, 30_000)).toBe(true);
    expect(await store.get('a', T + IDEMPOTENCY_TTL_MS + 2000)).toEqual({ fingerprint: 'fp-2' });
  });

  it('lets the same request take over a claim whose owner stopped answering, and only the owner finish it', async () => {
    expect(await store.claim('b', 'stalled', 'fp', T, 30_000)).toBe(true);
    expect(await store.claim('b', 'early', 'fp', T + 29_000, 30_000)).toBe(false);
    expect(await store.claim('b', 'other-request', 'fp-other', T + 31_000, 30_000)).toBe(false);
    expect(await store.claim('b', 'retry', 'fp', T + 31_000, 30_000)).toBe(true);
    await store.complete('b', 'stalled', { statusCode: 202, body: 'stale' });
    await store.release('b', 'stalled');
    expect(await store.get('b', T + 32_000)).toEqual({ fingerprint: 'fp' });
    await store.complete('b', 'retry', response);
    expect(await store.get('b', T + 33_000)).toEqual({ fingerprint: 'fp', response });
    await store.release('b', 'retry'); // a completed key is kept
    expect(await store.get('b', T + 34_000)).toEqual({ fingerprint: 'fp', response });
  });
});
