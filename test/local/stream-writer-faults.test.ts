// The local IoT Kinesis action against the local Kinesis in fault mode (30 % of a PutRecords' records fail with
// ProvisionedThroughputExceededException and are not stored; GetRecords is throttled at times): every put resolves
// only once its record is stored, failed records are put again, and the stream holds each record exactly once.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_FAULT_RATES } from '../../bin/local/aws/aws-rules.js';
import { ensureStreams, startKinesis, type LocalKinesis } from '../../bin/local/aws/kinesis.js';
import { redrive } from '../../bin/local/redrive.js';
import { StreamWriter } from '../../bin/local/lambda/stream-writer.js';

let dir: string;
let kinesis: LocalKinesis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-stream-faults-'));
  kinesis = await startKinesis(join(dir, 'kinesis'), {
    lagMs: 0,
    faults: { ...DEFAULT_FAULT_RATES, kinesisRecordFailure: 0.3, kinesisThrottle: 0.2, seed: 5 },
  });
  await ensureStreams(kinesis.client, ['faulty']);
});

afterAll(async () => {
  await kinesis?.close();
  await rm(dir, { recursive: true, force: true });
});

async function readAll(client: KinesisClient, stream: string): Promise<string[]> {
  return (await readRecords(client, stream)).map((r) => r.data);
}

async function readRecords(
  client: KinesisClient,
  stream: string,
): Promise<{ data: string; sequenceNumber: string; shardId: string }[]> {
  const { Shards } = await client.send(new ListShardsCommand({ StreamName: stream }));
  let iterator = (
    await client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: Shards![0]!.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    )
  ).ShardIterator;
  const out: { data: string; sequenceNumber: string; shardId: string }[] = [];
  for (;;) {
    const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    out.push(
      ...(res.Records ?? []).map((r) => ({
        data: Buffer.from(r.Data!).toString(),
        sequenceNumber: r.SequenceNumber!,
        shardId: Shards![0]!.ShardId!,
      })),
    );
    if (!res.Records?.length) return out;
    iterator = res.NextShardIterator;
  }
}

it('puts 400 records through partial failures: each stored once, each put resolved only after it was stored', async () => {
  let failedRecords = 0;
  const send = kinesis.client.send.bind(kinesis.client) as (c: unknown) => Promise<unknown>;
  const client = new Proxy(kinesis.client, {
    get: (t, p) =>
      p === 'send'
        ? async (c: unknown) => {
            const res = await send(c);
            failedRecords += (res as PutRecordsCommandOutput).FailedRecordCount ?? 0;
            return res;
          }
        : Reflect.get(t, p),
  });
  const writer = new StreamWriter({ client, maxBacklog: 10_000 });
  const resolved: string[] = [];
  const records = Array.from({ length: 400 }, (_, i) => ({ pk: `ven-${i % 4}`, data: `r-${i}` }));
  await Promise.all(
    records.map(async (r) => {
      await writer.put('faulty', r.pk, Buffer.from(r.data));
      resolved.push(r.data);
    }),
  );
  expect(failedRecords).toBeGreaterThan(50); // the fault mode did fail records
  const stored = await readAll(kinesis.client, 'faulty');
  expect(stored.length).toBe(400);
  expect(new Set(stored).size).toBe(400);
  expect([...resolved].sort()).toEqual(records.map((r) => r.data).sort());
});

it("redrive puts a dead letter's records back through partial failures, each once", async () => {
  await ensureStreams(kinesis.client, ['redriven']);
  const writer = new StreamWriter({ client: kinesis.client, maxBacklog: 10_000 });
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => writer.put('redriven', `ven-${i % 4}`, Buffer.from(`d-${i}`))),
  );
  const first = await readRecords(kinesis.client, 'redriven');
  const letter = {
    stream: 'redriven',
    shardId: first[0]!.shardId,
    startSequenceNumber: first[0]!.sequenceNumber,
    endSequenceNumber: first.at(-1)!.sequenceNumber,
  };
  const result = await redrive(kinesis.client, [letter]);
  expect(result).toEqual({ redriven: 200, missing: [] });
  const all = await readAll(kinesis.client, 'redriven');
  const counts = new Map<string, number>();
  for (const d of all) counts.set(d, (counts.get(d) ?? 0) + 1);
  expect(all.length).toBe(400);
  expect([...counts.values()].every((n) => n === 2)).toBe(true);
});
