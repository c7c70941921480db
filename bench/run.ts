// `npm run bench`: every benchmark on this machine, one after the other (they would skew each other side by side),
// then the table, bench/results.json and bench/REPORT.md. `npm run bench -- dispatch bundles` runs only those and
// writes nothing. Everything started is stopped, on failure and on Ctrl-C too. The command line is every command's
// (bin/cli.ts): --help, bad usage exit 2, a failure one `error:` line and exit 1, --json.
import './env.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './harness.js';
import { commandLine, fail, output, refuse } from '../bin/cli.js';
import { machine, report, table, type BenchResult } from './stats.js';

type Bench = { id: string; run(ctx: BenchContext): Promise<BenchResult> };

// Order matters: the cost model reads what the others measured.
const BENCHES: Bench[] = [
  { id: 'metering-domain', run: async () => (await import('./metering-domain.js')).run() },
  { id: 'bundles', run: async (ctx) => (await import('./bundles.js')).run(ctx) },
  { id: 'local-stack', run: async (ctx) => (await import('./local-stack.js')).run(ctx) },
  { id: 'dispatch', run: async (ctx) => (await import('./dispatch.js')).run(ctx) },
  { id: 'ledger', run: async () => (await import('./ledger.js')).run() },
  { id: 'event-report', run: async (ctx) => (await import('./event-report.js')).run(ctx) },
  { id: 'rollups-read', run: async (ctx) => (await import('./rollups-read.js')).run(ctx) },
  { id: 'device-agent', run: async (ctx) => (await import('./device-agent.js')).run(ctx) },
  { id: 'dashboard', run: async (ctx) => (await import('./dashboard.js')).run(ctx) },
  { id: 'dr-accuracy', run: async (ctx) => (await import('./dr-accuracy.js')).run(ctx) },
  { id: 'optimise', run: async () => (await import('./optimise.js')).run() },
  { id: 'cost-model', run: async (ctx) => (await import('./cost-model.js')).run(ctx) },
];

const USAGE = `usage: npm run bench [-- <benchmark>...] [--json]
  every benchmark on this machine, one after the other, then bench/results.json and bench/REPORT.md;
  naming benchmarks runs only those and writes nothing (unless --save)
  --json     the results alone on stdout, one JSON value a line (the progress goes to stderr)
  --save     with named benchmarks: their sections replace those in bench/results.json and bench/REPORT.md
benchmarks: ${BENCHES.map((b) => b.id).join(', ')}
VPP_BENCH_QUICK=1 makes local-stack a smoke run (100 VENs, 15 s); docs/benchmarks.md says what each measures`;

const { values, positionals: wanted } = commandLine(USAGE, {
  json: { type: 'boolean' },
  save: { type: 'boolean' },
});
/** `--save` with a partial run: its results replace those benchmarks' sections in results.json and REPORT.md. */
const save = values.save === true;
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.id === w));
if (unknown.length) refuse(`unknown benchmark(s): ${unknown.join(', ')}`);
const selected = wanted.length ? BENCHES.filter((b) => wanted.includes(b.id)) : BENCHES;

const started = new Date();
const dir = await mkdtemp(join(tmpdir(), 'vpp-bench-')).catch(fail);
const log = (line: string) =>
  console.log(`[${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}`);
// the harness (stacks, brokers, certificates) loads only once the command line is known good: --help answers at once
const { createContext, ROOT } = await import('./harness.js');
const ctx = createContext(dir, log);

let interrupted = false;
const stopEverything = async () => {
  await ctx.cleanup();
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: stopping everything the bench started');
  void stopEverything().finally(() => process.exit(130));
});

const results: BenchResult[] = [];
const failures: string[] = [];
try {
  for (const bench of selected) {
    log(`${bench.id}…`);
    try {
      const result = await bench.run(ctx);
      results.push(result);
      log(`${bench.id} done in ${Math.round(result.seconds)} s`);
    } catch (error) {
      const e = error as Error;
      failures.push(`${bench.id}: ${e.message}`);
      log(`${bench.id} FAILED: ${process.env.VPP_DEBUG === '1' ? (e.stack ?? String(e)) : e.message}`);
    } finally {
      await ctx.cleanup();
    }
  }
} finally {
  await stopEverything();
}

const totalSeconds = (Date.now() - started.getTime()) / 1000;
console.log(`\n${table(results)}\n`);
console.log(`total ${Math.round(totalSeconds)} s`);
if (!wanted.length && !failures.length) {
  const m = machine();
  await writeFile(
    join(ROOT, 'bench', 'results.json'),
    `${JSON.stringify({ date: started.toISOString(), totalSeconds, machine: m, results }, null, 2)}\n`,
  );
  await writeFile(join(ROOT, 'bench', 'REPORT.md'), report(results, m, started, totalSeconds));
  console.log('wrote bench/results.json and bench/REPORT.md');
} else if (wanted.length && save && !failures.length) {
  // The other sections stay as the last full run left them; the report says which were measured later, and when.
  const file = join(ROOT, 'bench', 'results.json');
  const previous = JSON.parse(await readFile(file, 'utf8')) as {
    date: string;
    totalSeconds: number;
    machine: ReturnType<typeof machine>;
    results: BenchResult[];
    refreshed?: Record<string, string>;
  };
  const merged = previous.results.map((r) => results.find((n) => n.id === r.id) ?? r);
  for (const r of results) if (!merged.some((m) => m.id === r.id)) merged.push(r);
  const refreshed = {
    ...previous.refreshed,
    ...Object.fromEntries(results.map((r) => [r.id, started.toISOString()])),
  };
  await writeFile(file, `${JSON.stringify({ ...previous, results: merged, refreshed }, null, 2)}\n`);
  await writeFile(
    join(ROOT, 'bench', 'REPORT.md'),
    report(merged, previous.machine, new Date(previous.date), previous.totalSeconds, refreshed),
  );
  console.log(`wrote ${results.map((r) => r.id).join(', ')} into bench/results.json and bench/REPORT.md`);
} else if (wanted.length) {
  for (const r of results) console.log(`${r.id}:\n${r.rows.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  console.log('a partial run: bench/results.json and bench/REPORT.md left as they were (--save writes its sections)');
}
if (values.json) for (const r of results) output(r);
if (failures.length) fail(new Error(failures.join('; ')));
process.exit(0);
