// One agent process: the device its configuration describes, its status page, and an orderly stop.
import { existsSync, readFileSync } from 'node:fs';
import { provisionByClaim } from './claim-provisioning.js';
import { createDevice, defaultIntervals } from './create-device.js';
import type { AgentConfig } from './config.js';
import { jsonLog, type DeviceLog } from './log.js';
import type { Device } from './runtime.js';
import { Scheduler } from './scheduler.js';
import { snapshot, startStatusServer, type StatusServer, type StatusSnapshot } from './status-server.js';
import { releaseKey } from './update/artifact.js';
import { AgentUpdater } from './update/updater.js';
import { AGENT_VERSION } from './version.js';

export interface AgentDeps {
  readonly log?: DeviceLog;
  readonly now?: () => number;
  /** How long stop() waits for buffered messages to reach the broker. */
  readonly flushTimeoutMs?: number;
  /** Ends the process once the agent stopped for an update (config.update). @default process.exit */
  readonly exit?: (code: number) => void;
}

export interface Agent {
  readonly device: Device;
  /** The status page, or null when WEB_PORT=off. */
  readonly statusUrl: string | null;
  /** Whether the first connect succeeded within the connect timeout (it keeps trying otherwise). */
  readonly connected: boolean;
  status(): StatusSnapshot;
  /** Stops producing, flushes the buffer to the broker (or keeps it on disk), disconnects, closes the page. */
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<Agent> {
  const log = deps.log ?? jsonLog(config.logLevel);
  if (config.claim && !existsSync(config.certFile)) {
    // first boot of a factory-made device: its own certificate for the shared claim certificate
    await provisionByClaim({
      host: config.broker.host,
      port: config.broker.port,
      caFile: config.broker.caFile,
      claimCertFile: config.claim.certFile,
      claimKeyFile: config.claim.keyFile,
      templateName: config.claim.templateName,
      serial: config.thingName,
      certFile: config.certFile,
      keyFile: config.keyFile,
      log,
    });
  }
  const startedAt = Date.now();
  const periods = [config.intervals.telemetryMs, config.intervals.shadowMs];
  const scheduler = new Scheduler({
    resolutionMs: Math.min(100, Math.max(5, Math.floor(Math.min(...periods) / 10))),
    onError: (error) => log.error('scheduled task failed', { error: String(error) }),
  });
  const device = createDevice(
    {
      mode: config.mode,
      thingName: config.thingName,
      certFile: config.certFile,
      keyFile: config.keyFile,
      ...(config.inventoryFile !== undefined ? { inventoryFile: config.inventoryFile } : {}),
      ...(config.siteId !== undefined ? { siteId: config.siteId } : {}),
      ...(config.panelFile !== undefined ? { panelFile: config.panelFile } : {}),
      venTopics: config.venTopics,
      metering: config.metering,
      shadowOnChange: config.shadowOnChange,
    },
    {
      broker: config.broker,
      dataDir: config.dataDir,
      ownDataDir: true,
      bufferMaxBytes: config.bufferMaxBytes,
      intervals: {
        ...defaultIntervals,
        meteringMs: config.intervals.telemetryMs,
        gatewayMs: config.intervals.telemetryMs,
        winterRiverMs: config.intervals.telemetryMs,
        edgeMs: config.intervals.telemetryMs,
        shadowMs: config.intervals.shadowMs,
        loadsMs: config.intervals.loadsMs,
      },
      log,
      scheduler,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.flushTimeoutMs !== undefined ? { flushTimeoutMs: deps.flushTimeoutMs } : {}),
    },
  );
  const read = () => snapshot([device.status()], startedAt);
  let server: StatusServer | undefined;
  if (config.web) server = await startStatusServer(config.web.port, config.web.host, read);
  if (server) log.info('status page', { url: server.url });
  let stopping: Promise<void> | undefined;
  if (config.update) {
    const exit = deps.exit ?? ((code: number) => process.exit(code));
    new AgentUpdater({
      runtime: device.runtime,
      thingName: config.thingName,
      installDir: config.update.installDir,
      releaseKey: releaseKey(readFileSync(config.update.releaseKeyFile, 'utf8')),
      version: AGENT_VERSION,
      healthTimeoutMs: config.update.healthTimeoutMs,
      exit: (code) => void stop().finally(() => exit(code)),
    });
  }
  const connected = await device.start();
  return {
    device,
    statusUrl: server?.url ?? null,
    connected,
    status: read,
    stop,
  };

  function stop(): Promise<void> {
    return (stopping ??= (async () => {
      await device.stop();
      scheduler.stop();
      await server?.close();
    })());
  }
}
