// `GET /api/refused` through the local stack: what the rules engine, the rule handlers and the broker refuse is
// readable newest first, per device and page by page, and still lands in the error sink as before.
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { errorSink, eventually } from '../e2e/helpers.js';
import { connectDevice } from '../e2e/sdk-client.js';
import { fixture, fixtureText } from '../fixture.js';
import { startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
const refused = (query = '') => stack.api(`/api/refused${query}`);
const pause = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  stack = await startApiStack();
  stack.deliverToRules(topics.metering, Buffer.from('{"venId": "ven-r1", broken'), 'ven-r1');
  await stack.settle();
  await pause();
  stack.deliverToRules(
    topics.metering,
    Buffer.from(JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-other' })),
    'ven-r2',
  );
  await stack.settle();
  await pause();
  stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify({ venId: 'ven-r1' })), 'ven-r1');
  await stack.settle();
  // the refusals just recorded show in their (eventually consistent) listings within the lag, in AWS too
  await eventually(async () => (await refused()).body.items.length === 3);
  await eventually(async () => (await refused('?device=ven-r1')).body.items.length === 2);
});

afterAll(() => stack?.dispose());

describe('GET /api/refused', () => {
  it('lists every refusal newest first with its reason, sender, topic and payload sample', async () => {
    const res = await refused();
    expect(res.status).toBe(200);
    expect(res.body.items.map((r: { reason: string; clientId: string }) => [r.reason, r.clientId])).toEqual([
      ['schema', 'ven-r1'],
      ['identity-mismatch', 'ven-r2'],
      ['malformed-json', 'ven-r1'],
    ]);
    expect(res.body.items[2]).toEqual({
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/),
      reason: 'malformed-json',
      message: 'payload is not a JSON object',
      topic: 'volttron/metering',
      clientId: 'ven-r1',
      payload: '{"venId": "ven-r1", broken',
    });
    expect(res.body.items[1].message).toContain('ven-other');
    expect(res.body).not.toHaveProperty('next');
    const sink = await errorSink(stack.config.errorsFile);
    expect(sink.map((e) => e.reason)).toEqual(['malformed-json', 'identity-mismatch', 'schema']);
  });

  it('keeps only the refusals of one sender with ?device=', async () => {
    const res = await refused('?device=ven-r1');
    expect(res.body.items.map((r: { reason: string }) => r.reason)).toEqual(['schema', 'malformed-json']);
    expect(res.body.items.every((r: { clientId: string }) => r.clientId === 'ven-r1')).toBe(true);
    expect((await refused('?device=ven-nobody')).body).toEqual({ items: [] });
  });

  it('pages by limit and next, fleet-wide and per device', async () => {
    const first = await refused('?limit=2');
    expect(first.body.items.map((r: { reason: string }) => r.reason)).toEqual(['schema', 'identity-mismatch']);
    const second = await refused(`?limit=2&next=${first.body.next}`);
    expect(second.body.items.map((r: { reason: string }) => r.reason)).toEqual(['malformed-json']);

    const mine = await refused('?device=ven-r1&limit=1');
    expect(mine.body.items.map((r: { reason: string }) => r.reason)).toEqual(['schema']);
    const rest = await refused(`?device=ven-r1&limit=1&next=${mine.body.next}`);
    expect(rest.body.items.map((r: { reason: string }) => r.reason)).toEqual(['malformed-json']);
    expect((await refused(`?device=ven-r2&next=${mine.body.next}`)).status).toBe(400);
  });

  it('records what the broker refuses: a device publishing to another device topic', async () => {
    const device = await connectDevice(await stack.provision('ven-r3'), 'ven-r3');
    try {
      await device.publish(topics.ack('ven-r1'), fixtureText('volttron-event-ack'), mqtt.QoS.AtMostOnce);
      const [refusal] = await eventually(async () => {
        const items = (await refused('?device=ven-r3')).body.items;
        return items.length > 0 && items;
      });
      expect(refusal).toMatchObject({ reason: 'not-authorized', clientId: 'ven-r3', topic: topics.ack('ven-r1') });
    } finally {
      await device.close();
    }
  });

  it('refuses a bad limit, device or next, naming the field, and needs a token', async () => {
    expect(await refused('?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await refused('?device=bad%20id')).toMatchObject({ status: 400, body: { field: 'device' } });
    expect(await refused('?next=nonsense')).toMatchObject({ status: 400, body: { field: 'next' } });
    expect((await stack.api('/api/refused', { token: null })).status).toBe(401);
  });
});
