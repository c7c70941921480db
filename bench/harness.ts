// What the end-to-end benchmarks share: one work folder with one local CA, child processes they always stop,
// process CPU and memory from /proc, and ports instrumented to time the stores.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCa, type IssuedCertificate } from '../bin/local/iot/certs.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../bin/local/stack.js';
import type { Ports } from '../lambdas/core/ingest/ingest-ports.js';
import type { DeviceKind, DeviceRegistry } from '../lambdas/core/fleet/registry.js';
import type { SeriesRecord, TelemetryStore } from '../lambdas/core/timeseries/telemetry-store.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of this machine. */
export const now = () => performance.timeOrigin + performance.now();

/** The stack's HTTP API as the admin: GET, or POST with a JSON body; a status from 300 up throws. */
export function apiCaller(config: { apiUrl: string; token: string }) {
  return async (path: string, body?: unknown) => {
    const res = await fetch(`${config.apiUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${config.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, any>;
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BenchContext {
  /** The work folder: the local CA and certificates under it are shared by every benchmark of the run. */
  readonly dir: string;
  readonly ca: LocalCa;
  log(line: string): void;
  /** Figures one benchmark measures and a later one uses (the cost model). */
  readonly measured: Record<string, number>;
  /** Certificates for these things, issued once per run (openssl), 8 at a time. */
  issue(names: readonly string[]): Promise<Map<string, IssuedCertificate>>;
  /** Child processes and other things to stop, even when a benchmark fails. */
  onCleanup(fn: () => Promise<void> | void): void;
}

export function createContext(dir: string, log: (line: string) => void): BenchContext & { cleanup(): Promise<void> } {
  const ca = new LocalCa(dir);
  const issued = new Map<string, IssuedCertificate>();
  const cleanups: (() => Promise<void> | void)[] = [];
  return {
    dir,
    ca,
    log,
    measured: {},
    async issue(names) {
      await ca.ensure();
      const todo = names.filter((n) => !issued.has(n));
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const name = todo[next++]!;
          issued.set(name, await ca.device(name));
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return new Map(names.map((n) => [n, issued.get(n)!]));
    },
    onCleanup: (fn) => void cleanups.push(fn),
    async cleanup() {
      for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    },
  };
}

/** A port nobody listens on right now (bound and released: the caller binds it next). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  send(message: unknown): void;
  /** Resolves with the next message for which `match` is true. */
  next<T>(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  onMessage(fn: (m: Record<string, unknown>) => void): void;
  /** Asks nicely (SIGTERM), then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** A TypeScript child process with an IPC channel, stopped by the context's cleanup if the benchmark does not. */
export function startChild(ctx: BenchContext, script: string, env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: {
      ...process.env,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners = new Set<(m: Record<string, unknown>) => void>();
  child.on('message', (m) => {
    for (const l of listeners) l(m as Record<string, unknown>);
  });
  const exited = once(child, 'exit').then(() => undefined);
  const stop = async (graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  ctx.onCleanup(() => stop(1000));
  return {
    process: child,
    pid: child.pid!,
    send: (m) => child.send(m as never),
    onMessage: (fn) => void listeners.add(fn),
    next: <T>(match: (m: Record<string, unknown>) => boolean, timeoutMs = 120_000) =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`${script}: no answer in ${timeoutMs} ms`));
        }, timeoutMs);
        const l = (m: Record<string, unknown>) => {
          if (!match(m)) return;
          clearTimeout(timer);
          listeners.delete(l);
          resolve(m as T);
        };
        listeners.add(l);
        void exited.then(() => {
          if (!listeners.has(l)) return;
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`${script} exited (code ${child.exitCode})`));
        });
      }),
    stop,
  };
}

const CLOCK_TICKS_PER_SEC = 100;

/** CPU seconds (user + system) and resident memory of a process, from /proc (Linux). */
export function procStats(pid: number): { cpuSec: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSec: ticks / CLOCK_TICKS_PER_SEC, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

/** CPU use of a process between two readings, in % of one core. */
export const cpuPercent = (before: { cpuSec: number }, after: { cpuSec: number }, seconds: number) =>
  ((after.cpuSec - before.cpuSec) / seconds) * 100;

/** Metering key: the VEN and its sample time (epoch seconds), unique per message. */
export const meteringKey = (venId: string, timestampSec: number) => `${venId}@${timestampSec}`;

/**
 * Wraps the rule handlers' ports. A metering message counts as stored once the time-series write holding its
 * records has completed and then a registry heartbeat of its VEN at or after its time (the handler writes one
 * heartbeat per VEN per batch, with the newest sample); its store time runs from the start of that time-series write
 * to then. Also records when a command's ACK completes it (dispatch).
 */
export class StoreTimer {
  /** Key → wall-clock ms the metering message was stored. */
  readonly stored = new Map<string, number>();
  /** Per stored message: time-series write start → heartbeat done (ms). */
  readonly storeMs: number[] = [];
  /** correlationId → wall-clock ms the ACK completed the command. */
  readonly acked = new Map<string, number>();
  /** VEN → its messages written to the time series and waiting for a heartbeat: [time ms, key, write start]. */
  private readonly written = new Map<string, [number, string, number][]>();
  onStored: ((key: string, at: number) => void) | undefined;
  onAcked: ((correlationId: string, at: number) => void) | undefined;

  wrap = (ports: Ports): Ports => {
    const telemetry: TelemetryStore = {
      write: async (records: readonly SeriesRecord[]) => {
        const started = now();
        await ports.telemetry.write(records);
        for (const r of records) {
          if (r.series !== 'ven_telemetry') continue;
          const list = this.written.get(r.deviceId) ?? [];
          list.push([r.time, meteringKey(r.deviceId, r.time / 1000), started]);
          this.written.set(r.deviceId, list);
        }
      },
      query: (q) => ports.telemetry.query(q),
    };
    const registry: DeviceRegistry = {
      recordHeartbeat: async (kind: DeviceKind, deviceId: string, at: number, latest: Record<string, unknown>) => {
        await ports.registry.recordHeartbeat(kind, deviceId, at, latest);
        if (kind !== 'ven') return;
        const t = now();
        const waiting = this.written.get(deviceId) ?? [];
        const left: typeof waiting = [];
        for (const entry of waiting) {
          const [time, key, started] = entry;
          if (time > at) {
            left.push(entry);
            continue;
          }
          if (this.stored.has(key)) continue;
          this.stored.set(key, t);
          this.storeMs.push(t - started);
          this.onStored?.(key, t);
        }
        this.written.set(deviceId, left);
      },
      recordPresence: (...a) => ports.registry.recordPresence(...a),
      get: (id) => ports.registry.get(id),
      list: (kind, page) => ports.registry.list(kind, page),
    };
    return {
      ...ports,
      telemetry,
      registry,
      commands: {
        complete: async (correlationId, target, status, ack, at) => {
          const done = await ports.commands.complete(correlationId, target, status, ack, at);
          const t = now();
          if (done && !this.acked.has(correlationId)) {
            this.acked.set(correlationId, t);
            this.onAcked?.(correlationId, t);
          }
          return done;
        },
      },
    };
  };
}

/** A local stack in `dir` (fresh DynamoDB data, the run's CA) with its ports timed. */
export async function startTimedStack(
  ctx: BenchContext,
  opts: Partial<LocalStackOptions> = {},
): Promise<{ stack: LocalStack; timer: StoreTimer }> {
  await Promise.all(
    ['dynamodb', 'errors.jsonl', 'fleet', 'shadows'].map((f) => rm(join(ctx.dir, f), { recursive: true, force: true })),
  );
  const timer = new StoreTimer();
  // the rollup pass (a minute locally) stays out of the timed runs unless a benchmark asks for it
  const stack = await startLocalStack({
    dir: ctx.dir,
    httpPort: 0,
    mqttPort: 0,
    fleet: false,
    instrumentPorts: timer.wrap,
    rollupIntervalMs: 3_600_000,
    ...opts,
  });
  let closed = false;
  const close = stack.close.bind(stack);
  const closeOnce = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  ctx.onCleanup(closeOnce);
  return { stack: Object.assign(stack, { close: closeOnce }), timer };
}

/** Errors recorded by the stack's error sink (refusals, failed handlers). */
export function errorLines(file: string): { reason: string; message: string; topic?: string }[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
