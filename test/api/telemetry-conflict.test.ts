// The HTTP fallback never replaces a reading the device sent itself, even one stored a moment ago: its check reads the
// time series consistently. Here DynamoDB's lag (10 s) outlasts the test, so an eventually consistent check would find
// nothing and answer 200 for a reading the store then ignores (the first reading of a time is kept).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

process.env.VPP_DYNAMODB_LAG_MS = '10000';

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.dispose());

it('answers 409 naming timestamp for a time the device sent over MQTT a moment ago', async () => {
  const t = nowSec();
  const reading = { ...fixture('volttron-metering'), venId: 'ven-hc', timestamp: t };
  await stack.deliverToRules(topics.metering, Buffer.from(JSON.stringify({ ...reading, usedPowerKw: 4.4 })), 'ven-hc');
  await stack.settle();
  expect(await stack.api('/api/telemetry', post({ ...reading, usedPowerKw: 99 }))).toMatchObject({
    status: 409,
    body: { field: 'timestamp', message: expect.stringContaining('mqtt') },
  });
});
