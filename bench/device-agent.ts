// 5. The device agent: resident memory of one VEN agent process, and of the fleet launcher running 1,000 VENs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { releaseAgent } from '../bin/release-agent.js';
import { procStats, ROOT, sleep, startTimedStack, type BenchContext } from './harness.js';
import { atMost, int, mb, ms, round, type BenchResult, type Goal } from './stats.js';

const RUN_SEC = 20;
const THING = 'ven-agent-bench';

/** Child processes of `pid` (tsx starts esbuild's service process beside the agent). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts the agent with `args` before the flags, samples its RSS once a second for RUN_SEC, then SIGTERMs it. */
async function runAgent(ctx: BenchContext, command: string[], flags: string[]) {
  const child = spawn(process.execPath, [...command, ...flags], {
    cwd: ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  ctx.onCleanup(() => void child.kill('SIGKILL'));
  const samples: number[] = [];
  const helpers = new Map<number, number>();
  const cpu0 = procStats(child.pid!);
  for (let i = 0; i < RUN_SEC; i++) {
    await sleep(1000);
    samples.push(procStats(child.pid!).rssBytes);
    for (const c of childrenOf(child.pid!)) {
      const rss = procStats(c).rssBytes;
      helpers.set(c, Math.max(helpers.get(c) ?? 0, rss));
    }
  }
  const cpu1 = procStats(child.pid!);
  child.kill('SIGTERM');
  const [code] = await exited;
  return {
    rssMax: Math.max(...samples),
    rssEnd: samples.at(-1)!,
    helperRss: [...helpers.values()].reduce((s, v) => s + v, 0),
    cpuPercent: ((cpu1.cpuSec - cpu0.cpuSec) / RUN_SEC) * 100,
    exitCode: code as number | null,
  };
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const certs = (await ctx.issue([THING])).get(THING)!;
  const { stack } = await startTimedStack(ctx);
  const flags = (dataDir: string) => [
    '--mode',
    'ven',
    '--endpoint',
    '127.0.0.1',
    '--port',
    String(stack.config.mqtt.port),
    '--client-id',
    THING,
    '--cert',
    certs.certFile,
    '--key',
    certs.keyFile,
    '--ca',
    ctx.ca.caFile,
    '--web-port',
    'off',
    '--log-level',
    'warn',
    '--data-dir',
    dataDir,
  ];
  // As device/README.md runs it on a Pi: node --import tsx bin/agent.ts
  const viaTsx = await runAgent(
    ctx,
    ['--import', 'tsx', join(ROOT, 'bin', 'agent.ts')],
    flags(join(ctx.dir, 'agent-tsx')),
  );
  // The agent as `npm run release:agent` ships it: one ESM file, aws-crt (native) from node_modules beside it.
  const outDir = join(ctx.dir, 'agent-bundle');
  await releaseAgent({ outDir });
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  const bundled = await runAgent(ctx, [join(outDir, 'agent.mjs')], flags(join(ctx.dir, 'agent-bundled')));
  await stack.close();

  const m = ctx.measured;
  const fleetMeasured = m.fleetRssBytes !== undefined;
  // devices run the release (npm run release:agent); tsx is the development path
  const goals: Goal[] = [
    atMost('one VEN agent process, RSS (the release: node agent.mjs)', bundled.rssMax / 2 ** 20, 80, 'MB'),
  ];
  return {
    id: 'device-agent',
    title: '5. Device agent memory and CPU',
    method:
      `One VEN agent as device/README.md runs it (\`node --import tsx bin/agent.ts --mode ven …\`, status page off) against a local ` +
      `stack, for ${RUN_SEC} s (metering every 5 s, its shadow on connect): resident set size of the agent process sampled once a ` +
      'second from /proc (the maximum is reported), plus any child process it starts. The same agent as devices run it: ' +
      'released with `npm run release:agent` (one esbuild file, aws-crt beside it) and run with plain `node`; the goal is on this one. The fleet launcher figures come from the ' +
      'local-stack soak (its fleet child process during the 60 s window, 1,000 VENs + 1 gateway), read from /proc.',
    figures: {
      viaTsx,
      bundled,
      fleet: fleetMeasured
        ? {
            devices: m.fleetDevices,
            connected: m.fleetConnected,
            rssBytes: m.fleetRssBytes,
            cpuPercent: m.fleetCpuPercent,
            connectMs: m.fleetConnectMs,
            stopMs: m.fleetStopMs,
          }
        : 'not measured (run the local-stack benchmark)',
    },
    rows: [
      [
        'VEN agent via tsx: RSS (max over the run)',
        `${mb(viaTsx.rssMax)}${viaTsx.helperRss ? ` (+ ${mb(viaTsx.helperRss)} in child processes)` : ', no child processes'}`,
      ],
      ['VEN agent via tsx: CPU', `${round(viaTsx.cpuPercent, 1)}% of one core (includes start-up)`],
      ['VEN agent bundled, plain node: RSS (max)', `${mb(bundled.rssMax)}; CPU ${round(bundled.cpuPercent, 1)}%`],
      ...(fleetMeasured
        ? ([
            [
              'fleet launcher: devices connected / time',
              `${int(m.fleetConnected!)}/${int(m.fleetDevices!)} in ${ms(m.fleetConnectMs!)}`,
            ],
            [
              'fleet launcher: RSS',
              `${mb(m.fleetRssBytes!)} (${round(m.fleetRssBytes! / m.fleetDevices! / 1024)} KB per device)`,
            ],
            ['fleet launcher: CPU at 5 s metering + 30 s shadow', `${m.fleetCpuPercent}% of one core`],
            ['fleet launcher: stop (flush and disconnect all)', ms(m.fleetStopMs!)],
          ] as [string, string][])
        : [['fleet launcher', 'not measured: run the local-stack benchmark'] as [string, string]]),
    ],
    goals,
    notes: [
      `Most of one agent's memory is the runtime, not the agent: Node itself, the device SDK's native aws-crt (its event-loop threads ` +
        `and TLS context) and, via tsx, the TypeScript loader. Bundled and run with plain node the same agent needs ${mb(bundled.rssMax)} ` +
        `against ${mb(viaTsx.rssMax)}: devices run the release (README: Updating agents).`,
    ],
    seconds: (Date.now() - started) / 1000,
  };
}
