// Read latency of a 30-day daily rollup (`GET /api/analytics/{nodeId}/daily`, its default window) on a 1,000-VEN
// history in the local stack: the rows are put straight into the rollups table (this times the read, not the pass),
// then random VENs are read over HTTP, one request at a time, as a viewer.
import { DynamoRollupStore } from '../lambdas/core/analytics/rollups-dynamodb.js';
import { documentClient } from '../lambdas/core/adapters.js';
import { bucketStart, combine, intervalRow } from '../lambdas/core/analytics/rollups.js';
import { seededRng } from '../device/random.js';
import { startTimedStack, type BenchContext } from './harness.js';
import { atMost, int, ms, percentile, summarize, type BenchResult } from './stats.js';

const VENS = 1000;
const DAYS = 30;
const READS = 300;
/** Reads before the timed ones, not counted: the first requests load and compile the API's code paths. */
const WARMUP = 20;
const DAY = 86_400_000;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now();
  const { stack } = await startTimedStack(ctx);
  const store = new DynamoRollupStore(documentClient(stack.dynamodb.client), stack.dynamodb.tables.rollups, 730);
  const today = bucketStart('1d', Date.now());
  const random = seededRng(30);
  const writeStart = performance.now();
  const ids = Array.from({ length: VENS }, (_, i) => `ven-${String(i).padStart(5, '0')}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const days = Array.from({ length: DAYS }, (_, d) => {
          const start = today - d * DAY;
          return combine('1d', start, [intervalRow(start, [{ time: start, kw: 1 + random() * 4, socPct: 50 }], true)]);
        });
        await store.put(id, '1d', days);
      }
    }),
  );
  const writeSec = (performance.now() - writeStart) / 1000;
  const viewer = stack.config.tokens.viewer;
  const readMs: number[] = [];
  for (let i = -WARMUP; i < READS; i++) {
    const id = ids[Math.floor(random() * VENS)]!;
    const t = performance.now();
    const res = await fetch(`${stack.config.apiUrl}/api/analytics/${id}/daily`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    const body = (await res.json()) as { items?: unknown[] };
    if (i >= 0) readMs.push(performance.now() - t);
    if (res.status !== 200 || body.items?.length !== DAYS)
      throw new Error(`${id}: ${res.status}, ${body.items?.length} rows`);
  }
  const read = summarize(readMs);
  ctx.log(
    `rollups-read: p50 ${ms(read.p50)}, p90 ${ms(
      percentile(
        [...readMs].sort((a, b) => a - b),
        90,
      ),
    )}, p99 ${ms(read.p99)}, max ${ms(Math.max(...readMs))}`,
  );
  return {
    id: 'rollups-read',
    title: "Rollup read: a VEN's 30-day daily rollup on a 1,000-VEN history (local stack)",
    method:
      `The local stack (dynalite in a worker thread, the API over HTTP). ${int(VENS * DAYS)} daily rows (${VENS} VENs × ${DAYS} days) put ` +
      `straight into the rollups table; then ${READS} reads of GET /api/analytics/{nodeId}/daily (default window: the last 30 UTC days) ` +
      `of random VENs (after ${WARMUP} not counted), one at a time, with the viewer token: each is one Query on the node's partition, 30 rows.`,
    figures: { read, vens: VENS, days: DAYS, reads: READS, writeSec },
    rows: [
      ['daily rollup read p50 / p99', `${ms(read.p50)} / ${ms(read.p99)}`],
      ['rows put', `${int(VENS * DAYS)} in ${Math.round(writeSec)} s`],
    ],
    goals: [atMost('30-day daily rollup read p99 (local, 1,000 VENs)', read.p99, 100, 'ms')],
    notes: ["The read does not depend on the fleet's size: one partition per node and tier."],
    seconds: (Date.now() - started) / 1000,
  };
}
