// Many simulated devices in one process (the local stack's fleet, load tests): one scheduler for all their timers,
// connects spread out with a concurrency cap, each device with its own certificate, connection and buffer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createDevice, defaultIntervals, type DeviceSpec, type Intervals } from './create-device.js';
import { jsonLog, type DeviceLog, type LogLevel } from './log.js';
import { PROFILES, type AgentProfile } from './profile.js';
import type { Device, DeviceStatus } from './runtime.js';
import { Scheduler } from './scheduler.js';
import { snapshot, startStatusServer, type StatusServer, type StatusSnapshot } from './status-server.js';
import type { VenMetering } from './ven-device.js';
import { venTopics } from './ven-topics.js';
import { THING_NAME } from '../lambdas/core/contracts/topics.js';
import { checkTopology } from '../lambdas/core/contracts/topology.js';

/** The node ids of a Winter River topology file, refused with the reason and the file named. */
function topologyNodes(file: string): string[] {
  const parsed = checkTopology(parseYaml(readFileSync(file, 'utf8')));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.message}`);
  return parsed.topology.nodes.map((n) => n.id);
}

/** One device of the fleet: its identity and, for a gateway, its inventory (see DeviceSpec). */
export type FleetDeviceSpec = Pick<
  DeviceSpec,
  'mode' | 'thingName' | 'certFile' | 'keyFile' | 'inventoryFile' | 'siteId'
>;

export interface FleetOptions {
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  /** Each device keeps its offline buffer in `<dataDir>/<thingName>`. */
  readonly dataDir: string;
  readonly devices: readonly FleetDeviceSpec[];
  /** How every VEN reports (device/profile.ts); economy by default. `basicIngest`, `metering` and `intervals.shadowMs` win over it. */
  readonly profile?: AgentProfile;
  readonly intervals?: Partial<Intervals>;
  readonly bufferMaxBytes?: number;
  readonly log?: DeviceLog;
  readonly logLevel?: LogLevel;
  /** Serve a status page for the whole fleet (0 = any free port); none by default. */
  readonly statusPort?: number;
  readonly statusHost?: string;
  /** Connects in progress at once (default 16). */
  readonly connectConcurrency?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnectMinSec?: number;
  readonly reconnectMaxSec?: number;
  readonly keepAliveSec?: number;
  readonly flushTimeoutMs?: number;
  /** Every VEN's metering through Basic Ingest (`$aws/rules/metering/volttron/metering`); the profile's by default. */
  readonly basicIngest?: boolean;
  /** Every VEN's metering batching and telemetry copy (see VenMetering); the profile's by default. */
  readonly metering?: VenMetering;
}

export interface Fleet {
  readonly devices: readonly Device[];
  /** Devices whose first connect succeeded within the timeout (the others keep trying). */
  readonly connected: number;
  readonly statusUrl: string | null;
  status(): StatusSnapshot;
  device(thingName: string): Device | undefined;
  stop(): Promise<void>;
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  checkSpecs(opts.devices);
  const log = opts.log ?? jsonLog(opts.logLevel ?? 'info', { fleet: true });
  const profile = PROFILES[opts.profile ?? 'economy'];
  const intervals: Intervals = { ...defaultIntervals, shadowMs: profile.shadowMs, ...opts.intervals };
  const periods = [intervals.meteringMs, intervals.shadowMs, intervals.gatewayMs, intervals.winterRiverMs];
  const scheduler = new Scheduler({
    resolutionMs: Math.min(100, Math.max(5, Math.floor(Math.min(...periods) / 10))),
    onError: (error) => log.error('scheduled task failed', { error: String(error) }),
  });
  const devices = opts.devices.map((spec) =>
    createDevice(spec.mode === 'ven' ? venSpec(spec, opts) : spec, {
      broker: {
        host: opts.host,
        port: opts.port,
        caFile: opts.caFile,
        ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
        ...(opts.reconnectMinSec !== undefined ? { reconnectMinSec: opts.reconnectMinSec } : {}),
        ...(opts.reconnectMaxSec !== undefined ? { reconnectMaxSec: opts.reconnectMaxSec } : {}),
        ...(opts.keepAliveSec !== undefined ? { keepAliveSec: opts.keepAliveSec } : {}),
      },
      dataDir: opts.dataDir,
      bufferMaxBytes: opts.bufferMaxBytes ?? 8 * 1024 * 1024,
      intervals,
      log,
      scheduler,
      ...(opts.flushTimeoutMs !== undefined ? { flushTimeoutMs: opts.flushTimeoutMs } : {}),
    }),
  );
  const byName = new Map(devices.map((d) => [d.thingName, d]));
  const startedAt = Date.now();
  const read = () =>
    snapshot(
      devices.map((d): DeviceStatus => d.status()),
      startedAt,
    );
  let server: StatusServer | undefined;
  let connected: number;
  const stopAll = async () => {
    await Promise.all(
      devices.map((d) =>
        d
          .stop()
          .catch((error: unknown) => log.error('device stop failed', { thingName: d.thingName, error: String(error) })),
      ),
    );
    scheduler.stop();
    await server?.close();
  };
  try {
    if (opts.statusPort !== undefined)
      server = await startStatusServer(opts.statusPort, opts.statusHost ?? '127.0.0.1', read);
    const results = await mapLimit(devices, opts.connectConcurrency ?? 16, (d) => d.start());
    connected = results.filter(Boolean).length;
  } catch (error) {
    await stopAll();
    throw error;
  }
  log.info('fleet started', { devices: devices.length, connected, statusUrl: server?.url });
  let stopping: Promise<void> | undefined;
  return {
    devices,
    connected,
    statusUrl: server?.url ?? null,
    status: read,
    device: (thingName) => byName.get(thingName),
    stop: () => (stopping ??= stopAll()),
  };
}

function venSpec(spec: FleetDeviceSpec, opts: FleetOptions): DeviceSpec {
  const profile = PROFILES[opts.profile ?? 'economy'];
  return {
    ...spec,
    venTopics: venTopics(spec.thingName, { basicIngest: opts.basicIngest ?? profile.basicIngest }),
    metering: { batch: profile.meteringBatch, telemetryCopy: profile.telemetryCopy, ...opts.metering },
    shadowOnChange: profile.shadowOnChange,
  };
}

function checkSpecs(specs: readonly FleetDeviceSpec[]): void {
  const seen = new Set<string>();
  for (const [i, s] of specs.entries()) {
    if (!THING_NAME.test(s.thingName))
      throw new Error(`devices.${i}.thingName: ${s.thingName} is not a valid thing name`);
    if (seen.has(s.thingName)) throw new Error(`devices.${i}.thingName: ${s.thingName} appears twice`);
    seen.add(s.thingName);
    if (s.mode === 'gateway' && !s.inventoryFile) throw new Error(`devices.${i}.inventoryFile: required for a gateway`);
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The local stack's simulated fleet (3 VENs, 2 site gateways, one Winter River node per node of the topology, 2 edge nodes),
 * without certificates: the caller provisions each thing and adds certFile/keyFile. `root` is the project folder.
 */
export function defaultFleet(
  root: string,
  winterRiverNodes: readonly string[] = topologyNodes(join(root, 'device', 'winter-river.topology.yaml')),
): Omit<FleetDeviceSpec, 'certFile' | 'keyFile'>[] {
  return [
    { mode: 'ven', thingName: 'ven-001' },
    { mode: 'ven', thingName: 'ven-002' },
    { mode: 'ven', thingName: 'ven-003' },
    { mode: 'gateway', thingName: 'gw-site-gt', inventoryFile: join(root, 'device', 'inventory.example.yaml') },
    // the mixed site: a battery, PV, wind and an EV station behind one gateway
    { mode: 'gateway', thingName: 'gw-site-mx', inventoryFile: join(root, 'device', 'inventory.example.yaml') },
    ...winterRiverNodes.map((thingName) => ({ mode: 'winter-river' as const, thingName })),
    // two data-centre edge nodes, each with its site battery
    { mode: 'edge', thingName: 'dc-edge-01' },
    { mode: 'edge', thingName: 'dc-edge-02' },
  ];
}
