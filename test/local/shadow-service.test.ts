import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { topics, type ShadowOp } from '../../lambdas/core/contracts/topics.js';
import { ShadowService } from '../../bin/local/device-services/shadow-service.js';
import { DynamoShadowStore, SHADOW_TABLE } from '../../bin/local/device-services/shadow-store-dynamodb.js';
import { fixture, fixtureText } from '../fixture.js';

const TABLE = 'shadows';
const T0 = 1_700_000_000;

let dynamo: Server;
let documentClient: DynamoDBDocumentClient;
let store: DynamoShadowStore;
let service: ShadowService;
let clock: number;
let published: { topic: string; body: Record<string, unknown> }[];
let things = 0;

const newService = () =>
  new ShadowService({
    store,
    now: () => clock,
    publish: async (topic, payload) => {
      published.push({ topic, body: JSON.parse(payload) as Record<string, unknown> });
    },
  });

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  dynamo.listen(0, '127.0.0.1');
  await once(dynamo, 'listening');
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: SHADOW_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: SHADOW_TABLE.partitionKey, KeyType: 'HASH' }],
    }),
  );
  documentClient = DynamoDBDocumentClient.from(client);
  store = new DynamoShadowStore(documentClient, TABLE);
});

afterAll(async () => {
  documentClient.destroy();
  dynamo.close();
  await once(dynamo, 'close');
});

beforeEach(() => {
  clock = T0 * 1000;
  published = [];
  service = newService();
});

const newThing = () => `thing-${++things}`;

/** Publishes a request as a device would; `undefined` sends an empty payload. */
const request = (thing: string, op: 'update' | 'get' | 'delete', body?: unknown) =>
  service.onMessage(
    topics.shadow(thing, op),
    Buffer.from(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body)),
  );

const on = (thing: string, op: ShadowOp) =>
  published.filter((p) => p.topic === topics.shadow(thing, op)).map((p) => p.body);

async function current(thing: string) {
  const result = await service.get(thing);
  if (!result.ok) throw new Error(result.message);
  return result.body;
}

describe('update', () => {
  it('publishes accepted, documents and delta for a new desired state', async () => {
    const thing = newThing();
    await request(thing, 'update', { state: { desired: { power: 'on', setpoint: 21 } }, clientToken: 't1' });

    const metadata = { power: { timestamp: T0 }, setpoint: { timestamp: T0 } };
    expect(published.map((p) => p.topic)).toEqual(
      (['update/accepted', 'update/documents', 'update/delta'] as const).map((op) => topics.shadow(thing, op)),
    );
    expect(on(thing, 'update/accepted')).toEqual([
      {
        state: { desired: { power: 'on', setpoint: 21 } },
        metadata: { desired: metadata },
        version: 1,
        timestamp: T0,
        clientToken: 't1',
      },
    ]);
    expect(on(thing, 'update/documents')).toEqual([
      {
        previous: null,
        current: { state: { desired: { power: 'on', setpoint: 21 } }, metadata: { desired: metadata }, version: 1 },
        timestamp: T0,
        clientToken: 't1',
      },
    ]);
    expect(on(thing, 'update/delta')).toEqual([
      { state: { power: 'on', setpoint: 21 }, metadata, version: 1, timestamp: T0, clientToken: 't1' },
    ]);
  });

  it('publishes no delta once reported matches desired, and get shows none', async () => {
    const thing = newThing();
    await request(thing, 'update', { state: { desired: { power: 'on' } } });
    await request(thing, 'update', { state: { reported: { power: 'on' } } });

    expect(on(thing, 'update/delta')).toHaveLength(1);
    expect(on(thing, 'update/documents')[1]).toMatchObject({
      previous: { state: { desired: { power: 'on' } }, version: 1 },
      current: { state: { desired: { power: 'on' }, reported: { power: 'on' } }, version: 2 },
    });
    const doc = await current(thing);
    expect(doc).toMatchObject({ version: 2, state: { desired: { power: 'on' }, reported: { power: 'on' } } });
    expect(doc.state).not.toHaveProperty('delta');
  });

  it('merges objects, replaces arrays, deletes nulls and keeps older leaf timestamps', async () => {
    const thing = newThing();
    await service.update(
      thing,
      JSON.stringify({ state: { reported: { panel: { volts: 240, amps: 200 }, circuits: ['a', 'b'], mode: 'auto' } } }),
    );
    clock += 60_000;
    const second = await service.update(
      thing,
      JSON.stringify({ state: { reported: { panel: { amps: 100 }, circuits: [{ id: 'c' }], mode: null } } }),
    );

    const T1 = T0 + 60;
    expect(second).toMatchObject({
      ok: true,
      body: {
        version: 2,
        metadata: {
          reported: {
            panel: { amps: { timestamp: T1 } },
            circuits: [{ id: { timestamp: T1 } }],
            mode: { timestamp: T1 },
          },
        },
      },
    });
    expect(await current(thing)).toEqual({
      state: { reported: { panel: { volts: 240, amps: 100 }, circuits: [{ id: 'c' }] } },
      metadata: {
        reported: {
          panel: { volts: { timestamp: T0 }, amps: { timestamp: T1 } },
          circuits: [{ id: { timestamp: T1 } }],
        },
      },
      version: 2,
      timestamp: T1,
    });
  });

  it('removes a whole section set to null', async () => {
    const thing = newThing();
    await service.update(thing, JSON.stringify({ state: { desired: { power: 'on' }, reported: { power: 'off' } } }));
    await service.update(thing, JSON.stringify({ state: { desired: null } }));

    expect(await current(thing)).toEqual({
      state: { reported: { power: 'off' } },
      metadata: { reported: { power: { timestamp: T0 } } },
      version: 2,
      timestamp: T0,
    });
  });

  it('computes the delta down to the differing leaf, arrays compared whole', async () => {
    const thing = newThing();
    await request(thing, 'update', {
      state: { reported: { lights: { color: { r: 255, g: 0, b: 255 } }, sequence: [1, 2] } },
    });
    await request(thing, 'update', {
      state: { desired: { lights: { color: { r: 255, g: 255, b: 255 } }, sequence: [1, 2, 3] } },
    });

    expect(on(thing, 'update/delta')).toEqual([
      {
        state: { lights: { color: { g: 255 } }, sequence: [1, 2, 3] },
        metadata: {
          lights: { color: { g: { timestamp: T0 } } },
          sequence: [{ timestamp: T0 }, { timestamp: T0 }, { timestamp: T0 }],
        },
        version: 2,
        timestamp: T0,
      },
    ]);
    expect((await current(thing)).state).toMatchObject({
      delta: { lights: { color: { g: 255 } }, sequence: [1, 2, 3] },
    });
  });

  it('stores the example shadow report as the device sends it', async () => {
    const thing = newThing();
    await request(thing, 'update', fixtureText('volttron-shadow-reported'));

    const doc = await current(thing);
    expect(doc.state).toEqual(fixture('volttron-shadow-reported').state);
    expect(doc.metadata).toMatchObject({
      reported: { circuits: [{ id: { timestamp: T0 }, current_kw: { timestamp: T0 } }] },
    });
  });
});

describe('versions', () => {
  it('rejects a stale version with 409 and accepts the current one', async () => {
    const thing = newThing();
    await request(thing, 'update', { state: { reported: { a: 1 } } });
    await request(thing, 'update', { state: { reported: { a: 2 } }, version: 0, clientToken: 'stale' });
    await request(thing, 'update', { state: { reported: { a: 3 } }, version: 1 });

    expect(on(thing, 'update/rejected')).toEqual([
      { code: 409, message: 'Version conflict', timestamp: T0, clientToken: 'stale' },
    ]);
    expect(on(thing, 'update/accepted').map((b) => b.version)).toEqual([1, 2]);
    expect((await current(thing)).state).toEqual({ reported: { a: 3 } });
  });

  it('applies concurrent updates one at a time', async () => {
    const thing = newThing();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        service.update(thing, JSON.stringify({ state: { reported: { [`k${i}`]: i } } })),
      ),
    );

    expect(results.map((r) => r.ok && r.body.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(on(thing, 'update/accepted').map((b) => b.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Object.keys((await current(thing)).state as object)).toEqual(['reported']);
  });

  it('continues the version of a deleted shadow when it is re-created', async () => {
    const thing = newThing();
    await service.update(thing, JSON.stringify({ state: { reported: { a: 1 } } }));
    await service.update(thing, JSON.stringify({ state: { reported: { a: 2 } } }));
    await service.delete(thing);
    const recreated = await service.update(thing, JSON.stringify({ state: { reported: { a: 3 } } }));

    expect(recreated).toMatchObject({ ok: true, body: { version: 3 } });
  });
});

describe('get and delete', () => {
  it('answers get on get/accepted with the client token', async () => {
    const thing = newThing();
    await service.update(thing, JSON.stringify({ state: { desired: { power: 'on' } } }));
    await request(thing, 'get', { clientToken: 'g1' });

    expect(on(thing, 'get/accepted')).toEqual([
      {
        state: { desired: { power: 'on' }, delta: { power: 'on' } },
        metadata: { desired: { power: { timestamp: T0 } } },
        version: 1,
        timestamp: T0,
        clientToken: 'g1',
      },
    ]);
  });

  it('rejects get and delete of a missing shadow with 404', async () => {
    const thing = newThing();
    await request(thing, 'get', { clientToken: 'g2' });
    await request(thing, 'delete');

    const message = `No shadow exists with name: '${thing}'`;
    expect(on(thing, 'get/rejected')).toEqual([{ code: 404, message, timestamp: T0, clientToken: 'g2' }]);
    expect(on(thing, 'delete/rejected')).toEqual([{ code: 404, message, timestamp: T0 }]);
  });

  it('deletes: delete/accepted with the version, then 404', async () => {
    const thing = newThing();
    await service.update(thing, JSON.stringify({ state: { reported: { a: 1 } } }));
    await request(thing, 'delete', { clientToken: 'd1' });

    expect(on(thing, 'delete/accepted')).toEqual([{ version: 1, timestamp: T0, clientToken: 'd1' }]);
    expect(await service.get(thing)).toMatchObject({ ok: false, code: 404 });
  });
});

describe('rejections', () => {
  const deep = { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } };
  it.each([
    ['a non-JSON payload', '{nope', 'Invalid JSON'],
    ['an empty payload', '', 'Invalid JSON'],
    ['a JSON array', [], 'Invalid JSON'],
    ['no state', { version: 1 }, 'Missing required node: state'],
    ['a string state', { state: 'on' }, 'State node must be an object'],
    ['an unknown node in state', { state: { delta: { a: 1 } } }, "State contains an invalid node: 'delta'"],
    ['an array desired', { state: { desired: [1] } }, 'Desired node must be an object'],
    ['a number reported', { state: { reported: 5 } }, 'Reported node must be an object'],
    ['a string version', { state: { reported: { a: 1 } }, version: '1' }, 'Invalid version'],
    [
      'a clientToken over 64 bytes',
      { state: { reported: { a: 1 } }, clientToken: 'x'.repeat(65) },
      'Invalid clientToken',
    ],
    [
      'nesting deeper than 6 levels',
      { state: { reported: deep } },
      'JSON contains too many levels of nesting; maximum is 6',
    ],
    ['null in an array', { state: { reported: { a: [1, null] } } }, 'Arrays cannot contain null values'],
  ])('rejects %s with 400', async (_name, body, message) => {
    const thing = newThing();
    await request(thing, 'update', body);

    expect(on(thing, 'update/rejected')).toEqual([{ code: 400, message, timestamp: T0 }]);
    expect(on(thing, 'update/accepted')).toEqual([]);
    expect(await service.get(thing)).toMatchObject({ ok: false, code: 404 });
  });

  it('accepts exactly 6 levels of nesting', async () => {
    expect(await service.update(newThing(), JSON.stringify({ state: { reported: deep.a } }))).toMatchObject({
      ok: true,
    });
  });

  it('rejects a payload over 8 KiB with 413', async () => {
    const thing = newThing();
    await request(thing, 'update', { state: { reported: { blob: 'x'.repeat(8 * 1024) } } });

    expect(on(thing, 'update/rejected')).toEqual([
      { code: 413, message: 'The payload exceeds the maximum size allowed', timestamp: T0 },
    ]);
  });

  it('rejects an update that would grow the state over 8 KiB with 413', async () => {
    const thing = newThing();
    const half = 'x'.repeat(5000);
    await request(thing, 'update', { state: { reported: { a: half } } });
    await request(thing, 'update', { state: { reported: { b: half } }, clientToken: 'big' });

    expect(on(thing, 'update/rejected')).toMatchObject([{ code: 413, clientToken: 'big' }]);
    expect((await current(thing)).version).toBe(1);
  });

  it('ignores its own response topics and named shadows', async () => {
    const thing = newThing();
    const body = Buffer.from(JSON.stringify({ state: { reported: { a: 1 } } }));
    await service.onMessage(topics.shadow(thing, 'update/accepted'), body);
    await service.onMessage(topics.shadow(thing, 'update').replace('/shadow/', '/shadow/name/extra/'), body);

    expect(published).toEqual([]);
  });
});

describe('store', () => {
  it('keeps shadows across service instances', async () => {
    const thing = newThing();
    await service.update(thing, JSON.stringify({ state: { desired: { power: 'on' } } }));
    const before = await current(thing);

    service = newService();
    expect(await current(thing)).toEqual(before);
    expect(await service.update(thing, JSON.stringify({ state: { reported: { power: 'on' } } }))).toMatchObject({
      ok: true,
      body: { version: 2 },
    });
  });

  it('answers 500 on the rejected topic when the store fails, and rejects', async () => {
    const broken = new ShadowService({
      store: new DynamoShadowStore(documentClient, 'no-such-table'),
      now: () => clock,
      publish: async (topic, payload) => {
        published.push({ topic, body: JSON.parse(payload) as Record<string, unknown> });
      },
    });
    const thing = newThing();

    await expect(broken.onMessage(topics.shadow(thing, 'get'), Buffer.from(''))).rejects.toThrow(
      /non-existent table|not found/i,
    );
    expect(on(thing, 'get/rejected')).toEqual([{ code: 500, message: 'Internal service failure', timestamp: T0 }]);
  });
});
