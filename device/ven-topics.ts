// A VEN's topics: the shared builders by default; the VOLTTRON VEN lets each be overridden (within the device policy).
import { topics } from '../lambdas/core/contracts/topics.js';

export interface VenTopics {
  readonly metering: string;
  readonly telemetry: string;
  readonly loads: string;
  readonly command: string;
  readonly ack: string;
}

/** `basicIngest`: metering goes to `$aws/rules/metering/volttron/metering` (the rule only, no messaging charge). */
export const venTopics = (venId: string, { basicIngest = false } = {}): VenTopics => ({
  metering: basicIngest ? topics.meteringBasicIngest : topics.metering,
  telemetry: topics.telemetry(venId),
  loads: topics.loads(venId),
  command: topics.command(venId),
  ack: topics.ack(venId),
});
