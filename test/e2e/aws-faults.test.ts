// The whole local stack in fault mode and with DynamoDB's lag, as AWS can behave on a bad day: DynamoDB throttles and
// leaves batch items unprocessed, Kinesis fails records of a PutRecords and throttles GetRecords, and eventually
// consistent reads lag. Three VENs publish QoS 1 metering through the real device SDK; every acknowledged sample is
// stored exactly once, nothing is dead-lettered, and the rollup pass counts each sample once.
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ProvisionResult } from '../../bin/local/stack.js';
import { documentClient } from '../../lambdas/core/adapters.js';
import { ROLLUP_GRACE_MS } from '../../lambdas/core/analytics/rollup-pass.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { errorSink, eventually, startTestStack } from './helpers.js';
import { connectDevice } from './sdk-client.js';

let stack: Awaited<ReturnType<typeof startTestStack>>;
const VENS = ['ven-001', 'ven-002', 'ven-003'];
const PER_VEN = 60;
const T = 1729699200; // a 15-minute bucket's start (s)
const devices = new Map<string, ProvisionResult>();

beforeAll(async () => {
  const saved = { faults: process.env.VPP_AWS_FAULTS, lag: process.env.VPP_DYNAMODB_LAG_MS };
  process.env.VPP_AWS_FAULTS = '1';
  process.env.VPP_DYNAMODB_LAG_MS = '300';
  try {
    stack = await startTestStack();
  } finally {
    for (const [k, v] of [
      ['VPP_AWS_FAULTS', saved.faults],
      ['VPP_DYNAMODB_LAG_MS', saved.lag],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  for (const id of VENS) devices.set(id, await stack.provision(id));
});
afterAll(() => stack?.dispose());

it('is in fault mode: DynamoDB leaves batch items unprocessed', async () => {
  const res = await documentClient(stack.dynamodb.client).send(
    new BatchWriteCommand({
      RequestItems: {
        [stack.dynamodb.tables.allowList]: Array.from({ length: 25 }, (_, i) => ({
          PutRequest: { Item: { serial: `probe-${i}` } },
        })),
      },
    }),
  );
  expect(res.UnprocessedItems?.[stack.dynamodb.tables.allowList]?.length).toBeGreaterThan(0);
});

it('stores every acknowledged sample once and rolls each up once, through throttling, unprocessed items and failed records', async () => {
  await Promise.all(
    VENS.map(async (venId) => {
      const device = await connectDevice(devices.get(venId)!, venId);
      try {
        for (let i = 0; i < PER_VEN; i++) {
          // resolves on PUBACK: the record is in the stream
          await device.publish(
            topics.meteringBasicIngest,
            JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp: T + i * 5 }),
            1,
          );
        }
      } finally {
        await device.close();
      }
    }),
  );
  await stack.settle();
  for (const venId of VENS) {
    // the telemetry read is eventually consistent: the last samples show once the lag has passed
    const times = await eventually(async () => {
      const page = await stack.ports.telemetry.query({
        series: 'ven_telemetry',
        deviceId: venId,
        start: T * 1000,
        end: (T + 900) * 1000 - 1,
        limit: 1000,
      });
      return page.items.length >= PER_VEN && page.items.map((r) => r.time);
    });
    expect(new Set(times).size).toBe(PER_VEN);
    expect(times.length).toBe(PER_VEN);
  }
  expect(await errorSink(stack.config.errorsFile)).toEqual([]);

  await stack.rollupPass(T * 1000 + 900_000 + ROLLUP_GRACE_MS);
  for (const venId of VENS) {
    const rows = await stack.ports.rollups.query(venId, '15m', {
      from: T * 1000,
      to: (T + 900) * 1000,
      limit: 10,
      consistent: true,
    });
    expect(rows.items.map((r) => r.samples)).toEqual([PER_VEN]);
  }
  const portfolio = await stack.ports.rollups.query('portfolio', '15m', {
    from: T * 1000,
    to: (T + 900) * 1000,
    limit: 10,
    consistent: true,
  });
  expect(portfolio.items.map((r) => r.samples)).toEqual([PER_VEN * VENS.length]);
});
