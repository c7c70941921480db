import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VppStack } from '../../lib/vpp-stack.js';
import { synthVpp } from './synth.js';

describe('given the stack, when synthesized, then observability', () => {
  let stack: VppStack;
  let template: Template;
  let lambdas: [string, { functionName: string }][];
  let alarmAction: unknown;

  beforeAll(() => {
    ({ stack, template } = synthVpp({ logLevel: 'debug' }));
    lambdas = [
      ...Object.entries(stack.ingest.functions).map(
        ([name, f]) => [name, f.function] as [string, { functionName: string }],
      ),
      ['command-timeouts', stack.ingest.commandTimeouts.function],
      ['rollups', stack.ingest.rollups.function],
      ['api', stack.api.handler.function],
      ['iot-authorizer', stack.liveFeed.handler.function],
      ['provisioning-hook', stack.provisioning.hook.function],
    ];
    alarmAction = [stack.resolve(stack.observability.alarmTopic.topicArn)];
  });

  it('alarms as soon as a message waits in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: stack.resolve(stack.ingest.deadLetterQueue.queueName) }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: alarmAction,
    });
  });

  it('alarms on every Lambda error and throttle', () => {
    expect(lambdas).toHaveLength(11);
    for (const [name, fn] of lambdas) {
      for (const MetricName of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName,
          Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(fn.functionName) }],
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          AlarmActions: alarmAction,
          AlarmDescription: Match.stringLikeRegexp(name),
        });
      }
    }
    // the IoT alarms live in Operations (operations.test.ts)
    // and the live-feed authorizer's invocations, settlement failures and rollup lag (go-live.test.ts)
    expect(stack.observability.alarms).toHaveLength(1 + 2 * lambdas.length + 1 + 2);
  });

  it('runs every project Lambda with the Powertools settings, log level from -c logLevel', () => {
    const resources = template.toJSON().Resources as Record<
      string,
      { Properties: { Environment: { Variables: object } } }
    >;
    for (const [name, fn] of lambdas) {
      const { Ref } = stack.resolve(fn.functionName) as { Ref: string };
      expect(resources[Ref]!.Properties.Environment.Variables, name).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'vpp',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
    }
  });

  it("lets this account's CloudWatch alarms publish to the alarm topic (its topic policy replaces the default)", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: stack.resolve(stack.observability.alarmTopic.topicArn),
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('accepts alarm publishes over TLS only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("graphs command → ACK latency per command op, p50 and p99, in the stack's business namespace, on the operations dashboard", () => {
    const dashboard = stack.operations.dashboard.node.defaultChild as unknown as { dashboardBody: unknown };
    const [, parts] = (stack.resolve(dashboard.dashboardBody) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'REF')).join('')) as {
      widgets: { properties: { title?: string; metrics?: { expression: string }[][] } }[];
    };
    const widget = body.widgets.find((w) => w.properties.title?.startsWith('Command → ACK latency'));
    expect(widget?.properties.metrics?.map(([m]) => m!.expression)).toEqual(
      ['p50', 'p99'].map(
        (stat) => `SEARCH('{VPP/${stack.stackName},op,service} MetricName="CommandAckLatency"', '${stat}', 300)`,
      ),
    );
  });
});
