// A VEN's topics: the shared builders by default; seed 001 lets each be overridden (within the device policy).
import { topics } from '../lambdas/core/topics.js';

export interface VenTopics {
  readonly metering: string;
  readonly telemetry: string;
  readonly loads: string;
  readonly command: string;
  readonly ack: string;
}

export const venTopics = (venId: string): VenTopics => ({
  metering: topics.metering,
  telemetry: topics.telemetry(venId),
  loads: topics.loads(venId),
  command: topics.command(venId),
  ack: topics.ack(venId),
});
