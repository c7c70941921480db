// "Ready for a real AWS account": the synth refuses what cannot deploy, one environment per account, a
// teardown that keeps data unless told, HTTP API access logs that log, and IoT service roles without confused deputy.
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Role } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_FIELDS } from '../../lib/api.js';
import { iotRulesPrincipal } from '../../lib/iot-service-role.js';
import { unavailableResourceTypes } from '../../lib/regions.js';
import { resourcesOf, synthVpp } from './synth.js';

describe('given a target region, when synthesized', () => {
  it.each([
    [
      'ap-southeast-1',
      'timestream',
      /Vpp cannot deploy to ap-southeast-1: CloudFormation has no AWS::Timestream::Database, AWS::Timestream::Table there; deploy with -c timeseries=dynamodb/,
    ],
    ['sa-east-1', 'timestream', /cannot deploy to sa-east-1: .*AWS::Timestream::Database/],
    ['eu-north-1', 'timestream', /cannot deploy to eu-north-1: .*AWS::Timestream::Database/],
    [
      'af-south-1',
      'dynamodb',
      /cannot deploy to af-south-1: CloudFormation has no .*AWS::IoT::ThingGroup, AWS::IoT::ThingType/,
    ],
    ['ca-west-1', 'dynamodb', /cannot deploy to ca-west-1: .*AWS::IoT::ThingType/],
  ])('then in %s with -c timeseries=%s the synth fails and names what is missing', (region, timeseries, message) => {
    expect(() => synthVpp({ region, timeseries })).toThrow(message);
  });

  it.each([
    ['eu-west-1', 'timestream'],
    ['us-east-1', 'dynamodb'],
    ['sa-east-1', 'dynamodb'],
  ])('then in %s with -c timeseries=%s it synthesizes for that region', (region, timeseries) => {
    const { stack } = synthVpp({ region, timeseries });
    expect(stack.region).toBe(region);
  });

  it('then where CloudFormation lacks Device Defender (sa-east-1), it deploys without it and says so', () => {
    const { stack, template } = synthVpp({ region: 'sa-east-1' });
    template.resourceCountIs('AWS::IoT::SecurityProfile', 0);
    template.resourceCountIs('AWS::IoT::AccountAuditConfiguration', 0);
    template.resourceCountIs('AWS::IoT::Logging', 1);
    Annotations.fromStack(stack).hasWarning('/Vpp', Match.stringLikeRegexp('deployed without the Device Defender'));
    synthVpp({ region: 'eu-west-1' }).template.resourceCountIs('AWS::IoT::SecurityProfile', 1);
  });

  it('then the check sees the types CloudFormation lacks in a region, and none where all exist', () => {
    expect(unavailableResourceTypes(['AWS::Timestream::Database', 'AWS::DynamoDB::Table'], 'ap-southeast-1')).toEqual([
      'AWS::Timestream::Database',
    ]);
    expect(unavailableResourceTypes(['AWS::IoT::ThingType', 'AWS::IoT::Policy'], 'mx-central-1')).toEqual([
      'AWS::IoT::ThingType',
    ]);
    expect(unavailableResourceTypes(['AWS::Timestream::Database', 'AWS::IoT::ThingType'], 'us-east-1')).toEqual([]);
  });

  it('given no region (environment-agnostic), then it passes and says it could not check', () => {
    const { stack } = synthVpp({ timeseries: 'timestream' });
    Annotations.fromStack(stack).hasWarning(
      '/Vpp',
      Match.stringLikeRegexp('region is not known at synth.*not checked'),
    );
  });

  it('given a malformed region, then the synth refuses it', () => {
    expect(() => synthVpp({ region: 'Frankfurt' })).toThrow(/region=Frankfurt is invalid/);
  });
});

describe('given a second stack name, when synthesized', () => {
  it('then without -c sharedAccount=true the synth refuses it: one environment is one account', () => {
    expect(() => synthVpp({ stackName: 'VppStaging' })).toThrow(
      /stackName=VppStaging is refused: one environment is one AWS account.*-c sharedAccount=true/,
    );
  });

  it('then with -c sharedAccount=true it deploys, and leaves the account-wide IoT settings to the stack Vpp', () => {
    const { template } = synthVpp({ stackName: 'VppStaging', sharedAccount: 'true' });
    template.resourceCountIs('AWS::IoT::Logging', 0);
    template.resourceCountIs('AWS::IoT::AccountAuditConfiguration', 0);
    template.resourceCountIs('AWS::IoT::ScheduledAudit', 0);
    template.resourceCountIs('AWS::IoT::SecurityProfile', 1);
  });

  it('then a bad sharedAccount or destroyData value is refused', () => {
    expect(() => synthVpp({ sharedAccount: 'yes' })).toThrow(/sharedAccount=yes is invalid: expected true or false/);
    expect(() => synthVpp({ destroyData: '1' })).toThrow(/destroyData=1 is invalid/);
  });
});

describe('given teardown, when synthesized', () => {
  const dataStores = (template: Template) => {
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: any }
    >;
    return Object.entries(resources).filter(
      ([, r]) =>
        [
          'AWS::DynamoDB::Table',
          'AWS::Timestream::Database',
          'AWS::Timestream::Table',
          'AWS::Cognito::UserPool',
        ].includes(r.Type) ||
        // the bucket with data: the access logs (the site bucket holds only build output)
        (r.Type === 'AWS::S3::Bucket' && !r.Properties?.LoggingConfiguration),
    );
  };

  it.each(['dynamodb', 'timestream'])(
    'then by default every data store outlives the stack (timeseries=%s)',
    (timeseries) => {
      const stores = dataStores(synthVpp({ timeseries }).template);
      expect(stores.length).toBeGreaterThanOrEqual(timeseries === 'dynamodb' ? 10 : 13);
      for (const [id, store] of stores) {
        expect([store.DeletionPolicy, store.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
      }
    },
  );

  it.each(['dynamodb', 'timestream'])(
    'then with -c destroyData=true every data store is deleted with it, the log bucket emptied first (timeseries=%s)',
    (timeseries) => {
      const { stack, template } = synthVpp({ timeseries, destroyData: 'true' });
      for (const [id, store] of dataStores(template)) expect(store.DeletionPolicy, id).toBe('Delete');
      const logBucket = stack.resolve(stack.dashboard.logBucket.bucketName);
      expect(
        Object.values(resourcesOf(template, 'Custom::S3AutoDeleteObjects')).map((r) => r.Properties.BucketName),
      ).toContainEqual(logBucket);
    },
  );
});

describe('given the HTTP API, when synthesized, then its access log', () => {
  it('logs each request in HTTP API $context variables, none of them REST-only', () => {
    const { template } = synthVpp();
    const [stage] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    const format = JSON.parse(stage!.Properties.AccessLogSettings.Format as string);
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatency: '$context.responseLatency',
      integrationLatency: '$context.integrationLatency',
      authorizerError: '$context.authorizer.error',
      sourceIp: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
    });
    // REST API variables an HTTP API logs empty (what jsonWithStandardFields() wrote)
    for (const rest of [
      '$context.identity.caller',
      '$context.identity.user',
      '$context.resourcePath',
      '$context.httpMethod',
    ]) {
      expect(Object.values(format), rest).not.toContain(rest);
    }
  });
});

describe('given a role for IoT topic rules', () => {
  const trustOf = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::IAM::Role')).map(
      (r) => r.Properties.AssumeRolePolicyDocument.Statement[0],
    );

  it('when built with iotRulesPrincipal(), then IoT may assume it only for this account and its topic rules', () => {
    const stack = new Stack(new App(), 'Trust');
    new Role(stack, 'RuleRole', { assumedBy: iotRulesPrincipal() });
    expect(trustOf(Template.fromStack(stack))).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'iot.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':iot:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':rule/*',
                ],
              ],
            },
          },
        },
      },
    ]);
  });

  it('when the stack is synthesized, then every role IoT assumes is bound to this account (no confused deputy)', () => {
    const { template } = synthVpp();
    const unbound = Object.entries(resourcesOf(template, 'AWS::IAM::Role'))
      .filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('iot.amazonaws.com'))
      .filter(([, r]) => !JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('aws:SourceAccount'))
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(unbound.sort()).toEqual([]);
  });
});
