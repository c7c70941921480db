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

export type RuleHandler = 'metering' | 'ack' | 'winter-river' | 'presence';

export interface RuleDefinition {
  /** AWS rule name: letters, digits and underscores. */
  readonly name: string;
  readonly sql: string;
  /** The Lambda folder under `lambdas/` that the rule invokes. */
  readonly handler: RuleHandler;
  readonly description: string;
}

export const rules: readonly RuleDefinition[] = [
  {
    name: METERING_RULE,
    sql: `SELECT *, ${meta} FROM '${filters.metering}'`,
    handler: 'metering',
    description: 'VEN metering into the time series and the VEN registry',
  },
  {
    name: 'ack',
    sql: `SELECT *, ${meta} FROM '${filters.ack}'`,
    handler: 'ack',
    description: 'Command acknowledgements into event history and the command log',
  },
  {
    name: 'winter_river',
    sql: `SELECT *, ${meta} FROM '${filters.winterRiver}' WHERE topic(3) = 'status'`,
    handler: 'winter-river',
    description: 'Winter River node status into the time series and the node registry',
  },
  {
    name: 'presence',
    sql: `SELECT *, ${meta} FROM '$aws/events/presence/+/+'`,
    handler: 'presence',
    description: 'Connect and disconnect lifecycle events into the registry',
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
