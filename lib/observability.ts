// Alarms on what must never pile up silently (dead letters, Lambda errors and throttles) and the Powertools
// settings every Lambda logs with.
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUSINESS_METRICS, metricsNamespace } from '../lambdas/core/common/metrics.js';

/** The rollup pass runs every 15 minutes and closes a bucket 15 minutes after it ends: two hours behind is stuck. */
export const ROLLUP_LAG_ALARM = Duration.hours(2);

export type PowertoolsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface ObservabilityProps {
  readonly deadLetterQueue: IQueue;
  /** The project's Lambdas, keyed by a short name used in the alarm descriptions. */
  readonly functions: Readonly<Record<string, { readonly function: LambdaFunction }>>;
  /** @default 'vpp' */
  readonly serviceName?: string;
  /** @default 'INFO' */
  readonly logLevel?: PowertoolsLogLevel;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** The live feed's IoT custom authorizer: public, so its invocations are watched. */
  readonly authorizer?: { readonly function: LambdaFunction; readonly invocationsPer5Min: number };
}

export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'VPP alarms', enforceSSL: true });
    // A topic policy replaces SNS's default one, which is what lets the account's alarms publish: say so again, for
    // this account's alarms only.
    const stack = Stack.of(this);
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum' });
    this.alarm(
      'DeadLetters',
      deadLetters,
      'Messages wait in the dead-letter queue: a rule action failed or a stream batch was given up on (refused device input goes to the refusals queue)',
    );
    const service = props.serviceName ?? 'vpp';
    const namespace = metricsNamespace(Stack.of(this).stackName);
    for (const [name, { function: fn }] of Object.entries(props.functions)) {
      fn.addEnvironment('POWERTOOLS_SERVICE_NAME', service);
      fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', namespace);
      fn.addEnvironment('POWERTOOLS_LOG_LEVEL', props.logLevel ?? 'INFO');
      this.alarm(`${name}Errors`, fn.metricErrors({ statistic: 'Sum' }), `The ${name} Lambda failed invocations`);
      this.alarm(`${name}Throttles`, fn.metricThrottles({ statistic: 'Sum' }), `The ${name} Lambda was throttled`);
    }
    // The business metrics the Lambdas write (lambdas/core/common/metrics.ts) where a value means money or stale data
    const business = (metricName: string, statistic: string, period: Duration) =>
      new Metric({ namespace, metricName, dimensionsMap: { service }, statistic, period });
    this.alarm(
      'SettlementFailures',
      business(BUSINESS_METRICS.settlementFailures, 'Sum', Duration.minutes(5)),
      'An ended fleet DR event could not be settled: its report and ledger entries are missing until a run succeeds',
    );
    this.alarm(
      'RollupLag',
      business(BUSINESS_METRICS.rollupLag, 'Maximum', Duration.minutes(15)),
      `The rollup pass trails now by more than ${ROLLUP_LAG_ALARM.toHumanString()}: the dashboard's 15-minute, hourly and daily figures are stale`,
      ROLLUP_LAG_ALARM.toMilliseconds(),
    );
    if (props.authorizer) {
      const { function: fn, invocationsPer5Min } = props.authorizer;
      this.alarm(
        'AuthorizerInvocations',
        fn.metricInvocations({ statistic: 'Sum', period: Duration.minutes(5) }),
        `More than ${invocationsPer5Min} live-feed authorizer invocations in 5 minutes: someone is connecting with bad tokens in a loop`,
        invocationsPer5Min,
      );
    }
  }

  /**
   * Command → ACK latency, p50 and p99 per command op (one line per op the fleet answered). No alarm: a slow ACK is
   * the device's link; a slow ACK path shows as the ack Lambda's iterator age, which has one.
   */
  commandAckLatencyWidget(): GraphWidget {
    const namespace = metricsNamespace(Stack.of(this).stackName);
    const search = (statistic: string) =>
      new MathExpression({
        expression: `SEARCH('{${namespace},op,service} MetricName="${BUSINESS_METRICS.commandAckLatency}"', '${statistic}', 300)`,
        label: statistic,
        period: Duration.minutes(5),
      });
    return new GraphWidget({
      title: 'Command → ACK latency (ms) by op',
      left: [search('p50'), search('p99')],
      width: 12,
    });
  }

  private alarm(id: string, metric: IMetric, description: string, threshold?: number): void {
    this.alarms.push(alarmOn(this, id, { metric, description, topic: this.alarmTopic, threshold }));
  }
}

/**
 * An alarm that publishes to `topic` when `metric` goes above `threshold` (default 0: any occurrence) in one period.
 * No data is not a breach: these metrics only exist while something happens.
 */
export function alarmOn(
  scope: Construct,
  id: string,
  props: { metric: IMetric; description: string; topic: ITopic; threshold?: number },
): Alarm {
  const alarm = new Alarm(scope, id, {
    metric: props.metric,
    alarmDescription: props.description,
    threshold: props.threshold ?? 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(props.topic));
  return alarm;
}
