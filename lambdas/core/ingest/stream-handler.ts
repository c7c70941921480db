// A rule's Lambda: reads a batch of its Kinesis stream (event source mapping, or bin/local/lambda/stream-consumer.ts
// locally), decodes each record back into the rule event IoT put there, runs the batch through the domain and
// reports the records that failed (partial batch response), so that only they and what follows them are retried.
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { Ports } from './ingest-ports.js';
import { logger } from '../common/logger.js';
import { handleRuleBatch, type ItemOutcome } from './rule-batch.js';
import { RULE_META, type RuleEvent, type RuleHandler } from '../contracts/rules.js';

/** The rule event a Kinesis record carries (the rule's SQL result as JSON), or undefined when it is not one. */
export function decodeRecord(record: KinesisStreamRecord): RuleEvent | undefined {
  try {
    const event = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as unknown;
    if (
      event &&
      typeof event === 'object' &&
      !Array.isArray(event) &&
      typeof (event as RuleEvent)[RULE_META.topic] === 'string'
    ) {
      return event as RuleEvent;
    }
  } catch {
    // reported below
  }
  return undefined;
}

/** Runs the records of one invocation as one batch; each record's outcome resolves once the batch has run. */
export async function processRecords(
  handler: RuleHandler,
  records: readonly KinesisStreamRecord[],
  ports: Ports,
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = records.map(() => ({ ok: true }));
  const events: RuleEvent[] = [];
  const positions: number[] = [];
  for (const [i, record] of records.entries()) {
    const event = decodeRecord(record);
    if (event) {
      events.push(event);
      positions.push(i);
      continue;
    }
    // IoT only ever puts rule events here: anything else is refused, never retried
    const payload = Buffer.from(record.kinesis.data, 'base64').subarray(0, 4096).toString('utf8');
    await ports.errors
      .reject({
        reason: 'malformed-json',
        message: `stream record ${record.kinesis.sequenceNumber} is not a rule event`,
        clientId: record.kinesis.partitionKey,
        payload,
      })
      .catch((err: unknown) => (outcomes[i] = { ok: false, error: err as Error }));
  }
  const results = await handleRuleBatch(handler, events, ports);
  results.forEach((outcome, j) => (outcomes[positions[j]!] = outcome));
  return outcomes;
}

/**
 * Powertools' BatchProcessor calls the record handler for every record at once (processInParallel, the default):
 * each call joins the batch, the batch runs once all have joined, and each call settles with its record's outcome.
 */
function joinBatch(handler: RuleHandler, records: readonly KinesisStreamRecord[], ports: Ports) {
  let run: Promise<ItemOutcome[]> | undefined;
  const joined = new Map<KinesisStreamRecord, number>(records.map((r, i) => [r, i]));
  return async (record: KinesisStreamRecord): Promise<void> => {
    run ??= Promise.resolve().then(() => processRecords(handler, records, ports));
    const outcome = (await run)[joined.get(record)!]!;
    if (!outcome.ok) throw outcome.error;
  };
}

export type StreamHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

export function streamHandler(handler: RuleHandler, ports: () => Ports): StreamHandler {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  return middy(async (event: KinesisStreamEvent, context: Context) => {
    const record = joinBatch(handler, event.Records, ports());
    return processPartialResponse(event, record, processor, { context }) as Promise<KinesisStreamBatchResponse>;
  }).use(injectLambdaContext(logger)) as unknown as StreamHandler;
}
