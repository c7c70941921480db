// Data quality of one device over a window (README, "Data quality"): expected vs received samples, gaps, late and
// out-of-order samples, quiet. Pure arithmetic over the samples' times (and write times, where the store keeps them).
import { DEFAULT_REPORT_INTERVAL_MS, ONLINE_MARGIN_MS } from '../fleet/registry-dynamodb.js';

export interface QualitySample {
  /** The sample's own time (epoch ms). */
  readonly time: number;
  /** When the store wrote it (epoch ms); absent where the store keeps no write time (Timestream). */
  readonly writtenAt?: number;
}

export interface QualityInput {
  /** The window [from, to), epoch ms; the part after `now` is not counted. */
  readonly from: number;
  readonly to: number;
  readonly now: number;
  /** The device's samples in the window, any order (a time given twice counts once). */
  readonly samples: readonly QualitySample[];
  /** How often the device sends, as the registry learnt it (a message may carry several samples). */
  readonly reportIntervalMs?: number;
  /** Its newest sample at all, up to now (may lie after the window). */
  readonly lastSampleAt?: number;
}

export interface Gap {
  readonly start: string;
  readonly end: string;
  readonly length_sec: number;
}

export interface QualityFigures {
  readonly expected_interval_sec: number;
  readonly expected: number;
  readonly received: number;
  readonly completeness_pct: number;
  /** Newest first. */
  readonly gaps: Gap[];
  /** Null where the store keeps no write times. */
  readonly late: number | null;
  readonly late_after_sec: number;
  readonly out_of_order: number | null;
  readonly quiet: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();
const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * The device's sample interval: the most frequent spacing between its consecutive samples in the window (whole
 * seconds; the shorter on a tie) once it occurs at least twice, else the registry's reporting interval, else 60 s.
 * The registry's interval is the message interval: an agent batching 12 five-second samples a message reports every
 * minute, so it cannot be the sample interval by itself.
 */
export function sampleIntervalMs(times: readonly number[], reportIntervalMs?: number): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < times.length; i++) {
    const sec = Math.max(1, Math.round((times[i]! - times[i - 1]!) / 1000));
    counts.set(sec, (counts.get(sec) ?? 0) + 1);
  }
  let best: [number, number] | undefined;
  for (const [sec, n] of counts)
    if (n >= 2 && (!best || n > best[1] || (n === best[1] && sec < best[0]))) best = [sec, n];
  return best
    ? best[0] * 1000
    : reportIntervalMs && reportIntervalMs > 0
      ? reportIntervalMs
      : DEFAULT_REPORT_INTERVAL_MS;
}

/** Heard from within two reporting intervals (and the registry's margin for batching and handling), as isOnline judges. */
export const silenceMs = (intervalMs: number) => 2 * intervalMs + ONLINE_MARGIN_MS;

/** No sample within two reporting intervals of now: the registry's isOnline says offline at that point too. */
export const isQuiet = (now: number, lastSampleAt: number | undefined, intervalMs = DEFAULT_REPORT_INTERVAL_MS) =>
  lastSampleAt === undefined || !(now - lastSampleAt <= silenceMs(intervalMs));

export function dataQuality(input: QualityInput): QualityFigures {
  const end = Math.max(input.from, Math.min(input.to, input.now));
  const inWindow = input.samples.filter((s) => s.time >= input.from && s.time < end);
  const times = [...new Set(inWindow.map((s) => s.time))].sort((a, b) => a - b);
  const interval = sampleIntervalMs(times, input.reportIntervalMs);
  const expected = Math.max(1, Math.round((end - input.from) / interval));
  // a device is heard at most every reporting interval (or sample interval, when longer): quiet past two of them
  const reporting = Math.max(interval, input.reportIntervalMs ?? 0);
  const silence = silenceMs(reporting);
  const newest = Math.max(input.lastSampleAt ?? -Infinity, times.at(-1) ?? -Infinity);
  return {
    expected_interval_sec: interval / 1000,
    expected,
    received: times.length,
    completeness_pct: round2(Math.min(100, (times.length / expected) * 100)),
    gaps: gapsOf([input.from, ...times, end], 2 * interval),
    late: inWindow.every((s) => s.writtenAt !== undefined)
      ? inWindow.filter((s) => s.writtenAt! - s.time > silence).length
      : null,
    late_after_sec: silence / 1000,
    out_of_order: outOfOrder(inWindow),
    quiet: isQuiet(input.now, newest > -Infinity ? newest : undefined, reporting),
  };
}

/** Spans between consecutive points longer than `longerThan`, newest first. */
function gapsOf(points: readonly number[], longerThan: number): Gap[] {
  const gaps: Gap[] = [];
  for (let i = points.length - 1; i > 0; i--) {
    const [start, end] = [points[i - 1]!, points[i]!];
    if (end - start > longerThan) gaps.push({ start: iso(start), end: iso(end), length_sec: (end - start) / 1000 });
  }
  return gaps;
}

/**
 * Samples whose time is before that of a sample stored by an earlier write (samples of one write are one arrival,
 * in no order among themselves). Null where the store keeps no write times.
 */
function outOfOrder(samples: readonly QualitySample[]): number | null {
  if (!samples.every((s) => s.writtenAt !== undefined)) return null;
  const byWrite = [...samples].sort((a, b) => a.writtenAt! - b.writtenAt!);
  let count = 0;
  let newestBefore = -Infinity;
  for (let i = 0; i < byWrite.length;) {
    let j = i;
    let newestHere = -Infinity;
    for (; j < byWrite.length && byWrite[j]!.writtenAt === byWrite[i]!.writtenAt; j++) {
      if (byWrite[j]!.time < newestBefore) count++;
      newestHere = Math.max(newestHere, byWrite[j]!.time);
    }
    newestBefore = Math.max(newestBefore, newestHere);
    i = j;
  }
  return count;
}
