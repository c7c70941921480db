// POST /api/telemetry: the HTTP fallback of the metering rule, same validation, same stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSink, presenceConnected } from '../e2e/helpers.js';
import { fixture } from '../fixture.js';
import { nowSec, post, shows, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;

beforeAll(async () => {
  stack = await startApiStack();
});

afterAll(async () => {
  await stack?.dispose();
});

const metering = (venId: string, timestamp = nowSec()) => ({ ...fixture('volttron-metering'), venId, timestamp });
const window = (t: number) => `start=${t - 60}&end=${t + 60}`;

describe('POST /api/telemetry', () => {
  it('stores one example metering payload as the rule would, marked as arrived over HTTP', async () => {
    const t = nowSec();
    const res = await stack.api('/api/telemetry', post(metering('ven-h1', t)));
    expect(res).toMatchObject({ status: 200, body: { accepted: 1, rejected: 0, results: [{ index: 0, ok: true }] } });

    // a reading over HTTP says nothing about the device's connection: it is not online for it
    await shows(async () =>
      expect((await stack.api('/api/vens/ven-h1')).body).toMatchObject({
        venId: 'ven-h1',
        online: false,
        latest: { usedPowerKw: 8.2, availableShedKw: 2.1, source: 'http' },
      }),
    );
    await shows(async () =>
      expect((await stack.api(`/api/vens/ven-h1/telemetry?${window(t)}`)).body.items).toEqual([
        expect.objectContaining({ usedPowerKw: 8.2, shedPowerKw: 4.8 }),
      ]),
    );
    await shows(async () => {
      const circuits = await stack.api(`/api/vens/ven-h1/circuits/history?${window(t)}`);
      expect(circuits.body.items.map((c: { load_id: string }) => c.load_id).sort()).toEqual(['circuit_1', 'circuit_3']);
    });
  });

  it('takes a batch and answers per item, storing only the valid ones', async () => {
    const t = nowSec();
    const res = await stack.api(
      '/api/telemetry',
      post({
        items: [
          metering('ven-h2', t),
          { ...metering('ven-h3', t), usedPowerKw: -1 },
          42,
          { ...metering('ven-h2', t + 1), circuits: [{ id: 'x' }] },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      accepted: 1,
      rejected: 3,
      results: [
        { index: 0, ok: true },
        { index: 1, ok: false, field: 'usedPowerKw', reason: expect.stringContaining('usedPowerKw') },
        { index: 2, ok: false, field: '(root)' },
        { index: 3, ok: false, field: 'circuits.0.currentKw' },
      ],
    });
    await shows(async () => expect((await stack.api('/api/vens/ven-h2')).status).toBe(200));
    expect((await stack.api('/api/vens/ven-h3')).status).toBe(404);
    await shows(async () =>
      expect((await stack.api(`/api/vens/ven-h2/telemetry?${window(t)}`)).body.items).toHaveLength(1),
    );
  });

  it('stores a resent batch once', async () => {
    const t = nowSec();
    const batch = post({ items: [metering('ven-h4', t), metering('ven-h4', t)] });
    expect((await stack.api('/api/telemetry', batch)).body.accepted).toBe(2);
    expect((await stack.api('/api/telemetry', batch)).body.accepted).toBe(2);
    await shows(async () =>
      expect((await stack.api(`/api/vens/ven-h4/telemetry?${window(t)}`)).body.items).toHaveLength(1),
    );
  });

  it('answers 400 naming the field for a bad single payload or batch, and writes nothing', async () => {
    const cases: [unknown, string][] = [
      [{ ...metering('ven-h5'), venId: 'bad id' }, 'venId'],
      [{ ...metering('ven-h5'), timestamp: Date.now() }, 'timestamp'],
      [{ items: [] }, 'items'],
      [{ items: Array.from({ length: 101 }, () => metering('ven-h5')) }, 'items'],
      [{ items: 'nope' }, 'items'],
      ['{"venId": ', 'body'],
    ];
    for (const [body, field] of cases) {
      expect(await stack.api('/api/telemetry', post(body)), JSON.stringify(body).slice(0, 80)).toMatchObject({
        status: 400,
        body: { field },
      });
    }
    expect(await stack.api('/api/telemetry', { method: 'POST' })).toMatchObject({
      status: 400,
      body: { field: 'body' },
    });
    expect((await stack.api('/api/vens/ven-h5')).status).toBe(404);
  });

  it('refuses a sample from a year ahead (clock-skew, naming timestamp), so the next real one still becomes the latest', async () => {
    const yearAhead = nowSec() + 365 * 86_400;
    expect(await stack.api('/api/telemetry', post(metering('ven-h7', yearAhead)))).toMatchObject({
      status: 400,
      body: { field: 'timestamp', message: expect.stringContaining('clock-skew') },
    });
    const t = nowSec();
    expect((await stack.api('/api/telemetry', post({ ...metering('ven-h7', t), usedPowerKw: 3.3 }))).status).toBe(200);
    await shows(async () =>
      expect((await stack.api('/api/vens/ven-h7')).body.latest).toMatchObject({
        usedPowerKw: 3.3,
        timestamp: new Date(t * 1000).toISOString(),
      }),
    );
  });

  it('over MQTT too: a VEN whose clock jumped a year ahead is refused to the error sink and is not frozen', async () => {
    const deliver = (timestamp: number, usedPowerKw: number) =>
      stack.deliverToRules(
        'volttron/metering',
        Buffer.from(JSON.stringify({ ...metering('ven-h8', timestamp), usedPowerKw })),
        'ven-h8',
      );
    await presenceConnected(stack, 'ven-h8');
    await deliver(nowSec() + 365 * 86_400, 1.1);
    await deliver(nowSec(), 2.2);
    await stack.settle();
    await shows(async () =>
      expect((await stack.api('/api/vens/ven-h8')).body).toMatchObject({ online: true, latest: { usedPowerKw: 2.2 } }),
    );
    expect(await errorSink(stack.config.errorsFile)).toContainEqual(
      expect.objectContaining({
        reason: 'clock-skew',
        clientId: 'ven-h8',
        message: expect.stringMatching(/^timestamp: /),
      }),
    );
  });

  it("never replaces a reading the device sent itself: 409 naming timestamp; the series records each reading's path", async () => {
    const t = nowSec();
    await stack.deliverToRules(
      'volttron/metering',
      Buffer.from(JSON.stringify({ ...metering('ven-h9', t), usedPowerKw: 4.4 })),
      'ven-h9',
    );
    await stack.settle();
    expect(await stack.api('/api/telemetry', post({ ...metering('ven-h9', t), usedPowerKw: 99 }))).toMatchObject({
      status: 409,
      body: { field: 'timestamp', message: expect.stringContaining('mqtt') },
    });
    const batch = await stack.api(
      '/api/telemetry',
      post({ items: [{ ...metering('ven-h9', t), usedPowerKw: 99 }, metering('ven-h9', t + 1)] }),
    );
    expect(batch.body).toMatchObject({
      accepted: 1,
      rejected: 1,
      results: [
        { index: 0, ok: false, field: 'timestamp' },
        { index: 1, ok: true },
      ],
    });
    await shows(async () => {
      const items = (await stack.api(`/api/vens/ven-h9/telemetry?${window(t)}`)).body.items;
      expect(items.map((i: { usedPowerKw: number; source: string }) => [i.usedPowerKw, i.source])).toEqual([
        [8.2, 'http'],
        [4.4, 'mqtt'],
      ]);
    });
    // the fallback's own reading sent again is the same reading: accepted, stored once
    expect((await stack.api('/api/telemetry', post(metering('ven-h9', t + 1)))).status).toBe(200);
  });

  it("is the admin's alone: an operator token may not write any VEN's metering", async () => {
    expect(
      (await stack.api('/api/telemetry', { ...post(metering('ven-h10')), token: stack.config.tokens.operator })).status,
    ).toBe(403);
    expect((await stack.api('/api/vens/ven-h10')).status).toBe(404);
  });

  it('needs the token', async () => {
    expect((await stack.api('/api/telemetry', { ...post(metering('ven-h6')), token: null })).status).toBe(401);
    expect((await stack.api('/api/vens/ven-h6')).status).toBe(404);
  });
});
