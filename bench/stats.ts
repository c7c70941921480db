// What every benchmark shares: summary statistics, goals, the machine, and the table / results.json / REPORT.md.
import { cpus, totalmem } from 'node:os';

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export const median = (values: readonly number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** A goal as the issue states it, and how the measurement did against it. */
export interface Goal {
  readonly name: string;
  /** `≤ 2× floor`, `≥ 20,000 msg/s`. */
  readonly target: string;
  /** The measured figure, formatted with its unit; `not run` when it could not be measured here. */
  readonly value: string;
  readonly met: boolean | null;
  /** For a miss: by how much and why, in one line. */
  readonly note?: string;
}

const withUnit = (v: string, unit: string) =>
  unit.startsWith('×') ? `${v}${unit}` : unit === '$' ? `$${v}` : `${v} ${unit}`.trim();

/** `at most`: met when value ≤ limit; the note says by how much it missed. */
export function atMost(
  name: string,
  value: number,
  limit: number,
  unit: string,
  fmt = (v: number) => String(round(v)),
): Goal {
  const met = value <= limit;
  return {
    name,
    target: `≤ ${withUnit(fmt(limit), unit)}`,
    value: withUnit(fmt(value), unit),
    met,
    ...(!met && { note: `by ${withUnit(fmt(value - limit), unit)} (${round(value / limit, 2)}× the limit)` }),
  };
}

export function atLeast(
  name: string,
  value: number,
  floor: number,
  unit: string,
  fmt = (v: number) => String(round(v)),
): Goal {
  const met = value >= floor;
  return {
    name,
    target: `≥ ${withUnit(fmt(floor), unit)}`,
    value: withUnit(fmt(value), unit),
    met,
    ...(!met && { note: `by ${withUnit(fmt(floor - value), unit)} (${round(value / floor, 2)}× the goal)` }),
  };
}

export const notRun = (name: string, target: string, why: string): Goal => ({
  name,
  target,
  value: 'not run',
  met: null,
  note: why,
});

export interface BenchResult {
  readonly id: string;
  readonly title: string;
  /** How it was measured, in a few sentences (goes to REPORT.md). */
  readonly method: string;
  /** Every figure, machine readable (goes to results.json). */
  readonly figures: Record<string, unknown>;
  /** Human-readable rows for REPORT.md: [label, value]. */
  readonly rows: readonly (readonly [string, string])[];
  readonly goals: readonly Goal[];
  /** Findings, misses explained, changes made. */
  readonly notes: readonly string[];
  readonly seconds: number;
}

export interface Machine {
  readonly cores: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machine(): Machine {
  const c = cpus();
  return {
    cores: c.length,
    model: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function round(
  v: number,
  digits = v !== 0 && Math.abs(v) < 10 ? 2 : v !== 0 && Math.abs(v) < 100 ? 1 : 0,
): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export const ms = (v: number) => `${round(v)} ms`;
export const int = (v: number) => Math.round(v).toLocaleString('en-US');
export const mb = (bytes: number) => `${round(bytes / 2 ** 20)} MB`;
export const kb = (bytes: number) => `${round(bytes / 1024)} KB`;
export const usd = (v: number) => `$${v.toFixed(v < 0.01 ? 4 : 3)}`;

const verdict = (g: Goal) => (g.met === null ? 'not run' : g.met ? 'met' : 'MISSED');
/** `MISSED by 12 ms (1.2× the limit)`, `not run: mosquitto is not installed`. */
const withNote = (g: Goal, v: string) => (g.note ? `${v}${g.note.startsWith('by ') ? ' ' : ': '}${g.note}` : v);

/** The console table: one line per goal. */
export function table(results: readonly BenchResult[]): string {
  const rows = [['benchmark', 'goal', 'measured', 'target', 'verdict']];
  for (const r of results) for (const g of r.goals) rows.push([r.id, g.name, g.value, g.target, verdict(g)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const md = (s: string) => s.replaceAll('|', '\\|');

export function report(
  results: readonly BenchResult[],
  m: Machine,
  date: Date,
  totalSeconds: number,
  refreshed: Record<string, string> = {},
): string {
  const later = Object.entries(refreshed);
  const out: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` on ${date.toISOString()} in ${Math.round(totalSeconds)} s. Every figure below comes from that run` +
      (later.length
        ? `, except these sections, measured again alone (\`npm run bench -- --save <id>\`): ${later.map(([id, at]) => `${id} on ${at}`).join(', ')}; `
        : '; ') +
      'rerun it to refresh this file and `bench/results.json`.',
    '',
    `Machine: ${m.cores} × ${m.model}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}.`,
    '',
    '## Summary',
    '',
    '| benchmark | goal | measured | target | verdict |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    for (const g of r.goals)
      out.push(`| ${r.id} | ${md(g.name)} | ${md(g.value)} | ${md(g.target)} | ${md(withNote(g, verdict(g)))} |`);
  }
  for (const r of results) {
    out.push('', `## ${r.title} (\`bench/${r.id}.ts\`, ${Math.round(r.seconds)} s)`, '', `**Method.** ${r.method}`, '');
    if (r.rows.length) {
      out.push('| figure | value |', '| --- | --- |', ...r.rows.map(([k, v]) => `| ${md(k)} | ${md(v)} |`), '');
    }
    out.push('**Goals.**', '');
    for (const g of r.goals)
      out.push(`- ${g.name}: ${g.value} (target ${g.target}): ${withNote(g, `**${verdict(g)}**`)}`);
    if (r.notes.length) out.push('', '**Notes.**', '', ...r.notes.map((n) => `- ${n}`));
  }
  return `${out.join('\n')}\n`;
}
