// How a VEN reports: the economy profile (the default) or the VOLTTRON VEN exactly. Each setting can still be given on its
// own (BASIC_INGEST, METERING_BATCH, TELEMETRY_TOPIC, SHADOW_INTERVAL_SEC), and a setting given wins over the profile.

export type AgentProfile = 'economy' | 'volttron';
export const AGENT_PROFILES: readonly AgentProfile[] = ['economy', 'volttron'];

export interface VenReporting {
  /** Metering to `$aws/rules/metering/volttron/metering`: the metering rule alone, no messaging charge. */
  readonly basicIngest: boolean;
  /** Samples per metering message (see VenMetering for when a batch goes out early). */
  readonly meteringBatch: number;
  /** Each sample again on `ven/telemetry/{venId}`. */
  readonly telemetryCopy: boolean;
  /** The shadow's period (volttron) or, reported on change, its heartbeat (economy). */
  readonly shadowMs: number;
  /** Report the shadow when what it shows changes (device/shadow-change.ts) instead of on a timer. */
  readonly shadowOnChange: boolean;
}

/**
 * economy: at the 5 s sample rate one metering message a minute (12 samples, about 29 KB: six 5 KB IoT billing
 * units, under the rule's 128 KiB limit), through Basic Ingest, without the telemetry copy; the shadow on change
 * and every 5 minutes. bench/cost-model.ts prices both.
 */
export const PROFILES: Record<AgentProfile, VenReporting> = {
  economy: { basicIngest: true, meteringBatch: 12, telemetryCopy: false, shadowMs: 300_000, shadowOnChange: true },
  volttron: { basicIngest: false, meteringBatch: 1, telemetryCopy: true, shadowMs: 30_000, shadowOnChange: false },
};
