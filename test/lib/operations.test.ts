import { CfnResource, TagManager } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { rules } from '../../lambdas/core/contracts/rules.js';
import { AUDIT_CHECKS, AUTH_FAILURES_PER_5_MIN, MESSAGES_PER_5_MIN } from '../../lib/operations.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { resourcesOf, synthVpp } from './synth.js';

describe('given the stack, when synthesized, then operations', () => {
  let stack: VppStack;
  let template: Template;
  let alarmTopic: unknown;
  const accountOnly = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
  const roleTrust = (roleArn: unknown) => {
    const {
      'Fn::GetAtt': [id],
    } = roleArn as { 'Fn::GetAtt': [string] };
    return (template.toJSON().Resources[id!].Properties.AssumeRolePolicyDocument.Statement as unknown[])[0];
  };

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    alarmTopic = stack.resolve(stack.observability.alarmTopic.topicArn);
  });

  it('turns IoT Core logging on at WARN, through a role IoT may assume for this account only', () => {
    const [logging, ...others] = Object.values(resourcesOf(template, 'AWS::IoT::Logging'));
    expect(others).toEqual([]);
    expect(logging!.Properties).toMatchObject({ AccountId: { Ref: 'AWS::AccountId' }, DefaultLogLevel: 'WARN' });
    expect(roleTrust(logging!.Properties.RoleArn)).toMatchObject({
      Principal: { Service: 'iot.amazonaws.com' },
      Condition: accountOnly,
    });
  });

  it('takes the IoT log level from -c iotLogLevel, and refuses one IoT does not know', () => {
    synthVpp({ iotLogLevel: 'error' }).template.hasResourceProperties('AWS::IoT::Logging', {
      DefaultLogLevel: 'ERROR',
    });
    expect(() => synthVpp({ iotLogLevel: 'verbose' })).toThrow(
      /iotLogLevel=verbose is invalid: expected DEBUG, INFO, WARN, ERROR, DISABLED/,
    );
  });

  it('enables the Device Defender audit checks for the account and runs them daily, findings to the alarm topic', () => {
    template.hasResourceProperties('AWS::IoT::AccountAuditConfiguration', {
      AccountId: { Ref: 'AWS::AccountId' },
      AuditCheckConfigurations: Object.fromEntries(
        Object.values(AUDIT_CHECKS).map((c) => [c[0]!.toUpperCase() + c.slice(1), { Enabled: true }]),
      ),
      AuditNotificationTargetConfigurations: { Sns: Match.objectLike({ TargetArn: alarmTopic, Enabled: true }) },
    });
    expect(Object.keys(AUDIT_CHECKS).sort()).toEqual([
      'CONFLICTING_CLIENT_IDS_CHECK',
      'DEVICE_CERTIFICATE_SHARED_CHECK',
      'IOT_POLICY_OVERLY_PERMISSIVE_CHECK',
      'REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK',
    ]);
    const [audit] = Object.values(template.findResources('AWS::IoT::ScheduledAudit')) as {
      Properties: any;
      DependsOn: string[];
    }[];
    expect(audit!.Properties).toMatchObject({ Frequency: 'DAILY', TargetCheckNames: Object.keys(AUDIT_CHECKS) });
    expect(audit!.DependsOn).toContain(stack.getLogicalId(stack.operations.auditConfiguration!));
  });

  it('watches every device (the thing group) for its message rate and authorization failures', () => {
    template.hasResourceProperties('AWS::IoT::SecurityProfile', {
      TargetArns: [stack.resolve(stack.fleet.thingGroup.attrArn)],
      Behaviors: [
        Match.objectLike({
          Metric: 'aws:num-messages-sent',
          Criteria: Match.objectLike({
            ComparisonOperator: 'greater-than',
            Value: { Count: String(MESSAGES_PER_5_MIN) },
            DurationSeconds: 300,
          }),
        }),
        Match.objectLike({
          Metric: 'aws:num-authorization-failures',
          Criteria: Match.objectLike({
            ComparisonOperator: 'greater-than',
            Value: { Count: String(AUTH_FAILURES_PER_5_MIN) },
            DurationSeconds: 300,
          }),
        }),
      ],
      AlertTargets: { SNS: { AlertTargetArn: alarmTopic, RoleArn: stack.resolve(stack.operations.alertRole.roleArn) } },
    });
    expect(roleTrust(stack.resolve(stack.operations.alertRole.roleArn))).toMatchObject({ Condition: accountOnly });
  });

  /** A template string with each `Ref` shown as `{LogicalId}`. */
  const rendered = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : `{${(part as { Ref: string }).Ref}}`))
          .join('');

  const iotAlarm = (metric: string) =>
    Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a.Properties.Metrics ?? []).includes(`SUM(\\"${metric}\\")`),
    );

  it.each([
    ['Connect.AuthError', false],
    ['Connect.Throttle', false],
    ['PublishIn.Throttle', false],
    ['Failure', true],
    ['ErrorActionFailure', true],
    ['RuleMessageThrottled', true],
    ['ParseError', true],
    ['RuleNotFound', false],
  ])('alarms on AWS/IoT %s to the alarm topic (our rules only: %s)', (metric, ourRules) => {
    const alarm = iotAlarm(metric);
    expect(alarm, metric).toBeDefined();
    expect(alarm!.Properties.AlarmActions).toEqual([alarmTopic]);
    const query = rendered(alarm!.Properties.Metrics[0].Expression);
    expect(query).toMatch(new RegExp(`^SELECT SUM\\("${metric.replace('.', '\\.')}"\\) FROM SCHEMA\\("AWS/IoT"`));
    // the metering rule by its fixed name, the others by the names CloudFormation gives them
    const ruleName = (name: string) =>
      name === 'metering' ? name : `{${stack.getLogicalId(stack.ingest.topicRules[name]!)}}`;
    const ours = ` WHERE ${rules.map((r) => `RuleName = '${ruleName(r.name)}'`).join(' OR ')}`;
    expect(query.endsWith(ours), query).toBe(ourRules);
    if (!ourRules) expect(query).not.toContain('WHERE');
  });

  it('draws the ingest path on a dashboard: IoT in, rule failures, each ingest Lambda and stream, the dead letters', () => {
    const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(stack.resolve(dashboard!.Properties.DashboardBody));
    for (const metric of [
      'PublishIn.Success',
      'TopicMatch',
      'ErrorActionFailure',
      'IteratorAge',
      'Duration',
      'Errors',
      'IncomingRecords',
      'ApproximateNumberOfMessagesVisible',
    ]) {
      expect(body, metric).toContain(metric);
    }
    for (const fn of Object.values(stack.ingest.functions))
      expect(body).toContain(JSON.stringify(stack.resolve(fn.function.functionName)).slice(1, -1));
    for (const stream of Object.values(stack.ingest.streams))
      expect(body).toContain(JSON.stringify(stack.resolve(stream.streamName)).slice(1, -1));
    expect(template.toJSON().Outputs.OperationsDashboardName.Value).toEqual(
      stack.resolve(stack.operations.dashboard.dashboardName),
    );
  });

  it('tags every taggable resource with the cost allocation tags project and stack', () => {
    const taggable = stack.node
      .findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && TagManager.isTaggable(c));
    expect(taggable.length).toBeGreaterThan(40);
    for (const resource of taggable) {
      expect(TagManager.of(resource)!.tagValues(), resource.node.path).toMatchObject({ project: 'vpp', stack: 'Vpp' });
    }
    const other = synthVpp({ stackName: 'VppStaging', sharedAccount: 'true' }).stack;
    expect(other.storage.tables.devices.node.defaultChild).toSatisfy(
      (t: CfnResource) => TagManager.of(t)!.tagValues().stack === 'VppStaging',
    );
  });
});
