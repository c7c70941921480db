// The business metrics: EMF lines CloudWatch reads from a Lambda's stdout, nothing outside Lambda unless asked.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refuse } from '../../../lambdas/core/ingest/rule-handler.js';
import { BUSINESS_METRICS, businessMetrics } from '../../../lambdas/core/common/metrics.js';

function captureStdout(): { lines: () => Record<string, any>[]; restore: () => void } {
  const written: string[] = [];
  const spy = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l)),
    restore: () => spy.mockRestore(),
  };
}

describe('business metrics', () => {
  afterEach(() => {
    delete process.env.VPP_METRICS;
    vi.restoreAllMocks();
  });

  it('writes nothing outside Lambda (the local stack, tests)', () => {
    const out = captureStdout();
    businessMetrics.rollupLag(1000);
    out.restore();
    expect(out.lines()).toEqual([]);
  });

  it("writes one EMF line per refusal, with its reason as a dimension, in the stack's namespace", async () => {
    process.env.VPP_METRICS = 'stdout';
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'VPP/Test';
    const out = captureStdout();
    const errors = { reject: async () => {} };
    await refuse(
      { topic: 'volttron/metering', clientId: 'ven-001', payload: { x: 1 } },
      { ok: false, reason: 'schema', message: 'x: bad' },
      { errors } as never,
    );
    businessMetrics.rollupLag(1_800_000);
    out.restore();
    const [refusal, lag] = out.lines();
    expect(refusal).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: 'VPP/Test', Metrics: [{ Name: BUSINESS_METRICS.refusals, Unit: 'Count' }] }],
      },
      reason: 'schema',
      Refusals: 1,
    });
    expect(refusal!._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['service', 'reason']));
    expect(lag).toMatchObject({
      RollupLag: 1_800_000,
      _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'RollupLag', Unit: 'Milliseconds' }] }] },
    });
    expect(lag!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  });
});
