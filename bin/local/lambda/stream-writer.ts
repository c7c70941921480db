// The local IoT Kinesis action: puts rule events into their streams, many to a PutRecords call, and resolves each
// put only once kinesalite has answered for its record (it is then on disk). Bounded: a stream holds at most
// `maxBacklog` records that are queued here or put but not yet checkpointed by its consumer; a put beyond that waits
// for the consumer, and with it the broker's PUBACK and its reading from that publisher (TCP backpressure).
// A PutRecords may fail some of its records (FailedRecordCount, a busy shard): only those are put again, before any
// later record, with a jittered capped backoff; a record's put resolves only once Kinesis answered it with a sequence
// number. Kinesis does not keep order across such a retry (a later record of the same partition key may already be
// stored): the consumers are idempotent per sample and do not rely on it.
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

const MAX_RECORDS = 500; // PutRecords' limit
const MAX_BYTES = 4 * 1024 * 1024; // under PutRecords' 5 MiB
/** Calls a PutRecords that throws is tried, at most. */
const ATTEMPTS = 5;
/** Calls a record that Kinesis keeps failing (throttled) is tried, at most: at a 10 % failure rate, 1 in 10^10 runs out. */
const RECORD_ATTEMPTS = 10;
const MAX_WAIT_MS = 2_000;
/** Half the capped exponential wait plus a random share of the other half ("equal jitter"). */
const retryWait = (attempt: number) => {
  const d = Math.min(MAX_WAIT_MS, 50 * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
};

interface Entry {
  readonly partitionKey: string;
  readonly data: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface StreamState {
  queued: Entry[];
  flushing: boolean;
  /** Sequence numbers put and not yet checkpointed, oldest first (one shard per local stream). */
  readonly outstanding: bigint[];
  /** Puts waiting for room, oldest first. */
  readonly waiting: (() => void)[];
  /** Room handed to waiting puts that have not queued their record yet. */
  reserved: number;
}

export interface StreamWriterOptions {
  readonly client: KinesisClient;
  /** Records per stream queued or unconsumed, at most. */
  readonly maxBacklog: number;
  /** Called once records are in `stream`, so its consumer polls at once. */
  readonly onWritten?: (stream: string) => void;
}

export class StreamWriter {
  private readonly streams = new Map<string, StreamState>();

  constructor(private readonly opts: StreamWriterOptions) {}

  /** Resolves once the record is in the stream; waits first while the stream's backlog is full. */
  async put(stream: string, partitionKey: string, data: Buffer): Promise<void> {
    const state = this.state(stream);
    if (this.backlogOf(state) >= this.opts.maxBacklog || state.waiting.length > 0) {
      await new Promise<void>((resolve) => state.waiting.push(resolve));
      state.reserved--;
    }
    return new Promise<void>((resolve, reject) => {
      state.queued.push({ partitionKey, data, resolve, reject });
      void this.flush(stream, state);
    });
  }

  /** The stream's consumer has checkpointed everything up to `sequenceNumber`: that room is free again. */
  checkpointed(stream: string, sequenceNumber: string): void {
    const state = this.state(stream);
    const upTo = BigInt(sequenceNumber);
    let done = 0;
    while (done < state.outstanding.length && state.outstanding[done]! <= upTo) done++;
    if (done > 0) state.outstanding.splice(0, done);
    this.admit(state);
  }

  /** Records queued or unconsumed, per stream. */
  backlog(): Record<string, number> {
    return Object.fromEntries([...this.streams].map(([name, s]) => [name, this.backlogOf(s)]));
  }

  /** Puts waiting for room, in all streams. */
  waiting(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.waiting.length;
    return n;
  }

  private backlogOf(s: StreamState): number {
    return s.queued.length + s.outstanding.length + s.reserved;
  }

  private admit(state: StreamState): void {
    while (state.waiting.length > 0 && this.backlogOf(state) < this.opts.maxBacklog) {
      state.reserved++;
      state.waiting.shift()!();
    }
  }

  private state(stream: string): StreamState {
    let s = this.streams.get(stream);
    if (!s) this.streams.set(stream, (s = { queued: [], flushing: false, outstanding: [], waiting: [], reserved: 0 }));
    return s;
  }

  /** One PutRecords at a time per stream, so the stream keeps the order of the puts. */
  private async flush(stream: string, state: StreamState): Promise<void> {
    if (state.flushing) return;
    state.flushing = true;
    try {
      while (state.queued.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < state.queued.length && n < MAX_RECORDS && bytes + state.queued[n]!.data.length <= MAX_BYTES)
          bytes += state.queued[n++]!.data.length;
        await this.putBatch(stream, state, state.queued.slice(0, Math.max(n, 1)));
      }
    } finally {
      state.flushing = false;
    }
  }

  private async putBatch(stream: string, state: StreamState, batch: Entry[]): Promise<void> {
    let pending = batch;
    let throws = 0;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failed: Entry[];
      let lastError: Error | undefined;
      try {
        const res = await this.opts.client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: pending.map((e) => ({ PartitionKey: e.partitionKey, Data: e.data })),
          }),
        );
        failed = [];
        res.Records?.forEach((r, i) => {
          if (r.SequenceNumber && !r.ErrorCode) state.outstanding.push(BigInt(r.SequenceNumber));
          else {
            failed.push(pending[i]!);
            lastError = new Error(`kinesis: ${r.ErrorCode}: ${r.ErrorMessage}`);
          }
        });
        // an answer without a line per record (never from Kinesis): none of them is known stored
        if ((res.Records?.length ?? 0) < pending.length) failed.push(...pending.slice(res.Records?.length ?? 0));
      } catch (err) {
        if (++throws >= ATTEMPTS) {
          state.queued.splice(0, batch.length);
          for (const e of pending) e.reject(err as Error);
          this.admit(state);
          return;
        }
        failed = pending;
      }
      const stored = pending.filter((e) => !failed.includes(e));
      if (stored.length > 0) this.opts.onWritten?.(stream);
      for (const e of stored) e.resolve();
      pending = failed;
      if (pending.length > 0 && attempt >= RECORD_ATTEMPTS) {
        state.queued.splice(0, batch.length);
        for (const e of pending)
          e.reject(lastError ?? new Error(`kinesis: ${pending.length} record(s) not stored after ${attempt} attempts`));
        this.admit(state);
        return;
      }
      if (pending.length > 0) await new Promise((r) => setTimeout(r, retryWait(attempt)));
    }
    state.queued.splice(0, batch.length);
  }
}
