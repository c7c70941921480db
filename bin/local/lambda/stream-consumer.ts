// The local event source mapping: reads a Kinesis stream shard by shard, hands each batch to the rule's handler
// (the very Lambda handler, with the event Lambda would send), and checkpoints after the handler has answered. A
// partial batch response checkpoints before the first failed record and retries from it, with back-off; after
// `retryAttempts` the records left go to the error sink (the mapping's on-failure destination), each with its place
// in the stream, from where `npm run redrive` puts it back once the fault is mended. Checkpoints are kept
// on disk, so a restart resumes where the last finished batch ended: at most that one batch is delivered again.
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ErrorSink } from '../../../lambdas/core/ingest/ingest-ports.js';

/** Checkpoints of every local stream and shard in one JSON file, replaced atomically (write, then rename). */
export class CheckpointFile {
  private data: Record<string, string> = {};
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<CheckpointFile> {
    const store = new CheckpointFile(file);
    store.data = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, string>;
    return store;
  }

  get(stream: string, shardId: string): string | undefined {
    return this.data[`${stream}/${shardId}`];
  }

  /** Resolves once the checkpoint is on disk. */
  set(stream: string, shardId: string, sequenceNumber: string): Promise<void> {
    this.data[`${stream}/${shardId}`] = sequenceNumber;
    const text = JSON.stringify(this.data);
    this.writing = this.writing.then(async () => {
      await writeFile(`${this.file}.tmp`, text);
      await rename(`${this.file}.tmp`, this.file);
    });
    return this.writing;
  }
}

export interface StreamConsumerOptions {
  readonly client: KinesisClient;
  readonly stream: string;
  readonly region: string;
  readonly batchSize: number;
  /**
   * Batches of one shard handled at once (the mapping's ParallelizationFactor): the records are split by partition
   * key, so each device's stay in order. Default 1.
   */
  readonly parallelization?: number;
  readonly retryAttempts: number;
  readonly handler: (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse | void>;
  readonly context: () => Context;
  readonly checkpoints: CheckpointFile;
  /** Told the checkpoint once it is on disk (the writer frees that room). */
  readonly onCheckpoint?: (sequenceNumber: string) => void;
  readonly errors: ErrorSink;
  readonly log?: (line: string) => void;
  /** Poll interval while the stream is empty and nobody wakes the consumer. */
  readonly idleMs?: number;
  /** First retry delay; doubles up to a second. */
  readonly retryDelayMs?: number;
}

export class StreamConsumer {
  private stopped = false;
  private busy = 0;
  private caughtUp = new Map<string, boolean>();
  private wakers = new Set<() => void>();
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: StreamConsumerOptions) {}

  async start(): Promise<void> {
    const { Shards } = await this.opts.client.send(new ListShardsCommand({ StreamName: this.opts.stream }));
    for (const shard of Shards ?? []) {
      this.caughtUp.set(shard.ShardId!, false);
      this.loops.push(this.run(shard.ShardId!));
    }
  }

  /** Records arrived: poll now. */
  wake(): void {
    for (const id of this.caughtUp.keys()) this.caughtUp.set(id, false);
    for (const wake of this.wakers) wake();
  }

  /** Every shard read to its end and no batch under way. */
  get idle(): boolean {
    return this.busy === 0 && [...this.caughtUp.values()].every(Boolean);
  }

  /** Stops polling after the batch under way (its checkpoint included). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await Promise.all(this.loops);
  }

  private async run(shardId: string): Promise<void> {
    const { client, stream } = this.opts;
    let iterator: string | undefined;
    while (!this.stopped) {
      try {
        if (!iterator) {
          const after = this.opts.checkpoints.get(stream, shardId);
          iterator = (
            await client.send(
              new GetShardIteratorCommand({
                StreamName: stream,
                ShardId: shardId,
                ...(after
                  ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
                  : { ShardIteratorType: 'TRIM_HORIZON' }),
              }),
            )
          ).ShardIterator;
        }
        this.caughtUp.set(shardId, false);
        const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.opts.batchSize }));
        iterator = res.NextShardIterator;
        const records = res.Records ?? [];
        if (records.length === 0) {
          this.caughtUp.set(shardId, true);
          await this.pause(this.opts.idleMs ?? 250);
          continue;
        }
        this.busy++;
        try {
          await this.deliver(shardId, records);
        } finally {
          this.busy--;
        }
      } catch (err) {
        // kinesalite closing, an expired iterator: start again from the checkpoint
        if (this.stopped) return;
        this.opts.log?.(`stream ${stream}: ${(err as Error).message}`);
        iterator = undefined;
        await this.pause(this.opts.retryDelayMs ?? 100);
      }
    }
  }

  /** Runs what one GetRecords returned to its end: handled, or given up after the retries. */
  private async deliver(shardId: string, records: _Record[]): Promise<void> {
    const batch = records.map((r) => this.toLambdaRecord(shardId, r));
    const factor = Math.min(this.opts.parallelization ?? 1, batch.length);
    if (factor <= 1) return this.runBatch(shardId, batch, true);
    const parts: KinesisStreamRecord[][] = Array.from({ length: factor }, () => []);
    for (const r of batch) parts[hash(r.kinesis.partitionKey) % factor]!.push(r);
    // side by side, a part's failure cannot move the shard's checkpoint: it moves once every part is done
    await Promise.all(parts.filter((p) => p.length > 0).map((p) => this.runBatch(shardId, p, false)));
    if (!this.stopped) await this.checkpoint(shardId, batch.at(-1)!);
  }

  /** One handler batch with its retries; `checkpointing`: checkpoint before the first failed record as it goes. */
  private async runBatch(shardId: string, records: KinesisStreamRecord[], checkpointing: boolean): Promise<void> {
    let batch = records;
    for (let attempt = 0; ; attempt++) {
      let firstFailed: number;
      let error: string | undefined;
      try {
        const res = await this.opts.handler({ Records: batch }, this.opts.context());
        const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        firstFailed = failed.size === 0 ? -1 : batch.findIndex((r) => failed.has(r.kinesis.sequenceNumber));
        // an identifier that names no record of the batch fails all of it, as in Lambda
        if (failed.size > 0 && firstFailed < 0) firstFailed = 0;
        if (firstFailed >= 0) error = 'the handler reported it failed';
      } catch (err) {
        firstFailed = 0;
        error = (err as Error).message;
      }
      if (firstFailed < 0) return checkpointing ? this.checkpoint(shardId, batch.at(-1)!) : undefined;
      if (firstFailed > 0 && checkpointing) await this.checkpoint(shardId, batch[firstFailed - 1]!);
      batch = batch.slice(firstFailed);
      if (this.stopped) return; // not checkpointed: the next start delivers them again
      if (attempt >= this.opts.retryAttempts) {
        for (const r of batch) {
          await this.opts.errors.reject({
            reason: 'handler-failed',
            message: `stream ${this.opts.stream}: record ${r.kinesis.sequenceNumber} failed ${attempt + 1} times: ${error}`,
            clientId: r.kinesis.partitionKey,
            payload: Buffer.from(r.kinesis.data, 'base64').subarray(0, 4096).toString('utf8'),
            kinesis: {
              stream: this.opts.stream,
              shardId,
              startSequenceNumber: r.kinesis.sequenceNumber,
              endSequenceNumber: r.kinesis.sequenceNumber,
            },
          });
        }
        return checkpointing ? this.checkpoint(shardId, batch.at(-1)!) : undefined;
      }
      await this.pause(Math.min(1000, (this.opts.retryDelayMs ?? 100) * 2 ** attempt), false);
    }
  }

  private async checkpoint(shardId: string, record: KinesisStreamRecord): Promise<void> {
    await this.opts.checkpoints.set(this.opts.stream, shardId, record.kinesis.sequenceNumber);
    this.opts.onCheckpoint?.(record.kinesis.sequenceNumber);
  }

  private pause(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.wakers.add(done);
    });
  }

  private toLambdaRecord(shardId: string, r: _Record): KinesisStreamRecord {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey!,
        sequenceNumber: r.SequenceNumber!,
        data: Buffer.from(r.Data!).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::000000000000:role/vpp-local-${this.opts.stream}`,
      awsRegion: this.opts.region,
      eventSourceARN: `arn:aws:kinesis:${this.opts.region}:000000000000:stream/${this.opts.stream}`,
    };
  }
}

/** A partition key's bucket: FNV-1a, stable across runs. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
