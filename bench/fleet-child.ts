// Child process: the device fleet launcher (device/fleet.ts) with N simulated devices, as the benchmarks drive it.
// It reports, once a second over IPC, when each metering message was handed to the MQTT client (the publish time of
// publish→stored), how many messages went out per kind, and its own CPU and memory.
import { startFleet, type Fleet, type FleetDeviceSpec } from '../device/fleet.js';
import type { DeviceLog } from '../device/log.js';
import { DeviceConnection } from '../device/connection.js';
import { parseBasicIngestTopic, topics } from '../lambdas/core/contracts/topics.js';

export interface FleetChildStart {
  readonly type: 'start';
  readonly host: string;
  readonly port: number;
  readonly caFile: string;
  readonly dataDir: string;
  readonly devices: FleetDeviceSpec[];
  readonly connectConcurrency?: number;
  readonly basicIngest?: boolean;
}

export interface FleetTick {
  readonly type: 'tick';
  /** [venId, sample timestamp (s), wall-clock ms handed to the client] per metering message since the last tick. */
  readonly metering: [string, number, number][];
  readonly counts: Record<string, number>;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  readonly warnings: number;
  readonly errors: number;
  readonly firstError?: string;
}

const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

let pending: [string, number, number][] = [];
const counts: Record<string, number> = { metering: 0, telemetry: 0, shadow: 0, other: 0 };
const METERING_HEAD = /^\{"venId":"([^"]+)","timestamp":(\d+)/;

const kind = (topic: string) =>
  topic === topics.metering || parseBasicIngestTopic(topic)
    ? 'metering'
    : topic.startsWith('ven/telemetry/')
      ? 'telemetry'
      : topic.startsWith('$aws/things/')
        ? 'shadow'
        : 'other';

// The one place the publish time can be taken without touching the agent: the connection every device publishes through.
const publish = DeviceConnection.prototype.publish;
DeviceConnection.prototype.publish = function timedPublish(topic: string, payload: string, qos: 0 | 1) {
  const k = kind(topic);
  counts[k] = (counts[k] ?? 0) + 1;
  if (k === 'metering') {
    const m = METERING_HEAD.exec(payload);
    if (m) pending.push([m[1]!, Number(m[2]), now()]);
  }
  return publish.call(this, topic, payload, qos);
};

let warnings = 0;
let errors = 0;
let firstError: string | undefined;
const log: DeviceLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => void warnings++,
  error: (message, fields) => {
    errors++;
    firstError ??= `${message} ${JSON.stringify(fields ?? {})}`.slice(0, 300);
  },
  child: () => log,
};

function tick(): FleetTick {
  const cpu = process.cpuUsage();
  const t: FleetTick = {
    type: 'tick',
    metering: pending,
    counts: { ...counts },
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rssBytes: process.memoryUsage().rss,
    warnings,
    errors,
    ...(firstError && { firstError }),
  };
  pending = [];
  return t;
}

let fleet: Fleet | undefined;
let timer: NodeJS.Timeout | undefined;
let stopping: Promise<void> | undefined;

async function stop(): Promise<void> {
  clearInterval(timer);
  const started = now();
  await fleet?.stop();
  send(tick());
  send({ type: 'stopped', ms: now() - started });
}

process.on('message', (raw) => {
  const m = raw as { type: string } & Partial<FleetChildStart>;
  if (m.type === 'start') {
    const opts = m as FleetChildStart;
    const started = now();
    void startFleet({
      host: opts.host,
      port: opts.port,
      caFile: opts.caFile,
      dataDir: opts.dataDir,
      devices: opts.devices,
      log,
      connectConcurrency: opts.connectConcurrency ?? 32,
      connectTimeoutMs: 60_000,
      // the VOLTTRON VEN (one metering message per sample, the shadow every 30 s): the load the soak and the latencies are defined on
      profile: 'volttron',
      ...(opts.basicIngest ? { basicIngest: true } : {}),
    }).then(
      (f) => {
        fleet = f;
        timer = setInterval(() => send(tick()), 1000);
        send({ type: 'started', connected: f.connected, ms: now() - started, rssBytes: process.memoryUsage().rss });
      },
      (error: unknown) => send({ type: 'failed', error: String(error) }),
    );
  } else if (m.type === 'stop') {
    stopping ??= stop().then(() => process.exit(0));
  }
});

process.on('SIGTERM', () => {
  stopping ??= stop().then(() => process.exit(0));
});
