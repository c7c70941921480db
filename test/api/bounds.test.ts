// The read API's bounds: a window defaults to the last 24 hours and spans at most 31 days; `limit` is 1 to 1000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { fixture } from '../fixture.js';
import { startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
const now = Math.floor(Date.now() / 1000);
beforeAll(async () => {
  stack = await startApiStack();
  for (const hoursAgo of [1, 23, 25]) {
    const m = { ...fixture('volttron-metering'), venId: 'ven-b1', timestamp: now - hoursAgo * 3600 };
    stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify(m)), 'ven-b1');
  }
  await stack.settle();
  // readings just stored show to the (eventually consistent) read within the lag, in AWS too
  await eventually(async () => (await telemetry(`?start=${now - 2 * 86_400}`)).body.items.length === 3);
});
afterAll(() => stack?.dispose());

const telemetry = (query: string) => stack.api(`/api/vens/ven-b1/telemetry${query}`);
const iso = (s: number) => new Date(s * 1000).toISOString();

describe('windows and limits', () => {
  it('reads the last 24 hours by default', async () => {
    const res = await telemetry('');
    expect(res.body.items.map((i: { timestamp: string }) => i.timestamp)).toEqual([
      iso(now - 3600),
      iso(now - 23 * 3600),
    ]);
  });

  it('takes a window of exactly 31 days and refuses a second more, naming start', async () => {
    const end = now;
    expect((await telemetry(`?start=${end - 31 * 86_400}&end=${end}`)).body.items).toHaveLength(3);
    expect(await telemetry(`?start=${end - 31 * 86_400 - 1}&end=${end}`)).toMatchObject({
      status: 400,
      body: { field: 'start' },
    });
    expect(await telemetry(`?start=${end}&end=${end - 1}`)).toMatchObject({ status: 400, body: { field: 'start' } });
  });

  it('takes a limit from 1 to 1000 and pages with it', async () => {
    const first = await telemetry(`?start=${now - 2 * 86_400}&limit=1`);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next).toEqual(expect.any(String));
    expect((await telemetry(`?start=${now - 2 * 86_400}&limit=1000`)).body.items).toHaveLength(3);
    for (const bad of ['0', '1001', '1.5', 'ten']) {
      expect(await telemetry(`?limit=${bad}`)).toMatchObject({ status: 400, body: { field: 'limit' } });
    }
  });
});
