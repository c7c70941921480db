// `npm run redrive` against AWS: the dead-letter queue holds where the failed records are (the event source
// mapping's KinesisBatchInfo); their records are read from the stream and put back. SQS has no local form here: its
// exact requests are asserted; the stream is kinesalite with the real Kinesis client.
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { SQSClient, type ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureStreams, startKinesis, type LocalKinesis } from '../../bin/local/aws/kinesis.js';
import { redrive, redriveQueue } from '../../bin/local/redrive.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/vpp-dlq';
let dir: string;
let kinesis: LocalKinesis;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpp-redrive-'));
  kinesis = await startKinesis(join(dir, 'kinesis'));
  await ensureStreams(kinesis.client, ['vpp-metering']);
});
afterAll(async () => {
  await kinesis?.close();
  await rm(dir, { recursive: true, force: true });
});

const put = async (values: string[]) =>
  (
    await kinesis.client.send(
      new PutRecordsCommand({
        StreamName: 'vpp-metering',
        Records: values.map((v) => ({ Data: Buffer.from(v), PartitionKey: `ven-${v}` })),
      }),
    )
  ).Records!.map((r) => r.SequenceNumber!);

async function streamContent(): Promise<string[]> {
  const { ShardIterator } = await kinesis.client.send(
    new GetShardIteratorCommand({
      StreamName: 'vpp-metering',
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await kinesis.client.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
  return Records.map((r) => `${r.PartitionKey}:${Buffer.from(r.Data!).toString()}`);
}

describe('redrive from the dead-letter queue (AWS)', () => {
  it('takes only the stream dead letters from the queue and puts their records back in order', async () => {
    const [, b, , d] = await put(['a', 'b', 'c', 'd', 'e']);
    const sqs = new SQSClient({ region: 'us-east-1' });
    const sent: unknown[] = [];
    const pages = [
      [
        {
          ReceiptHandle: 'r1',
          Body: JSON.stringify({
            requestContext: { condition: 'RetryAttemptsExhausted' },
            KinesisBatchInfo: {
              shardId: 'shardId-000000000000',
              startSequenceNumber: b,
              endSequenceNumber: d,
              batchSize: 3,
              streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/vpp-metering',
            },
          }),
        },
        { ReceiptHandle: 'r2', Body: JSON.stringify({ reason: 'schema', message: 'usedPowerKw: expected number' }) },
        { ReceiptHandle: 'r3', Body: 'not json' },
      ],
      [],
    ];
    vi.spyOn(sqs, 'send').mockImplementation((async (cmd: ReceiveMessageCommand) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      return { Messages: pages.shift() };
    }) as never);

    const result = await redriveQueue(sqs, kinesis.client, QUEUE);
    const receive = { QueueUrl: QUEUE, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 };
    // the stream dead letter deleted once put back; the refusal and the unreadable message left in the queue
    expect(sent).toEqual([
      { name: 'ReceiveMessageCommand', input: receive },
      { name: 'ReceiveMessageCommand', input: receive },
      { name: 'DeleteMessageCommand', input: { QueueUrl: QUEUE, ReceiptHandle: 'r1' } },
    ]);
    expect(result).toEqual({ deadLetters: 1, redriven: 3, missing: [] });
    expect(await streamContent()).toEqual([
      'ven-a:a',
      'ven-b:b',
      'ven-c:c',
      'ven-d:d',
      'ven-e:e',
      'ven-b:b',
      'ven-c:c',
      'ven-d:d',
    ]);
  });

  it('reports a dead letter whose records the stream no longer holds as missing, and puts nothing', async () => {
    const [last] = await put(['z']);
    const before = await streamContent();
    const at = { shardId: 'shardId-000000000000', startSequenceNumber: last!, endSequenceNumber: last! };
    const goneStream = { ...at, stream: 'vpp-deleted' };
    const notOfTheStream = { ...at, stream: 'vpp-metering', startSequenceNumber: '1', endSequenceNumber: '1' };
    expect(await redrive(kinesis.client, [goneStream, notOfTheStream])).toEqual({
      redriven: 0,
      missing: [goneStream, notOfTheStream],
    });
    expect(await streamContent()).toEqual(before);
  });
});

describe('redrive --dry-run from the dead-letter queue (AWS)', () => {
  it('counts what it would put back, puts nothing and deletes nothing, and makes the messages visible again at once', async () => {
    const [x, y] = await put(['x', 'y']);
    const before = await streamContent();
    const sqs = new SQSClient({ region: 'us-east-1' });
    const sent: { name: string; input: unknown }[] = [];
    const streamArn = 'arn:aws:kinesis:us-east-1:123456789012:stream/vpp-metering';
    const pages = [
      [
        {
          ReceiptHandle: 'r1',
          Body: JSON.stringify({
            KinesisBatchInfo: {
              shardId: 'shardId-000000000000',
              startSequenceNumber: x,
              endSequenceNumber: y,
              streamArn,
            },
          }),
        },
      ],
      [],
    ];
    vi.spyOn(sqs, 'send').mockImplementation((async (cmd: ReceiveMessageCommand) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      return { Messages: pages.shift() };
    }) as never);

    const result = await redriveQueue(sqs, kinesis.client, QUEUE, { dryRun: true });
    const letter = {
      stream: 'vpp-metering',
      shardId: 'shardId-000000000000',
      startSequenceNumber: x,
      endSequenceNumber: y,
    };
    expect(result).toEqual({ deadLetters: 1, redriven: 2, missing: [], wouldRedrive: [letter] });
    expect(sent.map((s) => s.name)).toEqual([
      'ReceiveMessageCommand',
      'ReceiveMessageCommand',
      'ChangeMessageVisibilityCommand',
    ]);
    expect(sent[2]!.input).toEqual({ QueueUrl: QUEUE, ReceiptHandle: 'r1', VisibilityTimeout: 0 });
    expect(await streamContent()).toEqual(before);
  });
});
