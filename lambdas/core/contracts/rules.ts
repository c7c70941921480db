// The IoT rules, defined once: the CDK stack deploys them as AWS::IoT::TopicRule and the local
// rules engine runs the very same SQL against the very same handlers.
import { filters, METERING_RULE } from './topics.js';

export const IOT_SQL_VERSION = '2016-03-23';

/** Keys every rule adds beside the device's payload. */
export const RULE_META = {
  topic: 'iot_topic',
  clientId: 'iot_client_id',
  receivedAt: 'iot_received_at',
} as const;

const meta = `topic() AS ${RULE_META.topic}, clientid() AS ${RULE_META.clientId}, timestamp() AS ${RULE_META.receivedAt}`;

export type RuleHandler = 'metering' | 'ack' | 'winter-river' | 'presence' | 'der' | 'edge';

/**
 * The durable buffer between a rule and its handler: one Kinesis data stream per rule, read in batches by the
 * rule's Lambda (an event source mapping; locally bin/local/lambda/stream-consumer.ts with the same settings). One stream per
 * rule so that ACKs and presence never queue behind a metering backlog: each stream has its own shard iterator and
 * its own poller.
 */
export interface RuleStream {
  /** Provisioned shards, at least: each takes 1,000 records/s or 1 MB/s in (the metering stream's follow the fleet: shardsFor). */
  readonly shards: number;
  /** Records per handler invocation, at most. */
  readonly batchSize: number;
  /** How long the event source mapping may wait to fill a batch (0: invoke as soon as records arrive). */
  readonly maxBatchingWindowSec: number;
  /** Batches of one shard handled at once (ParallelizationFactor, 1–10); a device's records stay in order. */
  readonly parallelization: number;
  /** Retries of a failing batch (its failed part) before the records are reported to the dead-letter queue. */
  readonly retryAttempts: number;
}

export interface RuleDefinition {
  /** AWS rule name: letters, digits and underscores. */
  readonly name: string;
  readonly sql: string;
  /** The Lambda folder under `lambdas/` that reads the rule's stream. */
  readonly handler: RuleHandler;
  readonly description: string;
  /**
   * The Kinesis action's partition key, an IoT substitution template: the device, so one device's messages stay in
   * order on one shard. Presence events come from IoT itself, so their device is the payload's `clientId`.
   */
  readonly partitionKey: string;
  readonly stream: RuleStream;
}

/** By the device's MQTT client id. */
const BY_CLIENT = '${clientid()}';
/** Winter River and DER telemetry: fill batches for up to a second (fewer invocations, fewer store requests per message), 4 at once per shard. */
const TELEMETRY_STREAM: RuleStream = {
  shards: 1,
  batchSize: 500,
  maxBatchingWindowSec: 1,
  parallelization: 4,
  retryAttempts: 10,
};
/**
 * Metering: a lane waits up to 60 s, so a batch holds each VEN's minute (the VOLTTRON VEN: 12 messages) and the handler writes
 * one time-series item and one heartbeat per VEN per minute rather than per message; 10 lanes per shard keep a lane's
 * minute (~125 VENs at VENS_PER_METERING_SHARD) under Lambda's 6 MB payload. In AWS a stored sample may be a minute
 * old (the shadow and the live feed are not batched). The local stack polls without a window.
 */
const METERING_STREAM: RuleStream = {
  shards: 1,
  batchSize: 2_000,
  maxBatchingWindowSec: 60,
  parallelization: 10,
  retryAttempts: 10,
};
/** ACKs and presence: small, latency-bound, so no batching window. */
const CONTROL_STREAM: RuleStream = {
  shards: 1,
  batchSize: 100,
  maxBatchingWindowSec: 0,
  parallelization: 1,
  retryAttempts: 10,
};

/**
 * VENs one metering shard carries at 5 s. A VEN puts ~510 B/s into the stream either way (the VOLTTRON VEN: a 2.5 KB record
 * every 5 s; the economy profile: a 29 KB batch a minute, single samples during events), so bytes bind before records:
 * 1,250 VENs are ~64% of a shard's 1 MB/s, headroom for events and reconnect bursts. bench/cost-model.ts checks this
 * figure against the record sizes it measures.
 */
export const VENS_PER_METERING_SHARD = 1_250;
/** The fleet the stack is sized for unless told (`-c fleetSize=…`). */
export const DEFAULT_FLEET_SIZE = 1_000;

/** Shards of a rule's stream for a fleet of `fleetSize` VENs: the metering stream's follow the fleet, the others are fixed. */
export function shardsFor(rule: RuleDefinition, fleetSize: number): number {
  if (rule.handler !== 'metering') return rule.stream.shards;
  return Math.max(rule.stream.shards, Math.ceil(fleetSize / VENS_PER_METERING_SHARD));
}

export const rules: readonly RuleDefinition[] = [
  {
    name: METERING_RULE,
    sql: `SELECT *, ${meta} FROM '${filters.metering}'`,
    handler: 'metering',
    description: 'VEN metering into the time series and the VEN registry',
    partitionKey: BY_CLIENT,
    stream: METERING_STREAM,
  },
  {
    name: 'ack',
    sql: `SELECT *, ${meta} FROM '${filters.ack}'`,
    handler: 'ack',
    description: 'Command acknowledgements into event history and the command log',
    partitionKey: BY_CLIENT,
    stream: CONTROL_STREAM,
  },
  {
    name: 'winter_river',
    sql: `SELECT *, ${meta} FROM '${filters.winterRiver}' WHERE topic(3) = 'status'`,
    handler: 'winter-river',
    description: 'Winter River node status into the time series and the node registry',
    partitionKey: BY_CLIENT,
    stream: TELEMETRY_STREAM,
  },
  {
    name: 'der',
    sql: `SELECT *, ${meta} FROM '${filters.derTelemetry}'`,
    handler: 'der',
    description: "Site gateways' per-asset DER telemetry into the time series and the gateway registry",
    partitionKey: BY_CLIENT,
    stream: TELEMETRY_STREAM,
  },
  {
    name: 'edge',
    sql: `SELECT *, ${meta} FROM '${filters.edge}' WHERE topic(3) = 'telemetry' OR topic(3) = 'status' OR topic(3) = 'ack'`,
    handler: 'edge',
    description:
      "Data-centre edge nodes' telemetry, status and command ACKs into the time series, the registry and the command log",
    partitionKey: BY_CLIENT,
    stream: TELEMETRY_STREAM,
  },
  {
    name: 'presence',
    sql: `SELECT *, ${meta} FROM '$aws/events/presence/+/+'`,
    handler: 'presence',
    description: 'Connect and disconnect lifecycle events into the registry',
    partitionKey: '${clientId}',
    stream: CONTROL_STREAM,
  },
];

/** What a rule hands its Lambda: the device's JSON object plus the metadata keys above. */
export type RuleEvent = Record<string, unknown> & {
  [RULE_META.topic]: string;
  [RULE_META.clientId]: string;
  [RULE_META.receivedAt]: number;
};

/** Splits a rule event into the device payload and the broker's facts about it. */
export function splitRuleEvent(event: RuleEvent): {
  payload: Record<string, unknown>;
  topic: string;
  clientId: string;
  receivedAt: number;
} {
  const { iot_topic: topic, iot_client_id: clientId, iot_received_at: receivedAt, ...payload } = event;
  return { payload, topic, clientId, receivedAt };
}

/**
 * JSON of a rule event or a payload that keeps what JSON has no number for as text: `1e999` parses to Infinity, which
 * JSON.stringify writes as `null`, so a refusal would show (and a schema would judge) a value the device never sent.
 */
export const ruleJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
