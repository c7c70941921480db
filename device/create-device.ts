// Builds one device of any kind from plain options; shared by the single agent and the fleet launcher.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parse } from '../lambdas/core/contracts/schemas.js';
import { GatewayDevice } from './gateway-device.js';
import type { DeviceLog } from './log.js';
import { defaultPanel, panelSpecSchema, type PanelSpec } from './panel.js';
import { rngFor } from './random.js';
import { DeviceRuntime, type BrokerOptions, type Device, type DeviceMode } from './runtime.js';
import type { Scheduler } from './scheduler.js';
import { parseInventory, selectSite, type SiteSpec } from './site.js';
import { VenDevice, type VenMetering } from './ven-device.js';
import type { VenTopics } from './ven-topics.js';
import { WinterRiverDevice } from './winter-river-device.js';
import { EdgeDevice } from './edge-device.js';

export interface Intervals {
  /** VEN metering (and its telemetry mirror). */
  readonly meteringMs: number;
  readonly shadowMs: number;
  /** VEN load snapshots; 0 = off. */
  readonly loadsMs: number;
  readonly gatewayMs: number;
  readonly winterRiverMs: number;
  /** Edge nodes' telemetry (the edge software's 5 s unless set). */
  readonly edgeMs?: number;
}

/** shadowMs: the VOLTTRON VEN's period; the economy profile's heartbeat is PROFILES.economy.shadowMs. */
export const defaultIntervals: Intervals = {
  meteringMs: 5000,
  shadowMs: 30_000,
  loadsMs: 0,
  gatewayMs: 5000,
  winterRiverMs: 5000,
};

export interface DeviceSpec {
  readonly mode: DeviceMode;
  readonly thingName: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Gateway: the YAML inventory, and optionally which of its sites. */
  readonly inventoryFile?: string;
  readonly siteId?: string;
  /** VEN: a YAML panel description instead of the default panel. */
  readonly panelFile?: string;
  readonly venTopics?: VenTopics;
  /** VEN: batching and the telemetry copy (see VenMetering). */
  readonly metering?: VenMetering;
  /** VEN: the shadow on change plus a heartbeat of `intervals.shadowMs` (see VenOptions). */
  readonly shadowOnChange?: boolean;
}

export interface SharedSetup {
  readonly broker: BrokerOptions;
  /** Root data directory; each device keeps its buffer in `<dataDir>/<thingName>` unless `ownDataDir` is set. */
  readonly dataDir: string;
  readonly ownDataDir?: boolean;
  readonly bufferMaxBytes: number;
  readonly intervals: Intervals;
  readonly log: DeviceLog;
  readonly scheduler: Scheduler;
  readonly now?: () => number;
  readonly flushTimeoutMs?: number;
}

/** A configuration problem, naming the field (file path, inventory field) at fault. */
export class DeviceSetupError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DeviceSetupError';
  }
}

export function createDevice(spec: DeviceSpec, shared: SharedSetup): Device {
  const log = shared.log.child({ thingName: spec.thingName, mode: spec.mode });
  const makeRuntime = () =>
    new DeviceRuntime({
      thingName: spec.thingName,
      certFile: spec.certFile,
      keyFile: spec.keyFile,
      broker: shared.broker,
      dataDir: shared.ownDataDir ? shared.dataDir : join(shared.dataDir, spec.thingName),
      bufferMaxBytes: shared.bufferMaxBytes,
      log,
      scheduler: shared.scheduler,
      ...(shared.now ? { now: shared.now } : {}),
      ...(shared.flushTimeoutMs !== undefined ? { flushTimeoutMs: shared.flushTimeoutMs } : {}),
    });
  switch (spec.mode) {
    case 'ven': {
      const panel = spec.panelFile ? loadPanel(spec.panelFile) : defaultPanel;
      return new VenDevice({
        runtime: makeRuntime(),
        thingName: spec.thingName,
        panel,
        rng: rngFor(spec.thingName),
        intervals: {
          meteringMs: shared.intervals.meteringMs,
          shadowMs: shared.intervals.shadowMs,
          loadsMs: shared.intervals.loadsMs,
        },
        ...(spec.venTopics ? { topics: spec.venTopics } : {}),
        ...(spec.metering ? { metering: spec.metering } : {}),
        ...(spec.shadowOnChange ? { shadowOnChange: true } : {}),
      });
    }
    case 'gateway': {
      if (!spec.inventoryFile)
        throw new DeviceSetupError('inventoryFile', `gateway ${spec.thingName} needs an inventory`);
      const site = loadSite(spec.inventoryFile, spec.thingName, spec.siteId);
      return new GatewayDevice({
        runtime: makeRuntime(),
        thingName: spec.thingName,
        site,
        telemetryMs: shared.intervals.gatewayMs,
      });
    }
    case 'winter-river':
      return new WinterRiverDevice({
        runtime: makeRuntime(),
        thingName: spec.thingName,
        rng: rngFor(spec.thingName),
        statusMs: shared.intervals.winterRiverMs,
      });
    case 'edge':
      return new EdgeDevice({
        runtime: makeRuntime(),
        thingName: spec.thingName,
        rng: rngFor(spec.thingName),
        telemetryMs: shared.intervals.edgeMs ?? 5000,
      });
  }
}

export function loadSite(inventoryFile: string, gatewayId: string, siteId?: string): SiteSpec {
  const inventory = parseInventory(readFileSync(inventoryFile, 'utf8'));
  if (!inventory.ok) throw new DeviceSetupError(`${inventoryFile} ${inventory.field}`, inventory.message);
  const site = selectSite(inventory.sites, gatewayId, siteId);
  if (typeof site === 'string')
    throw new DeviceSetupError(siteId !== undefined ? 'GATEWAY_SITE_ID' : inventoryFile, site);
  return site;
}

export function loadPanel(panelFile: string): PanelSpec {
  const result = parse(panelSpecSchema, parseYaml(readFileSync(panelFile, 'utf8')));
  if (!result.ok) throw new DeviceSetupError(`${panelFile} ${result.field}`, result.message);
  return result.value;
}
