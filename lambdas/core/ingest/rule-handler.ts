// The one shape of every rule's processing: split the rule event, run one domain function, send refusals to the
// error sink. The rules' Lambdas read their Kinesis streams in batches (rule-batch.ts, stream-handler.ts).
import { businessMetrics } from '../common/metrics.js';
import type { Ports } from './ingest-ports.js';
import { ingestDerTelemetry } from './der.js';
import { ingestEdge } from './edge.js';
import { RejectedRecordsError } from '../contracts/errors.js';
import {
  ingestAck,
  ingestMeteringMessage,
  ingestPresence,
  ingestWinterRiverStatus,
  type IngestResult,
  type RuleMessage,
} from './ingest.js';
import { logger } from '../common/logger.js';
import type { IngestPorts } from './ingest-ports.js';
import { ruleJson, splitRuleEvent, type RuleEvent, type RuleHandler } from '../contracts/rules.js';

export type Ingest = (msg: RuleMessage, ports: IngestPorts) => Promise<IngestResult>;

/** The domain function behind each rule's Lambda (`rules[i].handler`). */
export const ingestByHandler: Record<RuleHandler, Ingest> = {
  metering: ingestMeteringMessage,
  ack: ingestAck,
  'winter-river': ingestWinterRiverStatus,
  presence: ingestPresence,
  der: ingestDerTelemetry,
  edge: ingestEdge,
};

const PAYLOAD_SAMPLE = 4096;

/** Runs one rule message; transient store failures throw so the invoker retries (every write is idempotent). */
export async function handleRuleEvent(event: RuleEvent, ingest: Ingest, ports: Ports): Promise<IngestResult> {
  const msg = splitRuleEvent(event);
  let result: IngestResult;
  try {
    result = await ingest(msg, ports);
  } catch (err) {
    if (!(err instanceof RejectedRecordsError)) throw err;
    result = { ok: false, reason: 'store-rejected', message: err.message };
  }
  if (!result.ok) await refuse(msg, result, ports);
  return result;
}

/** A refused message to the error sink with its reason and the first 4 KiB of its payload. */
export async function refuse(
  msg: Pick<RuleMessage, 'topic' | 'clientId' | 'payload'>,
  result: Extract<IngestResult, { ok: false }>,
  ports: Pick<Ports, 'errors'>,
): Promise<void> {
  logger.warn('message rejected', {
    reason: result.reason,
    detail: result.message,
    topic: msg.topic,
    clientId: msg.clientId,
  });
  businessMetrics.refusal(result.reason);
  await ports.errors.reject({
    reason: result.reason,
    message: result.message,
    topic: msg.topic,
    clientId: msg.clientId,
    payload: ruleJson(msg.payload).slice(0, PAYLOAD_SAMPLE),
  });
}
