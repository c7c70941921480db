// 7. The operator dashboard in Chromium against a local stack with 1,000 simulated VENs: the JavaScript it ships,
// the time to a rendered overview, and the main thread at steady state (long tasks, busy time, heap).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import type { FleetDeviceSpec } from '../device/fleet.js';
import { DIST_DIR } from '../web/build.js';
import { cpuPercent, procStats, ROOT, sleep, startChild, startTimedStack, type BenchContext } from './harness.js';
import { atMost, int, kb, mb, median, ms, round, summarize, type BenchResult, type Goal } from './stats.js';

/** VPP_BENCH_QUICK=1: a smoke run (100 VENs, shorter windows); its figures are not the goals' conditions. */
const QUICK = process.env.VPP_BENCH_QUICK === '1';
const VENS = QUICK ? 100 : 1000;
const GATEWAY = 'gw-site-gt';
const LOADS = 5;
/** After the steady page has rendered: let the fleet and the page settle before the window. */
const SETTLE_SEC = QUICK ? 10 : 30;
const WINDOW_SEC = QUICK ? 10 : 30;
const PROFILE_SEC = QUICK ? 5 : 15;
const JS_LIMIT = 150 * 1024;
const LOAD_LIMIT_MS = 1000;
const LONG_TASK_LIMIT_MS = 50;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 900 };

const venName = (i: number) => `ven-${String(i).padStart(5, '0')}`;

interface PageEntry {
  name: string;
  start: number;
  duration: number;
  /** long-animation-frame only: the scripts that ran in it (invoker, source, time). */
  blocking?: number;
  /** long-animation-frame only: the frame's rendering (rAF, style, layout, paint) and its style and layout, ms. */
  render?: number;
  styleLayout?: number;
  scripts?: { invoker: string; source: string; fn: string; duration: number; layout: number }[];
}

declare global {
  interface Window {
    __bench?: { longtasks: PageEntry[]; frames: PageEntry[] };
  }
}

/**
 * Installed before any of the page's own script: buffered long tasks and long animation frames (LoAF, with script
 * attribution), kept on window.__bench for the bench to read.
 */
function instrument() {
  const bench = { longtasks: [] as PageEntry[], frames: [] as PageEntry[] };
  window.__bench = bench;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        bench.longtasks.push({ name: e.name, start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    /* not supported: none recorded */
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as {
        startTime: number;
        duration: number;
        blockingDuration: number;
        renderStart: number;
        styleAndLayoutStart: number;
        scripts: {
          invoker: string;
          sourceURL: string;
          sourceFunctionName: string;
          sourceCharPosition: number;
          duration: number;
          forcedStyleAndLayoutDuration: number;
        }[];
      }[]) {
        if (e.duration <= 50) continue;
        bench.frames.push({
          name: 'long-animation-frame',
          start: e.startTime,
          duration: e.duration,
          blocking: e.blockingDuration,
          render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
          styleLayout: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0,
          scripts: e.scripts.map((s) => ({
            invoker: s.invoker,
            source: `${s.sourceURL.split('/').pop()}:${s.sourceCharPosition}`,
            fn: s.sourceFunctionName,
            duration: s.duration,
            layout: s.forcedStyleAndLayoutDuration,
          })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    /* not supported */
  }
}

/** The overview has rendered the fleet: the "VENs online" tile reads `n / n` and the VEN table shows rows. */
function overviewRendered(n: number): number | false {
  const tile = Array.from(document.querySelectorAll('.tile')).find(
    (t) => t.querySelector('.tile-label')?.textContent === 'VENs online',
  );
  const value = tile?.querySelector('.tile-value')?.textContent ?? '';
  const rows = document.querySelectorAll('table.grid tbody tr th[scope="row"] a').length;
  return value === `${n} / ${n}` && rows >= 10 ? performance.now() : false;
}

/** Where the page's time went: navigation and resource timing up to the render (ms from navigation start). */
function loadBreakdown() {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  // The last script; the first of each request (the store reads the REST API again once its socket is up).
  const end = (pattern: RegExp, last = false) => {
    const hits = res.filter((r) => pattern.test(new URL(r.name).pathname)).map((r) => r.responseEnd);
    return hits.length ? (last ? Math.max(...hits) : Math.min(...hits)) : null;
  };
  return {
    documentResponseEnd: nav?.responseEnd ?? null,
    domContentLoaded: nav?.domContentLoadedEventEnd ?? null,
    scriptsEnd: end(/\.js$/, true),
    configJsonEnd: end(/^\/config\.json$/),
    sessionEnd: end(/^\/local\/session$/),
    vensEnd: end(/^\/api\/vens$/),
    nodesEnd: end(/^\/api\/winter-river\/nodes$/),
    portfolioEnd: end(/^\/api\/portfolio$/),
    /** Every GET /api/vens of the load: [start, end] (the store lists the fleet at start-up and again when its socket is up). */
    vens: res
      .filter((r) => new URL(r.name).pathname === '/api/vens')
      .map((r): [number, number] => [Math.round(r.startTime), Math.round(r.responseEnd)]),
  };
}

type Breakdown = ReturnType<typeof loadBreakdown>;

interface LoadRun {
  /** performance.now() in the page (from navigation start) when the fleet was first seen rendered. */
  renderedMs: number;
  /** Wall clock in the bench: page.goto() called → rendered seen. */
  wallMs: number;
  breakdown: Breakdown;
}

async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  // tsx compiles the bench with esbuild's keepNames, which wraps functions in __name(); the functions handed to the
  // page (init script, evaluate, waitForFunction) are sent as source and need that helper there too.
  await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
  await context.addInitScript(instrument);
  const page = await context.newPage();
  return { context, page };
}

async function loadOverview(page: Page, url: string): Promise<LoadRun> {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(overviewRendered, VENS, { polling: 'raf', timeout: 60_000 });
  const wallMs = Date.now() - t0;
  const renderedMs = (await handle.jsonValue()) as number;
  return { renderedMs, wallMs, breakdown: await page.evaluate(loadBreakdown) };
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/** `root` and every process under it (for Chromium: its browser, renderer, GPU and utility processes), from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

function cpuSecOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += procStats(pid).cpuSec;
    } catch {
      /* exited */
    }
  }
  return sum;
}

/** Jiffies of the whole machine from /proc/stat: busy (not idle or iowait) and total. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

/** Self time per function of a CDP CPU profile, the largest first, with (idle), (program) and GC apart. */
function selfTimes(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const f = node.callFrame;
    const file = f.url ? f.url.split('/').pop() : '';
    const key = file
      ? `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}:${f.columnNumber + 1}`
      : f.functionName;
    self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
  }
  const total = [...self.values()].reduce((s, v) => s + v, 0);
  const idle = self.get('(idle)') ?? 0;
  return {
    totalMs: total,
    idleMs: idle,
    busyMs: total - idle,
    top: [...self.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([fn, t]) => ({ fn, selfMs: round(t, 1) })),
  };
}

/** The JS the overview loads, from its network responses, and the same files in web/dist for comparison. */
function distScripts(): { file: string; bytes: number; gzipBytes: number; referenced: boolean }[] {
  const index = join(DIST_DIR, 'index.html');
  if (!existsSync(index)) return [];
  const html = readFileSync(index, 'utf8');
  const dir = join(DIST_DIR, 'assets');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => {
      const buf = readFileSync(join(dir, f));
      return {
        file: f,
        bytes: buf.length,
        gzipBytes: gzipSync(buf, { level: 9 }).length,
        referenced: html.includes(`/assets/${f}`),
      };
    });
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const names = [...Array.from({ length: VENS }, (_, i) => venName(i)), GATEWAY];
  const certs = await ctx.issue(names);
  ctx.log(`  ${names.length} certificates ready`);

  const { stack } = await startTimedStack(ctx);
  const url = stack.config.apiUrl;
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${stack.config.token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as T;
  };

  const devices: FleetDeviceSpec[] = names.map((thingName) => ({
    mode: thingName === GATEWAY ? 'gateway' : 'ven',
    thingName,
    ...certs.get(thingName)!,
    ...(thingName === GATEWAY && { inventoryFile: join(ROOT, 'device', 'inventory.example.yaml') }),
  }));
  const fleet = startChild(ctx, 'bench/fleet-child.ts');
  let lastTick: { counts: Record<string, number> } | undefined;
  fleet.onMessage((m) => {
    if (m.type === 'tick') lastTick = m as unknown as { counts: Record<string, number> };
  });
  fleet.send({
    type: 'start',
    host: '127.0.0.1',
    port: stack.config.mqtt.port,
    caFile: ctx.ca.caFile,
    dataDir: join(ctx.dir, 'fleet-data', 'dashboard'),
    devices,
    connectConcurrency: 32,
  });
  const up = await fleet.next<{ type: string; connected: number; ms: number; error?: string }>(
    (m) => m.type === 'started' || m.type === 'failed',
    240_000,
  );
  if (up.type === 'failed') throw new Error(`fleet: ${up.error}`);
  ctx.log(
    `  ${up.connected}/${devices.length} devices connected in ${Math.round(up.ms)} ms; waiting for every VEN online in the registry`,
  );
  const fleetUpAt = Date.now();
  let online = 0;
  for (let i = 0; i < 240 && online < VENS; i++) {
    const vens = await api<{ items: { online: boolean }[] }>('/api/vens?limit=1000');
    online = vens.items.filter((v) => v.online).length;
    if (online < VENS) await sleep(250);
  }
  if (online < VENS) throw new Error(`only ${online}/${VENS} VENs online in the registry after 60 s`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  ctx.onCleanup(() => browser.close());

  // Warm-up load (not timed: the first page of a fresh browser pays for its own start); it records the JS shipped.
  const scripts: { url: string; bytes: number; gzipBytes: number }[] = [];
  {
    const { context, page } = await newPage(browser);
    const pending: Promise<void>[] = [];
    page.on('response', (res) => {
      const type = res.request().resourceType();
      if (type !== 'script' && !/\.m?js(\?|$)/.test(new URL(res.url()).pathname)) return;
      pending.push(
        res.body().then(
          (body) =>
            void scripts.push({
              url: new URL(res.url()).pathname,
              bytes: body.length,
              gzipBytes: gzipSync(body, { level: 9 }).length,
            }),
          () => undefined,
        ),
      );
    });
    const warm = await loadOverview(page, url);
    await sleep(2000); // anything loaded lazily after the first render
    await Promise.all(pending);
    ctx.log(
      `  warm-up load: rendered at ${round(warm.renderedMs)} ms; ${scripts.length} script(s), ${kb(scripts.reduce((s, x) => s + x.gzipBytes, 0))} gzip`,
    );
    await context.close();
  }
  const jsGzip = scripts.reduce((s, x) => s + x.gzipBytes, 0);
  const jsRaw = scripts.reduce((s, x) => s + x.bytes, 0);
  const dist = distScripts();

  const loads: LoadRun[] = [];
  for (let i = 0; i < LOADS; i++) {
    const { context, page } = await newPage(browser);
    try {
      const r = await loadOverview(page, url);
      loads.push(r);
      const b = r.breakdown;
      ctx.log(
        `  load ${i + 1}: rendered at ${round(r.renderedMs)} ms (wall ${r.wallMs} ms); document ${round(b.documentResponseEnd ?? Number.NaN)}, ` +
          `scripts ${round(b.scriptsEnd ?? Number.NaN)}, /config.json ${round(b.configJsonEnd ?? Number.NaN)}, /local/session ` +
          `${round(b.sessionEnd ?? Number.NaN)}, /api/vens ${b.vens.map(([x, y]) => `${x}→${y}`).join(' & ')}, /api/portfolio ${round(b.portfolioEnd ?? Number.NaN)} ms`,
      );
    } finally {
      await context.close();
    }
  }
  const renderedMedian = median(loads.map((l) => l.renderedMs));
  const wallMedian = median(loads.map((l) => l.wallMs));

  // Steady state: one page left open on the overview while the fleet reports.
  const { context, page } = await newPage(browser);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const steadyLoad = await loadOverview(page, url);
  await sleep(Math.max(SETTLE_SEC * 1000, (QUICK ? 10_000 : 30_000) - (Date.now() - fleetUpAt)));
  const fleetSecAtWindow = (Date.now() - fleetUpAt) / 1000;
  const windowStart = await page.evaluate(() => performance.now());
  const m0 = await metrics(cdp);
  const counts0 = { ...lastTick?.counts };
  const chromePids = descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium');
    } catch {
      return false;
    }
  });
  const cpu0 = {
    stack: procStats(process.pid),
    fleet: procStats(fleet.pid),
    chromium: { cpuSec: cpuSecOf(chromePids) },
  };
  const machine0 = machineJiffies();
  const t0 = Date.now();
  await sleep(WINDOW_SEC * 1000);
  const seconds = (Date.now() - t0) / 1000;
  const machine1 = machineJiffies();
  const cpu1 = {
    stack: procStats(process.pid),
    fleet: procStats(fleet.pid),
    chromium: { cpuSec: cpuSecOf(chromePids) },
  };
  const windowEnd = await page.evaluate(() => performance.now());
  const m1 = await metrics(cdp);
  const counts1 = { ...lastTick?.counts };
  const heap = await page.evaluate(() => {
    const m = (performance as unknown as { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
    return m ? { used: m.usedJSHeapSize, total: m.totalJSHeapSize } : null;
  });
  const entries = await page.evaluate(() => window.__bench ?? { longtasks: [], frames: [] });
  const inWindow = (e: PageEntry) => e.start >= windowStart && e.start < windowEnd;
  const longTasks = entries.longtasks.filter(inWindow);
  const longFrames = entries.frames.filter(inWindow);
  const longLoad = entries.longtasks.filter((e) => e.start < windowStart);
  const durations = longTasks.map((e) => e.duration);
  const lt = summarize(durations);
  const maxLongTask = durations.length ? Math.max(...durations) : 0;
  const tbt = durations.reduce((s, d) => s + Math.max(0, d - 50), 0);
  const busy = (k: string) => round((((m1[k] ?? 0) - (m0[k] ?? 0)) / seconds) * 100, 1);
  const mainThread = {
    taskPercent: busy('TaskDuration'),
    scriptPercent: busy('ScriptDuration'),
    layoutPercent: busy('LayoutDuration'),
    stylePercent: busy('RecalcStyleDuration'),
  };
  const rendered = await page.evaluate(() => document.querySelector('.tile-value') !== null);
  const renderedRows = await page.evaluate(() => document.querySelectorAll('table.grid tbody tr').length);
  const liveMessagesPerSec = round(((counts1.metering ?? 0) - (counts0.metering ?? 0)) / seconds, 1);
  const cpu = {
    stack: round(cpuPercent(cpu0.stack, cpu1.stack, seconds), 1),
    fleet: round(cpuPercent(cpu0.fleet, cpu1.fleet, seconds), 1),
    chromium: round(cpuPercent(cpu0.chromium, cpu1.chromium, seconds), 1),
    // The whole machine, in % of one core (cores × 100 is all of it); what is not the three above is someone else's.
    machine: round(((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cpus().length * 100, 1),
    loadavg1m: round(loadavg()[0]!, 2),
  };
  ctx.log(
    `  steady window (${round(seconds)} s, fleet up ${round(fleetSecAtWindow)} s): ${longTasks.length} long task(s), max ${round(maxLongTask)} ms; ` +
      `main thread busy ${mainThread.taskPercent}%; heap ${heap ? mb(heap.used) : '?'}; CPU ${JSON.stringify(cpu)}; long tasks while the ` +
      `steady page loaded: ${longLoad.map((e) => round(e.duration)).join(', ') || 'none'}`,
  );

  for (const f of [...longLoad, ...longTasks])
    ctx.log(
      `    long task at ${round(f.start)} ms: ${round(f.duration)} ms${f.start < windowStart ? ' (page load)' : ''}`,
    );
  for (const f of entries.frames) {
    const scripts = (f.scripts ?? []).map(
      (x) =>
        `${x.invoker} ${x.fn || '?'}@${x.source} ${round(x.duration)} ms${x.layout ? ` (forced layout ${round(x.layout)})` : ''}`,
    );
    ctx.log(
      `    long frame at ${round(f.start)} ms: ${round(f.duration)} ms, render ${round(f.render ?? 0)} (style+layout ${round(f.styleLayout ?? 0)}); ${scripts.join('; ') || 'no script'}`,
    );
  }

  // A CPU profile of the same page after the window (not during it: the sampler costs time): where the main thread goes.
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  await sleep(PROFILE_SEC * 1000);
  const { profile } = await cdp.send('Profiler.stop');
  const prof = selfTimes(profile as unknown as { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] });
  const mEnd = await metrics(cdp);
  ctx.log(
    `  profile (${PROFILE_SEC} s): busy ${round(prof.busyMs)} ms; ${prof.top
      .slice(0, 8)
      .map((t) => `${t.fn} ${t.selfMs}`)
      .join('; ')}`,
  );
  await context.close();
  await browser.close();

  fleet.send({ type: 'stop' });
  await fleet.next((m) => m.type === 'stopped', 60_000).catch(() => undefined);
  await fleet.stop();
  await stack.close();

  const invokers = new Map<string, { count: number; ms: number }>();
  for (const f of longFrames) {
    for (const s of f.scripts ?? []) {
      const key = `${s.invoker} (${s.fn || '?'} @ ${s.source})`;
      const cur = invokers.get(key) ?? { count: 0, ms: 0 };
      invokers.set(key, { count: cur.count + 1, ms: cur.ms + s.duration });
    }
  }
  const topInvokers = [...invokers.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 8)
    .map(([k, v]) => ({ script: k, count: v.count, ms: round(v.ms) }));

  const p99Text = durations.length ? ms(lt.p99) : '— (none)';
  const goals: Goal[] = [
    atMost('dashboard JS shipped, gzip -9 (overview)', jsGzip, JS_LIMIT, 'KB', (v) => String(round(v / 1024, 1))),
    atMost(`time to a rendered overview (${VENS} VENs), median of ${LOADS}`, renderedMedian, LOAD_LIMIT_MS, 'ms'),
    atMost(`longest main-thread task at steady state (${WINDOW_SEC} s window)`, maxLongTask, LONG_TASK_LIMIT_MS, 'ms'),
  ];

  const bd = (k: Exclude<keyof Breakdown, 'vens'>) => median(loads.map((l) => l.breakdown[k] ?? Number.NaN));
  // The store's first REST load is done when the last of its three requests is in; then the table can render.
  // With exactly 1,000 VENs the list takes two requests (a full page of `limit` comes with a `next`): the first load's
  // second page is the first request that starts once the first response is in.
  const fleetListed = (l: LoadRun) => {
    const [first, ...rest] = [...l.breakdown.vens].sort((a, b) => a[0] - b[0]);
    if (!first) return Number.NaN;
    return rest.find(([start]) => start >= first[1])?.[1] ?? first[1];
  };
  const restDone = (l: LoadRun) =>
    Math.max(fleetListed(l), l.breakdown.nodesEnd ?? Number.NaN, l.breakdown.portfolioEnd ?? Number.NaN);
  const restDoneMedian = median(loads.map(restDone));
  const renderAfterRest = median(loads.map((l) => l.renderedMs - restDone(l)));
  const notes: string[] = [];
  notes.push(
    `Time to a rendered overview, median of the ${LOADS} loads (ms from navigation start): scripts in at ${round(bd('scriptsEnd'))}, ` +
      `/config.json at ${round(bd('configJsonEnd'))}, /local/session at ${round(bd('sessionEnd'))} (each waits for the one before), the ` +
      `first REST load of the fleet (/api/vens, two pages one after the other, beside /api/winter-river/nodes and /api/portfolio; ` +
      `a second identical load starts when the live socket is up) in at ${round(restDoneMedian)}, the ` +
      `table rendered ${round(renderAfterRest)} ms after that. That last part is the live store's change notification ` +
      `(web/src/live/store.ts LiveStore.changed(), a trailing 500 ms timer), which also delays the first render after the initial load.`,
  );
  if (maxLongTask > LONG_TASK_LIMIT_MS) {
    notes.push(
      `Long tasks at steady state: ${longTasks.length} over ${WINDOW_SEC} s (max ${ms(maxLongTask)}, p99 ${p99Text}); the scripts ` +
        `over 5 ms in the long animation frames of the window, heaviest first: ` +
        `${topInvokers.map((t) => `${t.script} ×${t.count} ${t.ms} ms`).join('; ') || 'none (the frames ran no script over 5 ms)'}.`,
    );
  }
  notes.push(
    `Main thread at steady state (CDP Performance.getMetrics over the window): busy ${mainThread.taskPercent}% of the time ` +
      `(script ${mainThread.scriptPercent}%, style ${mainThread.stylePercent}%, layout ${mainThread.layoutPercent}%). CPU profile of ${PROFILE_SEC} s ` +
      `after the window, self time: ${prof.top
        .slice(0, 6)
        .map((t) => `${t.fn} ${t.selfMs} ms`)
        .join('; ')}.`,
  );
  notes.push(
    `On this ${cpus().length}-vCPU machine the stack (bench process), the ${VENS}-device fleet and Chromium share the cores (CPU in the ` +
      `window: stack ${cpu.stack}%, fleet ${cpu.fleet}%, Chromium ${cpu.chromium}%, the whole machine ${cpu.machine}% of one core, load ` +
      `average ${cpu.loadavg1m}): a long task is wall-clock time and includes any time the renderer waited for a core, and the REST ` +
      "calls of a load wait behind the stack's metering work.",
  );

  return {
    id: 'dashboard',
    title: '7. Operator dashboard: JS shipped, time to overview, main thread at steady state',
    method:
      `A local stack (startLocalStack, fleet off, serving the built dashboard from web/dist) in the bench process and, in a child process, ` +
      `${VENS} simulated VENs plus the site-gt gateway (device/fleet.ts: metering every 5 s, shadow every 30 s); the bench waits until ` +
      `every VEN is online in the registry. Debian's Chromium (headless, playwright-core), viewport ${VIEWPORT.width}×${VIEWPORT.height}, ` +
      "opens the stack's apiUrl, which signs in on loopback and lands on the overview. " +
      `JS shipped: the sum of gzip -9 sizes of every script response of one overview load (the page's network responses, taken by ` +
      `Playwright; web/dist/assets/*.js is listed beside it as a check). Time to a rendered overview: a fresh browser context per load ` +
      `(empty cache), after one untimed warm-up load; from navigation start (the page's performance.timeOrigin) to the first animation ` +
      `frame where the "VENs online" tile reads "${VENS} / ${VENS}" and the VEN table shows rows (page.waitForFunction polling on ` +
      `requestAnimationFrame, returning the page's performance.now()); median of ${LOADS}. The wall clock from page.goto() to the same ` +
      `moment is reported beside it. Steady state: one page left on the overview; after it rendered, ${SETTLE_SEC} s more (the fleet up ` +
      `≥ 30 s), then a ${WINDOW_SEC} s window. A PerformanceObserver for 'longtask' (buffered) and 'long-animation-frame' (for script ` +
      `attribution), installed by addInitScript before the page's own code, records every task over 50 ms; the goal is the longest in ` +
      `the window. Main-thread busy time is the increase of CDP Performance.getMetrics TaskDuration over the window; the JS heap is ` +
      `performance.memory.usedJSHeapSize at its end. Then a ${PROFILE_SEC} s CDP CPU profile (500 µs sampling) of the same page gives ` +
      `self time per function of the minified bundle. CPU per process from /proc.`,
    figures: {
      vens: VENS,
      fleet: { connected: up.connected, devices: devices.length, connectMs: up.ms, meteringPerSec: liveMessagesPerSec },
      jsShipped: {
        source: 'network responses of one overview load',
        totalGzipBytes: jsGzip,
        totalBytes: jsRaw,
        files: scripts,
        dist,
      },
      load: {
        renderedMsMedian: renderedMedian,
        wallMsMedian: wallMedian,
        runs: loads,
        breakdownMedian: Object.fromEntries(
          (
            [
              'documentResponseEnd',
              'scriptsEnd',
              'domContentLoaded',
              'configJsonEnd',
              'sessionEnd',
              'vensEnd',
              'nodesEnd',
              'portfolioEnd',
            ] as const
          ).map((k) => [k, round(bd(k), 1)]),
        ),
        restDoneMedian,
        renderAfterRestMedian: renderAfterRest,
      },
      steady: {
        fleetUpSecAtWindow: fleetSecAtWindow,
        windowSec: seconds,
        renderedRows,
        rendered,
        steadyPageRenderedMs: steadyLoad.renderedMs,
        longTasks: {
          count: longTasks.length,
          maxMs: maxLongTask,
          p99Ms: durations.length ? lt.p99 : null,
          totalBlockingMs: tbt,
          durations,
        },
        longTasksDuringLoad: longLoad.map((e) => round(e.duration)),
        longAnimationFrames: { count: longFrames.length, topScripts: topInvokers },
        mainThread,
        heap: heap ?? { used: m1.JSHeapUsedSize, total: m1.JSHeapTotalSize },
        cdpMetrics: {
          JSHeapUsedSize: mEnd.JSHeapUsedSize,
          JSHeapTotalSize: mEnd.JSHeapTotalSize,
          Nodes: mEnd.Nodes,
          JSEventListeners: mEnd.JSEventListeners,
        },
        cpuPercent: cpu,
        profile: prof,
      },
    },
    rows: [
      ['devices connected / time', `${up.connected}/${devices.length} in ${ms(up.ms)}`],
      [
        'JS shipped (network, gzip -9)',
        `${kb(jsGzip)} in ${scripts.length} file(s) (${kb(jsRaw)} raw): ${scripts.map((s) => `${s.url} ${kb(s.gzipBytes)}`).join(', ')}`,
      ],
      [
        'web/dist/assets/*.js (gzip -9)',
        dist.map((d) => `${d.file} ${kb(d.gzipBytes)}${d.referenced ? ' (index.html)' : ' (lazy)'}`).join(', ') || '—',
      ],
      [
        `time to rendered overview, ${LOADS} loads`,
        `${loads.map((l) => round(l.renderedMs)).join(', ')} ms (median ${ms(renderedMedian)}; wall from goto ${ms(wallMedian)})`,
      ],
      [
        'load breakdown (median, ms from navigation start)',
        `document ${round(bd('documentResponseEnd'))}, scripts ${round(bd('scriptsEnd'))}, DOMContentLoaded ${round(bd('domContentLoaded'))}, ` +
          `/config.json ${round(bd('configJsonEnd'))}, /local/session ${round(bd('sessionEnd'))}, /api/vens ${round(bd('vensEnd'))}, ` +
          `/api/portfolio ${round(bd('portfolioEnd'))}, rendered ${round(renderedMedian)}`,
      ],
      [
        'steady window',
        `${round(seconds)} s, fleet up ${round(fleetSecAtWindow)} s at its start, ${liveMessagesPerSec} metering msg/s`,
      ],
      [
        'long tasks in the window',
        `${longTasks.length}; max ${ms(maxLongTask)}; p99 ${p99Text}; total blocking ${ms(tbt)}`,
      ],
      ['long tasks during the steady page load', longLoad.map((e) => ms(e.duration)).join(', ') || 'none'],
      [
        'main thread busy (TaskDuration / window)',
        `${mainThread.taskPercent}% (script ${mainThread.scriptPercent}%, style ${mainThread.stylePercent}%, layout ${mainThread.layoutPercent}%)`,
      ],
      [
        'JS heap at the end (usedJSHeapSize)',
        heap ? `${mb(heap.used)} of ${mb(heap.total)}` : `${mb(m1.JSHeapUsedSize ?? 0)} (CDP)`,
      ],
      ['DOM nodes / rows rendered', `${int(mEnd.Nodes ?? 0)} / ${renderedRows}`],
      [
        'CPU in the window (% of one core)',
        `stack ${cpu.stack}%, fleet ${cpu.fleet}%, Chromium (all processes) ${cpu.chromium}%; whole machine ${cpu.machine}% of ${cpus().length * 100}% (load average ${cpu.loadavg1m})`,
      ],
    ],
    goals,
    notes,
    seconds: (Date.now() - started) / 1000,
  };
}
