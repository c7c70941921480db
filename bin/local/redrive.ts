// Redrive: puts dead-lettered records back into their stream once the fault that failed them is mended. A dead
// letter holds no message, only its place in the stream (`KinesisBatchInfo`, as a Kinesis event source mapping's
// on-failure destination gets it); the records themselves stay in the stream for its retention (24 h). They are read
// from there and put again at the stream's end (same data, same partition key), so the rule's handler sees them once
// more; the stores are idempotent, so one that had been stored after all is not doubled.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { appendFile, readFile } from 'node:fs/promises';
import type { KinesisBatchInfo } from '../../lambdas/core/ingest/ingest-ports.js';

export interface RedriveResult {
  /** Records put back into their stream. */
  readonly redriven: number;
  /** Dead letters whose records the stream no longer holds (past its retention). */
  readonly missing: KinesisBatchInfo[];
}

const PUT_ATTEMPTS = 10;
/** Half the capped exponential wait plus a random share of the other half. */
const retryWait = (attempt: number) => {
  const d = Math.min(2_000, 50 * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
};

const key = (l: KinesisBatchInfo) => `${l.stream}/${l.shardId}/${l.startSequenceNumber}/${l.endSequenceNumber}`;

/** The dead letters in the local error sink (`errors.jsonl.1`, then `errors.jsonl`), less those `doneFile` lists. */
export async function localDeadLetters(errorsFile: string, doneFile: string): Promise<KinesisBatchInfo[]> {
  const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const done = new Set(await lines(doneFile));
  const letters = new Map<string, KinesisBatchInfo>();
  for (const line of [...(await lines(`${errorsFile}.1`)), ...(await lines(errorsFile))]) {
    let info: KinesisBatchInfo | undefined;
    try {
      info = (JSON.parse(line) as { kinesis?: KinesisBatchInfo }).kinesis;
    } catch {
      continue; // a line cut short by a full disk
    }
    if (info && !done.has(key(info))) letters.set(key(info), info);
  }
  return [...letters.values()];
}

/** Records that `doneFile` has redriven these dead letters: the next redrive skips them. */
export async function markRedriven(doneFile: string, letters: readonly KinesisBatchInfo[]): Promise<void> {
  if (letters.length > 0) await appendFile(doneFile, letters.map((l) => `${key(l)}\n`).join(''), { mode: 0o600 });
}

/** Reads each dead letter's records from its stream and puts them back, in order (`dryRun`: only counts them). */
export async function redrive(
  client: KinesisClient,
  letters: readonly KinesisBatchInfo[],
  opts: { dryRun?: boolean } = {},
): Promise<RedriveResult> {
  let redriven = 0;
  const missing: KinesisBatchInfo[] = [];
  for (const letter of letters) {
    const records = await readRange(client, letter);
    if (records.length === 0) {
      missing.push(letter);
      continue;
    }
    if (opts.dryRun) {
      redriven += records.length;
      continue;
    }
    for (let i = 0; i < records.length; i += 500) {
      const batch = records.slice(i, i + 500);
      // a busy shard fails some records of a PutRecords: only those are put again
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > 1) await new Promise((r) => setTimeout(r, retryWait(attempt - 1)));
        const res = await client.send(
          new PutRecordsCommand({
            StreamName: letter.stream,
            Records: pending.map((r) => ({ Data: r.Data!, PartitionKey: r.PartitionKey! })),
          }),
        );
        const failed = pending.filter((_, j) => !res.Records?.[j]?.SequenceNumber || res.Records[j]!.ErrorCode);
        redriven += pending.length - failed.length;
        pending = failed;
        if (pending.length > 0 && attempt === PUT_ATTEMPTS) {
          throw new Error(
            `stream ${letter.stream}: ${pending.length} record(s) not put back after ${attempt} attempts: run redrive again`,
          );
        }
      }
    }
  }
  return { redriven, missing };
}

/** The records from `startSequenceNumber` to `endSequenceNumber` (both included) of one shard. */
async function readRange(client: KinesisClient, letter: KinesisBatchInfo): Promise<_Record[]> {
  const end = BigInt(letter.endSequenceNumber);
  let iterator: string | undefined;
  try {
    iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: letter.stream,
          ShardId: letter.shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: letter.startSequenceNumber,
        }),
      )
    ).ShardIterator;
  } catch (err) {
    // the stream or shard is gone, or the sequence number is not (or no longer) one of the stream's
    if (['ResourceNotFoundException', 'InvalidArgumentException'].includes((err as Error).name)) return [];
    throw err;
  }
  const out: _Record[] = [];
  while (iterator) {
    const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const r of res.Records ?? []) {
      if (BigInt(r.SequenceNumber!) > end) return out;
      out.push(r);
    }
    if (!res.Records?.length) return out;
    iterator = res.NextShardIterator;
  }
  return out;
}

/** A dead letter in the dead-letter queue (AWS): the event source mapping's on-failure record, and its receipt. */
export interface QueuedDeadLetter {
  readonly info: KinesisBatchInfo;
  readonly receiptHandle: string;
}

/**
 * The stream dead letters in an SQS dead-letter queue: each message whose body carries `KinesisBatchInfo` (what a
 * Kinesis event source mapping's on-failure destination sends). The queue's other messages (refusals, failed rule
 * actions) are left where they are.
 */
export async function queuedDeadLetters(sqs: SQSClient, queueUrl: string): Promise<QueuedDeadLetter[]> {
  const out: QueuedDeadLetter[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
      }),
    );
    if (Messages.length === 0) return out;
    for (const m of Messages) {
      let batch:
        { shardId?: string; startSequenceNumber?: string; endSequenceNumber?: string; streamArn?: string } | undefined;
      try {
        batch = (JSON.parse(m.Body ?? '') as { KinesisBatchInfo?: typeof batch }).KinesisBatchInfo;
      } catch {
        batch = undefined;
      }
      if (!batch?.streamArn || !batch.shardId || !batch.startSequenceNumber || !batch.endSequenceNumber) continue;
      out.push({
        receiptHandle: m.ReceiptHandle!,
        info: {
          stream: batch.streamArn.slice(batch.streamArn.indexOf(':stream/') + ':stream/'.length),
          shardId: batch.shardId,
          startSequenceNumber: batch.startSequenceNumber,
          endSequenceNumber: batch.endSequenceNumber,
        },
      });
    }
  }
}

/**
 * The AWS redrive: the queue's stream dead letters back into their streams, each deleted from the queue once done.
 * `dryRun`: each counted and left in the queue, visible again at once.
 */
export async function redriveQueue(
  sqs: SQSClient,
  kinesis: KinesisClient,
  queueUrl: string,
  opts: { dryRun?: boolean } = {},
): Promise<RedriveResult & { deadLetters: number; wouldRedrive?: KinesisBatchInfo[] }> {
  const queued = await queuedDeadLetters(sqs, queueUrl);
  let redriven = 0;
  const missing: KinesisBatchInfo[] = [];
  const wouldRedrive: KinesisBatchInfo[] = [];
  for (const letter of queued) {
    const result = await redrive(kinesis, [letter.info], opts);
    redriven += result.redriven;
    missing.push(...result.missing);
    if (result.missing.length === 0) wouldRedrive.push(letter.info);
    if (opts.dryRun)
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: letter.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    else await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: letter.receiptHandle }));
  }
  return { deadLetters: queued.length, redriven, missing, ...(opts.dryRun && { wouldRedrive }) };
}
