// Running the fleet: IoT Core's own logs, alarms on the IoT metrics that say devices or rules are in trouble, a
// CloudWatch dashboard of the ingest path, and Device Defender (a daily audit of the account's certificates and
// policies, and a security profile on the device group). Observability (lib/observability.ts) holds the Lambda and
// dead-letter alarms and the alarm topic every alarm here publishes to.
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  MathExpression,
  TextWidget,
  type Alarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { ManagedPolicy, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import {
  CfnAccountAuditConfiguration,
  CfnLogging,
  CfnScheduledAudit,
  CfnSecurityProfile,
  type CfnThingGroup,
} from 'aws-cdk-lib/aws-iot';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { iotAccountPrincipal } from './iot-service-role.js';
import { alarmOn } from './observability.js';

/** The log group IoT Core writes to: fixed by AWS, one per account and region. */
export const IOT_LOG_GROUP = 'AWSIotLogsV2';

export type IotLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'DISABLED';

/** Device Defender's CloudFormation types: not offered in every region where IoT Core is (lib/regions.ts). */
export const DEFENDER_RESOURCE_TYPES = [
  'AWS::IoT::AccountAuditConfiguration',
  'AWS::IoT::ScheduledAudit',
  'AWS::IoT::SecurityProfile',
] as const;

/** The Device Defender audit checks the stack enables and runs daily (names as the ScheduledAudit API spells them). */
export const AUDIT_CHECKS = {
  DEVICE_CERTIFICATE_SHARED_CHECK: 'deviceCertificateSharedCheck',
  IOT_POLICY_OVERLY_PERMISSIVE_CHECK: 'iotPolicyOverlyPermissiveCheck',
  CONFLICTING_CLIENT_IDS_CHECK: 'conflictingClientIdsCheck',
  REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK: 'revokedDeviceCertificateStillActiveCheck',
} as const;

/**
 * Messages one device may send in 5 minutes before Device Defender flags it: the volttron profile sends about 130 (metering
 * and telemetry every 5 s, the shadow every 30 s), the economy profile about 10; 600 (2 a second) leaves room for
 * an active DR event's per-sample sends and flags a runaway or hijacked device.
 */
export const MESSAGES_PER_5_MIN = 600;
/** Authorization failures one device may have in 5 minutes: a well-configured device has none. */
export const AUTH_FAILURES_PER_5_MIN = 5;
/** Refused connects across the account in 5 minutes before an alarm: a few are a device with a stale certificate or an operator's expired token. */
export const CONNECT_AUTH_ERRORS_PER_5_MIN = 10;

/** How far behind its stream a Lambda may fall before an alarm: well inside the mapping's 6-hour maximum record age. */
export const ITERATOR_AGE_ALARM = Duration.hours(1);

export interface OperationsProps {
  /** Deployed name of each IoT rule (Ingest.ruleNames). */
  readonly ruleNames: Readonly<Record<string, string>>;
  /** The Lambdas of the ingest path, by a short name: errors, duration and, when stream-fed, iterator age. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The rules' streams, if the ingest path has them. @default none */
  readonly streams?: Readonly<Record<string, IStream>>;
  readonly deadLetterQueue: IQueue;
  /** Every device: the security profile watches it. */
  readonly thingGroup: CfnThingGroup;
  readonly alarmTopic: ITopic;
  /** IoT Core's log level (AWS::IoT::Logging). @default 'WARN' */
  readonly iotLogLevel?: IotLogLevel;
  /**
   * Whether this stack owns the account-wide IoT settings of its region: logging and the Device Defender audit
   * configuration exist once per account and region, and a second stack creating them would fail. @default true
   */
  readonly accountSettings?: boolean;
  /**
   * Device Defender's audit and security profile; off where CloudFormation does not offer its types. @default true
   */
  readonly deviceDefender?: boolean;
}

export class Operations extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  /** Set with Device Defender. */
  readonly securityProfile?: CfnSecurityProfile;
  /** Set when the stack owns the account settings. */
  readonly logging?: CfnLogging;
  readonly auditConfiguration?: CfnAccountAuditConfiguration;
  readonly scheduledAudit?: CfnScheduledAudit;
  /** Lets IoT (Device Defender) publish its alerts to the alarm topic. */
  readonly alertRole: Role;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OperationsProps,
  ) {
    super(scope, id);
    this.alertRole = new Role(this, 'DefenderAlertRole', {
      assumedBy: iotAccountPrincipal(),
      description: 'Lets Device Defender publish audit findings and security profile violations to the alarm topic',
    });
    props.alarmTopic.grantPublish(this.alertRole);
    const defender = props.deviceDefender ?? true;
    if (props.accountSettings ?? true) {
      this.logging = this.iotLogging(props.iotLogLevel ?? 'WARN');
      if (defender) [this.auditConfiguration, this.scheduledAudit] = this.audit();
    }
    if (defender) this.securityProfile = this.deviceBehaviour();
    this.iotAlarms();
    this.streamAlarms();
    this.dashboard = this.ingestDashboard();
  }

  /** IoT Core writes to the fixed log group AWSIotLogsV2 of the account and region. */
  private iotLogging(level: IotLogLevel): CfnLogging {
    const role = new Role(this, 'IotLoggingRole', {
      assumedBy: iotAccountPrincipal(),
      description: 'Lets AWS IoT Core write its logs to CloudWatch Logs (AWSIotLogsV2)',
    });
    const logGroup = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${IOT_LOG_GROUP}`;
    // each action on its own resource type: the group's actions on the group, the streams' on its streams
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:PutMetricFilter', 'logs:PutRetentionPolicy'],
        resources: [logGroup],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup}:log-stream:*`],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${IOT_LOG_GROUP}:log-stream:*]`,
      reason:
        'IoT Core names its log streams itself, inside its one fixed log group AWSIotLogsV2: the streams cannot be listed in advance.',
    });
    return new CfnLogging(this, 'IotLogging', {
      accountId: Aws.ACCOUNT_ID,
      defaultLogLevel: level,
      roleArn: role.roleArn,
    });
  }

  /** The checks enabled for the account and run daily; findings go to the alarm topic. */
  private audit(): [CfnAccountAuditConfiguration, CfnScheduledAudit] {
    const role = new Role(this, 'AuditRole', {
      assumedBy: iotAccountPrincipal(),
      description: 'Lets Device Defender read the IoT configuration it audits',
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSIoTDeviceDefenderAudit')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit]',
      reason:
        'The audit reads certificates, policies and other IoT configuration across the account; AWS maintains the read-only policy as checks are added.',
    });
    const configuration = new CfnAccountAuditConfiguration(this, 'AuditConfiguration', {
      accountId: Aws.ACCOUNT_ID,
      roleArn: role.roleArn,
      auditCheckConfigurations: Object.fromEntries(
        Object.values(AUDIT_CHECKS).map((check) => [check, { enabled: true }]),
      ),
      auditNotificationTargetConfigurations: {
        sns: { targetArn: this.props.alarmTopic.topicArn, roleArn: this.alertRole.roleArn, enabled: true },
      },
    });
    const scheduled = new CfnScheduledAudit(this, 'DailyAudit', {
      frequency: 'DAILY',
      targetCheckNames: Object.keys(AUDIT_CHECKS),
    });
    // A scheduled audit may only name checks the account configuration has enabled.
    scheduled.addResourceDependency(configuration);
    return [configuration, scheduled];
  }

  /** Per device, over 5 minutes: how many messages it sends and how often it is refused. */
  private deviceBehaviour(): CfnSecurityProfile {
    const criteria = (count: number, datapoints: number) => ({
      comparisonOperator: 'greater-than',
      value: { count: String(count) },
      durationSeconds: 300,
      consecutiveDatapointsToAlarm: datapoints,
      consecutiveDatapointsToClear: datapoints,
    });
    return new CfnSecurityProfile(this, 'DeviceBehaviour', {
      securityProfileDescription: 'VPP devices: message rate and authorization failures',
      behaviors: [
        // two 5-minute windows in a row: a single burst (a reconnect replaying its buffer) is not a violation
        { name: 'MessagesSent', metric: 'aws:num-messages-sent', criteria: criteria(MESSAGES_PER_5_MIN, 2) },
        {
          name: 'AuthorizationFailures',
          metric: 'aws:num-authorization-failures',
          criteria: criteria(AUTH_FAILURES_PER_5_MIN, 1),
        },
      ],
      targetArns: [this.props.thingGroup.attrArn],
      alertTargets: { SNS: { alertTargetArn: this.props.alarmTopic.topicArn, roleArn: this.alertRole.roleArn } },
    });
  }

  /** `SUM(metric)` of AWS/IoT over `dimensions`, for this stack's rules when `rules`: a Metrics Insights query. */
  iotQuery(metric: string, dimensions: string[], label: string, rules?: readonly string[]): IMetric {
    const where = rules?.length ? ` WHERE ${rules.map((r) => `RuleName = '${r}'`).join(' OR ')}` : '';
    return new MathExpression({
      expression: `SELECT SUM("${metric}") FROM SCHEMA("AWS/IoT", ${dimensions.join(', ')})${where}`,
      label,
      period: Duration.minutes(5),
    });
  }

  /** The IoT metrics that mean lost messages, refused devices or a quota reached (AWS/IoT, see the README). */
  private iotAlarms(): void {
    const rules = Object.values(this.props.ruleNames);
    const alarm = (id: string, metric: IMetric, description: string, threshold?: number) =>
      this.alarms.push(alarmOn(this, id, { metric, description, topic: this.props.alarmTopic, threshold }));
    alarm(
      'ConnectAuthErrors',
      this.iotQuery('Connect.AuthError', ['Protocol'], 'Connect.AuthError'),
      `More than ${CONNECT_AUTH_ERRORS_PER_5_MIN} connections refused by IoT policy in 5 minutes: a device with a wrong certificate or policy, or someone probing`,
      CONNECT_AUTH_ERRORS_PER_5_MIN,
    );
    alarm(
      'ConnectThrottled',
      this.iotQuery('Connect.Throttle', ['Protocol'], 'Connect.Throttle'),
      'IoT throttled connects: the account connect rate quota is reached (a reconnect storm?)',
    );
    alarm(
      'PublishThrottled',
      this.iotQuery('PublishIn.Throttle', ['Protocol'], 'PublishIn.Throttle'),
      'IoT throttled publishes: a device or the account passed its publish rate',
    );
    alarm(
      'RuleActionFailures',
      this.iotQuery('Failure', ['ActionType', 'RuleName'], 'rule action Failure', rules),
      "A rule's action failed: the message went to the error action (the dead-letter queue)",
    );
    alarm(
      'RuleErrorActionFailures',
      this.iotQuery('ErrorActionFailure', ['ActionType', 'RuleName'], 'ErrorActionFailure', rules),
      "A rule's action and its error action both failed: messages were lost",
    );
    alarm(
      'RuleThrottled',
      this.iotQuery('RuleMessageThrottled', ['RuleName'], 'RuleMessageThrottled', rules),
      'The rules engine throttled messages of our rules (account rules quota)',
    );
    alarm(
      'RuleParseErrors',
      this.iotQuery('ParseError', ['RuleName'], 'ParseError', rules),
      'Messages to our rules were not JSON: dropped before the rule ran',
    );
    alarm(
      'BasicIngestRuleNotFound',
      this.iotQuery('RuleNotFound', ['RuleName'], 'RuleNotFound'),
      'Devices published to $aws/rules/<name> of a rule that does not exist (a wrong METERING_TOPIC): Basic Ingest drops those messages',
    );
  }

  /**
   * A stream-fed Lambda falling behind: its oldest record waits longer than ITERATOR_AGE_ALARM. At 6 hours the mapping
   * gives up on a record (the dead-letter queue gets where it was) and at the stream's retention it is gone.
   */
  private streamAlarms(): void {
    for (const [name, fn] of Object.entries(this.props.functions)) {
      const age = fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5) });
      this.alarms.push(
        alarmOn(this, `${name}IteratorAge`, {
          metric: age,
          description: `The ${name} Lambda is more than ${ITERATOR_AGE_ALARM.toHumanString()} behind its stream: records wait (at 6 h they go to the dead-letter queue unprocessed)`,
          topic: this.props.alarmTopic,
          threshold: ITERATOR_AGE_ALARM.toMilliseconds(),
        }),
      );
    }
  }

  /** Messages in, rule outcomes, the stream and the Lambdas behind it, and the dead letters, on one page. */
  private ingestDashboard(): Dashboard {
    const { ruleNames, functions, streams = {}, deadLetterQueue } = this.props;
    const rules = Object.values(ruleNames);
    const fiveMin = { period: Duration.minutes(5) };
    const perFunction = (metric: (name: string, fn: IFunction) => IMetric) =>
      Object.entries(functions).map(([name, fn]) => metric(name, fn));
    const dashboard = new Dashboard(this, 'IngestDashboard', { defaultInterval: Duration.hours(6) });
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${Stack.of(this).stackName}: device → IoT rule → stream → Lambda → store`,
        width: 24,
        height: 1,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'IoT messages in',
        left: [
          this.iotQuery('PublishIn.Success', ['Protocol'], 'PublishIn.Success'),
          this.iotQuery('TopicMatch', ['RuleName'], 'rule matches', rules),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'IoT rule failures',
        left: [
          this.iotQuery('Failure', ['ActionType', 'RuleName'], 'action Failure', rules),
          this.iotQuery('ErrorActionFailure', ['ActionType', 'RuleName'], 'ErrorActionFailure', rules),
          this.iotQuery('ParseError', ['RuleName'], 'ParseError', rules),
          this.iotQuery('RuleMessageThrottled', ['RuleName'], 'RuleMessageThrottled', rules),
          this.iotQuery('RuleNotFound', ['RuleName'], 'RuleNotFound'),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Lambda errors',
        left: perFunction((name, fn) => fn.metricErrors({ ...fiveMin, label: name })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Lambda duration p99',
        left: perFunction((name, fn) => fn.metricDuration({ ...fiveMin, statistic: 'p99', label: name })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Lambda iterator age (max)',
        left: perFunction((name, fn) => fn.metric('IteratorAge', { ...fiveMin, statistic: 'Maximum', label: name })),
        width: 8,
      }),
    );
    const streamEntries = Object.entries(streams);
    dashboard.addWidgets(
      ...(streamEntries.length
        ? [
            new GraphWidget({
              title: 'Stream records in',
              left: streamEntries.map(([name, s]) =>
                s.metricIncomingRecords({ ...fiveMin, statistic: 'Sum', label: name }),
              ),
              width: 12,
            }),
          ]
        : []),
      new GraphWidget({
        title: 'Dead-letter queue',
        left: [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            ...fiveMin,
            statistic: 'Maximum',
            label: 'waiting',
          }),
        ],
        width: streamEntries.length ? 12 : 24,
      }),
    );
    return dashboard;
  }
}
