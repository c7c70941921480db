// The housekeeping run's business metrics: CloudWatch reads CommandTimeouts and SettlementFailures from the EMF lines
// it writes to stdout (lambdas/core/common/metrics.ts); the settlement-failure alarm is only as good as that line.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { housekeeping, type HousekeepingPorts } from '../../lambdas/command-timeouts/handler.js';
import { BUSINESS_METRICS } from '../../lambdas/core/common/metrics.js';

function emfLines(written: string[]): Record<string, any>[] {
  return written
    .join('')
    .split('\n')
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

const HOUR = 3_600_000;

describe('a housekeeping run', () => {
  afterEach(() => {
    delete process.env.VPP_METRICS;
    vi.restoreAllMocks();
  });

  it('writes the commands it timed out and the events it failed to settle as metrics, 0 included', async () => {
    process.env.VPP_METRICS = 'stdout';
    const now = Date.UTC(2026, 0, 10, 12);
    const due = ['c-1', 'c-2'];
    const ended = { eventId: 'evt-1', startedAt: now - 3 * HOUR, endsAt: now - 2 * HOUR, allocations: [] };
    const storeDown = () => Promise.reject(new Error('store down'));
    const ports = (events: unknown[]) =>
      ({
        settings: { commandTimeoutSec: 30 },
        commands: {
          listDue: async () => ({ items: due.map((correlationId) => ({ correlationId })) }),
          timeOut: async () => true,
          get: async () => undefined,
        },
        fleetEvents: {
          list: async () => ({ items: events }),
          getReport: storeDown,
          putReport: storeDown,
          get: storeDown,
        },
        timeseries: { query: storeDown },
        metadata: { get: storeDown },
      }) as unknown as HousekeepingPorts;

    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array) => (written.push(String(chunk)), true),
    );
    await expect(housekeeping(ports([ended]), now)).rejects.toThrow(/settlement failed for evt-1/);
    await housekeeping(ports([]), now);
    vi.restoreAllMocks();

    const values = emfLines(written).map((l) => {
      const name = l._aws.CloudWatchMetrics[0].Metrics[0].Name as string;
      return [name, l[name]];
    });
    expect(values).toEqual([
      [BUSINESS_METRICS.commandTimeouts, 2],
      [BUSINESS_METRICS.settlementFailures, 1],
      [BUSINESS_METRICS.commandTimeouts, 2],
      [BUSINESS_METRICS.settlementFailures, 0],
    ]);
  });
});
