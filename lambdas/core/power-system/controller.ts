// The central controller in the ingest path (Winter River): fold a batch of node statuses into the stored system state,
// run the power engine, store the state and recent events, and publish the resulting commands to the nodes.
// Time advances with the statuses: each evaluation runs at the newest receive time seen, so with every node
// reporting every few seconds a generator start delay or a UPS battery runs out within one status interval.
import { topics } from '../contracts/topics.js';
import type { CommandPublisher } from '../commands/command-store.js';
import { evaluate, type NodeReport, type SystemState } from './engine.js';
import type { ControllerCommand, PowerEvent } from './events.js';
import type { Topology } from '../contracts/topology.js';

/** A node's newest status as the controller keeps it; `at`: when it was received (epoch ms). */
export interface StoredReport extends NodeReport {
  readonly at: number;
}

export interface PowerSystemRecord {
  /** Bumped by every write: the condition that keeps concurrent batches from overwriting each other. */
  readonly version: number;
  readonly reports: Readonly<Record<string, StoredReport>>;
  readonly state: SystemState;
  /** Newest first, at most RECENT_EVENTS. */
  readonly events: readonly PowerEvent[];
  /** Commands computed but not yet known to be published: sent again by the next evaluation. */
  readonly unsent: readonly ControllerCommand[];
}

export interface PowerSystemStore {
  get(): Promise<PowerSystemRecord | undefined>;
  /** Writes `next` if the stored version is still `expected` (undefined: nothing stored yet); false if it moved on. */
  put(next: PowerSystemRecord, expected: number | undefined): Promise<boolean>;
}

export interface PowerSystem {
  readonly topology: Topology;
  readonly store: PowerSystemStore;
  readonly publisher: CommandPublisher;
}

export const RECENT_EVENTS = 100;
const ATTEMPTS = 8;

/** What one batch changed: the events it raised and the commands it published. */
export interface ControllerOutcome {
  readonly events: readonly PowerEvent[];
  readonly commands: readonly ControllerCommand[];
}

/**
 * Applies the statuses (any order; per node only one newer than the stored one counts, so a redelivered batch
 * changes nothing) and publishes the commands. Every node must be in the topology (the ingest checks it).
 */
export async function applyStatuses(
  system: PowerSystem,
  statuses: readonly (StoredReport & { node_id: string })[],
): Promise<ControllerOutcome> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = await system.store.get();
    const next = step(system.topology, before, statuses);
    if (!next) {
      if (before?.unsent.length) await publishAll(system, before);
      return { events: [], commands: [] };
    }
    if (!(await system.store.put(next.record, before?.version))) continue;
    await publishAll(system, next.record);
    return next.outcome;
  }
  throw new Error(`power system: ${ATTEMPTS} concurrent writers in a row, giving up (the batch is retried)`);
}

function step(
  topology: Topology,
  before: PowerSystemRecord | undefined,
  statuses: readonly (StoredReport & { node_id: string })[],
) {
  const reports: Record<string, StoredReport> = { ...before?.reports };
  let changed = false;
  for (const s of statuses) {
    const known = reports[s.node_id];
    if (known && known.at >= s.at) continue;
    reports[s.node_id] = { status: s.status, at: s.at, ...(s.power_kw !== undefined && { power_kw: s.power_kw }) };
    changed = true;
  }
  if (!changed && before) return undefined;
  const now = Math.max(before?.state.at ?? 0, ...Object.values(reports).map((r) => r.at));
  const result = evaluate(topology, reports, now, before?.state);
  const newest = [...result.events].sort((a, b) => b.at - a.at);
  const record: PowerSystemRecord = {
    version: (before?.version ?? 0) + 1,
    reports,
    state: result.state,
    events: [...newest, ...(before?.events ?? [])].slice(0, RECENT_EVENTS),
    unsent: [...(before?.unsent ?? []), ...result.commands],
  };
  return { record, outcome: { events: result.events, commands: result.commands } };
}

/** Publishes every unsent command (QoS 1), then clears them unless another writer moved on (it will send them). */
async function publishAll(system: PowerSystem, record: PowerSystemRecord): Promise<void> {
  if (record.unsent.length === 0) return;
  for (const c of record.unsent) {
    const { node_id, ...command } = c;
    await system.publisher.publish(topics.winterRiverCommand(node_id), JSON.stringify(command), 1);
  }
  await system.store.put({ ...record, version: record.version + 1, unsent: [] }, record.version);
}
