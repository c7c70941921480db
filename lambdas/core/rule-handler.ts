// The one shape of every rule Lambda: split the rule event, run one domain function, send refusals to the error sink.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Ports } from './adapters.js';
import { RejectedRecordsError } from './errors.js';
import {
  ingestAck,
  ingestMeteringMessage,
  ingestPresence,
  ingestWinterRiverStatus,
  type IngestResult,
  type RuleMessage,
} from './ingest.js';
import { logger } from './logger.js';
import type { IngestPorts } from './ports.js';
import { splitRuleEvent, type RuleEvent, type RuleHandler } from './rules.js';

export type Ingest = (msg: RuleMessage, ports: IngestPorts) => Promise<IngestResult>;

/** The domain function behind each rule's Lambda (`rules[i].handler`). */
export const ingestByHandler: Record<RuleHandler, Ingest> = {
  metering: ingestMeteringMessage,
  ack: ingestAck,
  'winter-river': ingestWinterRiverStatus,
  presence: ingestPresence,
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
  if (!result.ok) {
    logger.warn('message rejected', { reason: result.reason, detail: result.message, topic: msg.topic, clientId: msg.clientId });
    await ports.errors.reject({
      reason: result.reason,
      message: result.message,
      topic: msg.topic,
      clientId: msg.clientId,
      payload: JSON.stringify(msg.payload).slice(0, PAYLOAD_SAMPLE),
    });
  }
  return result;
}

export function ruleHandler(ingest: Ingest, ports: () => Ports) {
  return middy((event: RuleEvent) => handleRuleEvent(event, ingest, ports())).use(injectLambdaContext(logger));
}
