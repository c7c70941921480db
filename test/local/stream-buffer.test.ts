// The local stack's durable buffer: kinesalite streams between the rules and their handlers. The broker acknowledges
// a QoS 1 publish only once the message is in its stream and stops reading from publishers while a stream is full;
// close() drains the streams into the stores; the consumer checkpoints after each batch and retries from the first
// failed record.
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PENDING_PER_CONNECTION } from '../../bin/local/iot/broker.js';
import { ensureStreams, startKinesis, type LocalKinesis } from '../../bin/local/aws/kinesis.js';
import { startLocalStack, type LocalStack } from '../../bin/local/stack.js';
import { CheckpointFile, StreamConsumer } from '../../bin/local/lambda/stream-consumer.js';
import type { Ports } from '../../lambdas/core/ingest/ingest-ports.js';
import type { Rejection } from '../../lambdas/core/ingest/ingest-ports.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { fixture } from '../fixture.js';
import { eventually } from '../e2e/helpers.js';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vpp-buffer-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Ports whose time-series writes wait while the gate is closed (a stalled consumer), recording what was stored. */
function gated() {
  let open: () => void = () => undefined;
  let gate: Promise<void> | undefined = new Promise<void>((r) => (open = r));
  const stored = new Set<string>();
  const wrap = (ports: Ports): Ports => ({
    ...ports,
    telemetry: {
      write: async (records) => {
        if (gate) await gate;
        await ports.telemetry.write(records);
        for (const r of records) if (r.series === 'ven_telemetry') stored.add(`${r.deviceId}@${r.time / 1000}`);
      },
      query: (q) => ports.telemetry.query(q),
    },
  });
  return {
    wrap,
    stored,
    release() {
      gate = undefined;
      open();
    },
    /** Lets one write through. */
    step() {
      if (!gate) return;
      const letGo = open;
      gate = new Promise<void>((r) => (open = r));
      letGo();
    },
  };
}

async function connect(stack: LocalStack, venId: string): Promise<MqttClient> {
  const ven = await stack.provision(venId);
  return mqtt.connectAsync({
    host: ven.endpoint,
    port: ven.port,
    protocol: 'mqtts',
    protocolVersion: 4,
    clientId: venId,
    ca: await readFile(ven.caFile),
    cert: await readFile(ven.certFile),
    key: await readFile(ven.keyFile),
    reconnectPeriod: 0,
  });
}

const metering = (venId: string, timestamp: number) =>
  JSON.stringify({ ...fixture('volttron-metering'), venId, timestamp });

describe('the broker in front of a full stream', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it(
    'withholds PUBACKs and stops reading from publishers at the bound, then resumes when the consumer drains',
    { timeout: 60_000 },
    async () => {
      const BOUND = 20;
      const CLIENTS = 4;
      const PER_CLIENT = 500;
      const store = gated();
      stack = await startLocalStack({
        dir: await tempDir(),
        httpPort: 0,
        mqttPort: 0,
        fleet: false,
        streamBacklog: BOUND,
        instrumentPorts: store.wrap,
      });
      const devices = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => connect(stack!, `ven-bp${c}`)));
      const acked = new Set<string>();
      const t0 = 1729700000;
      let most = { waiting: 0, backlog: 0, ackedNotStored: 0 };
      const sample = () => {
        const { backlog, waiting } = stack!.streams();
        most = {
          waiting: Math.max(most.waiting, waiting),
          backlog: Math.max(most.backlog, backlog['vpp-metering'] ?? 0),
          ackedNotStored: Math.max(most.ackedNotStored, acked.size - store.stored.size),
        };
      };
      const sampler = setInterval(sample, 10);
      // a consumer far slower than the publishers: one batch write every 100 ms
      const slow = setInterval(() => store.step(), 100);
      // each publisher keeps sending, 25 messages every 50 ms, so the broker is offered new data all along
      for (let burst = 0; burst < PER_CLIENT / 25; burst++) {
        devices.forEach((device, c) => {
          for (let i = burst * 25; i < (burst + 1) * 25; i++) {
            device.publish(
              topics.metering,
              metering(`ven-bp${c}`, t0 + i),
              { qos: 1 },
              (err) => !err && acked.add(`ven-bp${c}@${t0 + i}`),
            );
          }
        });
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 500));
      clearInterval(slow);
      sample();

      expect(most.backlog).toBe(BOUND);
      // acknowledged means in the stream: never more than the bound ahead of the store (plus the batch being written)
      expect(most.ackedNotStored).toBeLessThanOrEqual(2 * BOUND);
      expect(acked.size).toBeLessThan((CLIENTS * PER_CLIENT) / 2);
      // what the broker has read and holds is bounded per connection, not the 2,000 messages offered
      expect(most.waiting).toBeLessThanOrEqual(CLIENTS * (MAX_PENDING_PER_CONNECTION + 64));

      store.release();
      await eventually(() => acked.size === CLIENTS * PER_CLIENT, 40_000);
      clearInterval(sampler);
      await stack.settle();
      expect([...acked].every((key) => store.stored.has(key))).toBe(true);
      expect(store.stored.size).toBe(CLIENTS * PER_CLIENT);
      await Promise.all(devices.map((d) => d.endAsync()));
    },
  );

  it('drains on close: every acknowledged message is stored before close() resolves', { timeout: 60_000 }, async () => {
    const store = gated();
    stack = await startLocalStack({
      dir: await tempDir(),
      httpPort: 0,
      mqttPort: 0,
      fleet: false,
      instrumentPorts: store.wrap,
    });
    const device = await connect(stack, 'ven-dr1');
    const t0 = 1729800000;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        device.publishAsync(topics.metering, metering('ven-dr1', t0 + i), { qos: 1 }),
      ),
    );
    await device.endAsync();
    expect(store.stored.size).toBe(0);
    const closing = stack.close();
    stack = undefined;
    setTimeout(() => store.release(), 300);
    await closing;
    expect(store.stored.size).toBe(200);
  });
});

describe('the stream consumer (the local event source mapping)', () => {
  let kinesis: LocalKinesis;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    kinesis = await startKinesis(join(dir, 'kinesis'));
    await ensureStreams(kinesis.client, ['s-partial', 's-poison', 's-parallel']);
  });
  afterAll(() => kinesis?.close());

  const put = (stream: string, values: string[], key = (_: string) => 'ven-1') =>
    kinesis.client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: values.map((v) => ({ PartitionKey: key(v), Data: Buffer.from(v) })),
      }),
    );
  const consumer = (
    stream: string,
    checkpoints: CheckpointFile,
    handler: (e: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>,
    rejected: Rejection[] = [],
    parallelization = 1,
  ) =>
    new StreamConsumer({
      parallelization,
      client: kinesis.client,
      stream,
      region: 'us-east-1',
      batchSize: 100,
      retryAttempts: 2,
      handler,
      context: () => ({}) as never,
      checkpoints,
      errors: { reject: async (r) => void rejected.push(r) },
      idleMs: 20,
      retryDelayMs: 10,
    });
  const values = (e: KinesisStreamEvent) => e.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

  it('retries from the first failed record only, checkpoints on disk, and a restart resumes after the checkpoint', async () => {
    const checkpoints = await CheckpointFile.open(join(dir, 'partial.json'));
    await put('s-partial', ['a', 'b', 'c', 'd', 'e']);
    const delivered: string[][] = [];
    let failC = true;
    const first = consumer('s-partial', checkpoints, async (e) => {
      delivered.push(values(e));
      const c = e.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'c');
      if (failC && c) {
        failC = false;
        return { batchItemFailures: [{ itemIdentifier: c.kinesis.sequenceNumber }] };
      }
      return { batchItemFailures: [] };
    });
    await first.start();
    await eventually(() => first.idle && delivered.length === 2);
    await first.stop();
    expect(delivered).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['c', 'd', 'e'],
    ]);

    await put('s-partial', ['f']);
    const again: string[][] = [];
    const second = consumer('s-partial', await CheckpointFile.open(join(dir, 'partial.json')), async (e) => {
      again.push(values(e));
      return { batchItemFailures: [] };
    });
    await second.start();
    await eventually(() => second.idle && again.length === 1);
    await second.stop();
    expect(again).toEqual([['f']]);
  });

  it('after the retries, sends the failing records to the error sink (the on-failure destination) and moves on', async () => {
    const rejected: Rejection[] = [];
    await put('s-poison', ['ok', 'poison', 'after']);
    const delivered: string[][] = [];
    const c = consumer(
      's-poison',
      await CheckpointFile.open(join(dir, 'poison.json')),
      async (e) => {
        delivered.push(values(e));
        const poison = e.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'poison');
        if (poison) throw new Error('store down (test)');
        return { batchItemFailures: [] };
      },
      rejected,
    );
    await c.start();
    await eventually(() => c.idle && rejected.length === 3);
    await c.stop();
    expect(delivered).toEqual([
      ['ok', 'poison', 'after'],
      ['ok', 'poison', 'after'],
      ['ok', 'poison', 'after'],
    ]);
    expect(rejected.map((r) => [r.reason, r.payload])).toEqual([
      ['handler-failed', 'ok'],
      ['handler-failed', 'poison'],
      ['handler-failed', 'after'],
    ]);
  });

  it('with a parallelization factor, handles the devices in batches side by side, each device in order, and checkpoints once all are done', async () => {
    const checkpoints = await CheckpointFile.open(join(dir, 'parallel.json'));
    const device = (v: string) => v.split(':')[0]!;
    const { Records: put6 } = await put('s-parallel', ['a:1', 'b:1', 'a:2', 'b:2', 'a:3', 'b:3'], device);
    const batches: string[][] = [];
    let running = 0;
    let most = 0;
    const c = consumer(
      's-parallel',
      checkpoints,
      async (e) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 50));
        batches.push(values(e));
        running--;
        return { batchItemFailures: [] };
      },
      [],
      2,
    );
    await c.start();
    await eventually(() => c.idle && batches.length === 2);
    await c.stop();
    expect(most).toBe(2);
    expect(batches.map((b) => b.join(' ')).sort()).toEqual(['a:1 a:2 a:3', 'b:1 b:2 b:3']);
    expect(checkpoints.get('s-parallel', 'shardId-000000000000')).toBe(put6![5]!.SequenceNumber);
  });
});
