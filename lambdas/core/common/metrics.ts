// Business metrics in CloudWatch's embedded metric format (Powertools Metrics), built once per process: one EMF line
// per measurement on stdout, which Lambda's log delivery turns into CloudWatch metrics (namespace and service from
// POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME, set by lib/observability.ts). Outside Lambda (the local
// stack, tests) nothing is written unless VPP_METRICS=stdout.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The metric names, as the alarms in lib/observability.ts read them. */
export const BUSINESS_METRICS = {
  commandAckLatency: 'CommandAckLatency',
  commandTimeouts: 'CommandTimeouts',
  refusals: 'Refusals',
  rollupLag: 'RollupLag',
  settlementFailures: 'SettlementFailures',
} as const;

/** The namespace of a stack's business metrics. */
export const metricsNamespace = (stackName: string) => `VPP/${stackName}`;

let metrics: Metrics | undefined;

const enabled = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME) || process.env.VPP_METRICS === 'stdout';

function emit(
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
  dimensions: Record<string, string> = {},
): void {
  if (!enabled()) return;
  metrics ??= new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'VPP',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'vpp',
  });
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

export const businessMetrics = {
  /** One command's time from its send to its ACK's arrival (acked or rejected), by the command's op. */
  commandAckLatency: (op: string, ms: number) =>
    emit(BUSINESS_METRICS.commandAckLatency, MetricUnit.Milliseconds, ms, { op }),
  /** Commands nobody acknowledged in time, per housekeeping run. */
  commandTimeouts: (count: number) => emit(BUSINESS_METRICS.commandTimeouts, MetricUnit.Count, count),
  /** One refused device message, by its reason. */
  refusal: (reason: string) => emit(BUSINESS_METRICS.refusals, MetricUnit.Count, 1, { reason }),
  /** How far the rollup pass's closed buckets trail now, after a pass. */
  rollupLag: (ms: number) => emit(BUSINESS_METRICS.rollupLag, MetricUnit.Milliseconds, ms),
  /** Ended fleet DR events a housekeeping run failed to settle. */
  settlementFailures: (count: number) => emit(BUSINESS_METRICS.settlementFailures, MetricUnit.Count, count),
};
