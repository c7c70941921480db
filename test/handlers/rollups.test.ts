// The rollup pass's business metric: RollupLag, how far its closed buckets trail now, is what CloudWatch graphs and
// alarms on (lambdas/core/common/metrics.ts); a pass that falls behind must say so in it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rollupPass } from '../../lambdas/rollups/handler.js';
import { ROLLUP_GRACE_MS } from '../../lambdas/core/analytics/rollup-pass.js';
import { bucketStart } from '../../lambdas/core/analytics/rollups.js';
import { BUSINESS_METRICS } from '../../lambdas/core/common/metrics.js';

const QUARTER = 900_000;

/** A pass over an empty fleet whose watermark is `behind` ms before the last bucket it may close. */
function ports(closeUntil: number, behind: number) {
  return {
    telemetry: { query: async () => ({ items: [] }), write: async () => {} },
    rollups: {
      watermark: async () => closeUntil - behind,
      dirty: async () => [],
      setWatermark: async () => {},
      put: async () => {},
      intervals: async () => new Map(),
    },
    fleet: async () => ({ devices: [], sites: new Map(), portfolio: [] }),
  } as never;
}

describe('a rollup pass', () => {
  afterEach(() => {
    delete process.env.VPP_METRICS;
    vi.restoreAllMocks();
  });

  it('writes how far its closed buckets trail now: under a quarter and the grace when caught up, still a day when two days behind (it closes a day per pass)', async () => {
    process.env.VPP_METRICS = 'stdout';
    const now = Date.UTC(2026, 0, 10, 12, 7);
    const closeUntil = bucketStart('15m', now - ROLLUP_GRACE_MS);
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array) => (written.push(String(chunk)), true),
    );
    await rollupPass(ports(closeUntil, 0), now);
    // 96 quarters (a day) at most per pass: two days behind, it closes one and still trails a day
    await rollupPass(ports(closeUntil, 2 * 96 * QUARTER), now);
    vi.restoreAllMocks();
    const lags = written
      .join('')
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((l) => l._aws.CloudWatchMetrics[0].Metrics[0].Name === BUSINESS_METRICS.rollupLag)
      .map((l) => l[BUSINESS_METRICS.rollupLag] as number);
    expect(lags).toEqual([now - closeUntil, now - closeUntil + 96 * QUARTER]);
    expect(lags[0]).toBeLessThan(QUARTER + ROLLUP_GRACE_MS);
  });
});
