// The deploy-time checker on small hand-made templates, one broken per rule, then on every synthesized template of
// the app: the default, Timestream, and one account holding the stack in two regions and a second stack name.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkAccount,
  checkTemplate,
  formatFindings,
  lambdaPolicySizes,
  LIMITS,
  type CfnTemplate,
  type Deployment,
  type RuleId,
} from './aws-rules.js';
import { synthVpp } from './synth.js';
import { createOnlyDigest } from '../../lib/create-only.js';

const arnJoin = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const iotArn = (resource: string) =>
  arnJoin(
    'arn:',
    { Ref: 'AWS::Partition' },
    ':iot:',
    { Ref: 'AWS::Region' },
    ':',
    { Ref: 'AWS::AccountId' },
    `:${resource}`,
  );

const rulesOf = async (template: CfnTemplate, stackName = 'Vpp') =>
  (await checkTemplate({ template, stackName })).map((f) => f.rule);

function functionWith(permissions: number, variables: Record<string, unknown> = {}): CfnTemplate {
  const resources: CfnTemplate['Resources'] = {
    Handler: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: variables } } },
    HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: {} },
  };
  for (let i = 0; i < permissions; i++) {
    resources[`ApiHttpApiRoute${i}HandlerPermission${'A'.repeat(8)}`] = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['Handler', 'Arn'] },
        Principal: 'apigateway.amazonaws.com',
        SourceArn: arnJoin(
          'arn:aws:execute-api:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':',
          { Ref: 'HttpApi' },
          `/*/*/api/route/${i}/{id}`,
        ),
      },
    };
  }
  return { Resources: resources };
}

const policyTemplate = (statements: unknown[], extra: CfnTemplate['Resources'] = {}): CfnTemplate => ({
  Resources: {
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Version: '2012-10-17', Statement: statements } },
    },
    ...extra,
  },
});

describe('given a hand-made template that breaks one rule, when checked, then the checker', () => {
  it('measures the resource-based policy as Lambda stores it and fails it over 20,480 bytes', async () => {
    const small = functionWith(5);
    const large = functionWith(60);
    expect(await rulesOf(small)).toEqual([]);
    expect(await rulesOf(large)).toContain<RuleId>('lambda-policy-size');
    const size = lambdaPolicySizes({ template: large, stackName: 'Vpp' }).Handler!;
    expect(size.statements).toBe(60);
    // each statement: the generated Sid, the function ARN and the route's source ARN, about 400 bytes
    expect(size.bytes / 60).toBeGreaterThan(350);
    expect(size.bytes).toBeGreaterThan(LIMITS.lambdaPolicyBytes);
  });

  it('fails an IAM action granted on a resource type it does not act on', async () => {
    const wrong = policyTemplate([
      { Effect: 'Allow', Action: 'iot:DetachPolicy', Resource: iotArn('policy/DevicePolicy') },
      { Effect: 'Allow', Action: 'iot:DetachThingPrincipal', Resource: iotArn('thing/*') },
    ]);
    const findings = await checkTemplate({ template: wrong, stackName: 'Vpp' });
    expect(findings.map((f) => f.rule)).toEqual(['iam-resource-type', 'iam-resource-type']);
    expect(findings[0]!.message).toMatch(/iot:DetachPolicy .*policy\/DevicePolicy.*cert, thinggroup/);
    const right = policyTemplate([
      {
        Effect: 'Allow',
        Action: ['iot:DetachPolicy', 'iot:DetachThingPrincipal', 'iot:UpdateCertificate'],
        Resource: iotArn('cert/*'),
      },
    ]);
    expect(await rulesOf(right)).toEqual([]);
  });

  it('resolves GetAtt and Ref to the ARN form of the referenced resource type', async () => {
    const extra: CfnTemplate['Resources'] = {
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Stream: { Type: 'AWS::Kinesis::Stream', Properties: {} },
    };
    const onTable = policyTemplate(
      [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } }],
      extra,
    );
    expect(await rulesOf(onTable)).toEqual([]);
    const onStream = policyTemplate(
      [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['Stream', 'Arn'] } }],
      extra,
    );
    expect(await rulesOf(onStream)).toEqual(['iam-resource-type']);
  });

  it('accepts an action without resource types on "*" only', async () => {
    expect(await rulesOf(policyTemplate([{ Effect: 'Allow', Action: 'iot:DescribeEndpoint', Resource: '*' }]))).toEqual(
      [],
    );
    expect(
      await rulesOf(policyTemplate([{ Effect: 'Allow', Action: 'iot:DescribeEndpoint', Resource: iotArn('thing/*') }])),
    ).toEqual(['iam-resource-type']);
  });

  it('fails a wildcard action when none of the actions it stands for can use the resource, and an unknown action', async () => {
    expect(
      await rulesOf(policyTemplate([{ Effect: 'Allow', Action: 'iot:Detach*', Resource: iotArn('cert/*') }])),
    ).toEqual([]);
    expect(
      await rulesOf(policyTemplate([{ Effect: 'Allow', Action: 'iot:Detach*', Resource: iotArn('topic/x') }])),
    ).toEqual(['iam-resource-type']);
    expect(await rulesOf(policyTemplate([{ Effect: 'Allow', Action: 'iot:DetachEverything', Resource: '*' }]))).toEqual(
      ['iam-resource-type'],
    );
  });

  it('checks inline role policies and managed policies too', async () => {
    const statement = { Effect: 'Allow', Action: 'iot:DetachPolicy', Resource: iotArn('thing/*') };
    const inline: CfnTemplate = {
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: { Policies: [{ PolicyName: 'p', PolicyDocument: { Statement: [statement] } }] },
        },
      },
    };
    const managed: CfnTemplate = {
      Resources: {
        Managed: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: { Statement: [statement] } } },
      },
    };
    expect(await rulesOf(inline)).toEqual(['iam-resource-type']);
    expect(await rulesOf(managed)).toEqual(['iam-resource-type']);
  });

  it('fails a global name the same in two regions of one account, and a regional one only within a region', async () => {
    const named = (region: string): Deployment => ({
      stackName: 'Vpp',
      region,
      template: {
        Resources: {
          Headers: {
            Type: 'AWS::CloudFront::ResponseHeadersPolicy',
            Properties: { ResponseHeadersPolicyConfig: { Name: 'VppDashboardSecurityHeaders' } },
          },
          Rule: { Type: 'AWS::IoT::TopicRule', Properties: { RuleName: 'metering' } },
        },
      },
    });
    const findings = await checkAccount([named('us-east-1'), named('eu-west-1')]);
    expect(findings.map((f) => f.rule)).toEqual(['unique-names']);
    expect(findings[0]!.message).toMatch(/ResponseHeadersPolicy named VppDashboardSecurityHeaders/);
    const sameRegion = await checkAccount([named('us-east-1'), { ...named('us-east-1'), stackName: 'VppStaging' }]);
    expect(sameRegion.map((f) => f.message).join('\n')).toMatch(
      /TopicRule named metering twice in one account and region/,
    );
    const withRegion = (region: string): Deployment => {
      const d = named(region);
      d.template.Resources.Headers!.Properties!.ResponseHeadersPolicyConfig.Name = {
        'Fn::Join': ['', ['VppHeaders-', { Ref: 'AWS::Region' }]],
      };
      return d;
    };
    expect(await checkAccount([withRegion('us-east-1'), withRegion('eu-west-1')])).toEqual([]);
  });

  it('fails a create-only property on a resource with a fixed name, and not on a generated one', async () => {
    const template = (id?: string): CfnTemplate => ({
      Resources: {
        Template: {
          Type: 'AWS::IoT::JobTemplate',
          Properties: { ...(id && { JobTemplateId: id }), Description: 'agent update', DocumentSource: 'https://x' },
        },
      },
    });
    expect(await rulesOf(template('Vpp-agent-update'))).toEqual(['create-only-fixed-name']);
    expect(await rulesOf(template())).toEqual([]);
    // a name that carries the digest of the create-only values changes with them
    const digest = createOnlyDigest(['agent update', 'https://x']);
    expect(await rulesOf(template(`Vpp-agent-update-${digest}`))).toEqual([]);
    expect(await rulesOf(template(`Vpp-agent-update-${createOnlyDigest(['agent update', 'https://y'])}`))).toEqual([
      'create-only-fixed-name',
    ]);
  });

  it('fails an alarm topic whose topic policy does not let CloudWatch publish', async () => {
    const withStatements = (statements: unknown[]): CfnTemplate => ({
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        TopicPolicy: {
          Type: 'AWS::SNS::TopicPolicy',
          Properties: { Topics: [{ Ref: 'Topic' }], PolicyDocument: { Statement: statements } },
        },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmActions: [{ Ref: 'Topic' }] } },
      },
    });
    const tlsOnly = {
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: { Ref: 'Topic' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    };
    const cloudWatch = {
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: { Ref: 'Topic' },
    };
    expect(await rulesOf(withStatements([tlsOnly]))).toEqual(['alarm-topic-policy']);
    expect(await rulesOf(withStatements([tlsOnly, cloudWatch]))).toEqual([]);
    const noPolicy = withStatements([]);
    delete noPolicy.Resources.TopicPolicy;
    expect(await rulesOf(noPolicy)).toEqual([]);
  });

  it('fails a Lambda environment over 4 KB with its tokens resolved', async () => {
    expect(await rulesOf(functionWith(0, { A: 'x'.repeat(4000) }))).toEqual([]);
    expect(
      await rulesOf(
        functionWith(0, {
          A: 'x'.repeat(4070),
          B: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }]] },
        }),
      ),
    ).toEqual(['lambda-environment-size']);
  });

  it("fails a template near CloudFormation's resource, output, parameter and size limits", async () => {
    const many = (n: number, make: (i: number) => any): Record<string, any> =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`X${i}`, make(i)]));
    expect(await rulesOf({ Resources: many(460, () => ({ Type: 'AWS::SNS::Topic', Properties: {} })) })).toEqual([
      'template-quotas',
    ]);
    expect(await rulesOf({ Resources: {}, Outputs: many(190, () => ({ Value: 'x' })) })).toEqual(['template-quotas']);
    expect(await rulesOf({ Resources: {}, Parameters: many(190, () => ({ Type: 'String' })) })).toEqual([
      'template-quotas',
    ]);
    expect(
      await rulesOf({
        Resources: { T: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'x'.repeat(1_000_000) } } },
      }),
    ).toEqual(['template-quotas']);
  });

  it('prints findings one a line, rule first', () => {
    expect(formatFindings([{ rule: 'unique-names', where: 'a', message: 'b' }])).toBe('[unique-names] a: b');
  });
});

describe('given every template the app synthesizes, when checked, then the checker', () => {
  // One account: the stack in two regions, and a second stack name beside the first (sharedAccount).
  let deployments: Record<'default' | 'timestream' | 'usEast1' | 'euWest1' | 'staging', Deployment>;

  beforeAll(() => {
    const synth = (context: Record<string, string>, region?: string): Deployment => {
      const { stack, template } = synthVpp(context);
      return {
        template: template.toJSON() as CfnTemplate,
        stackName: stack.stackName,
        region,
        label: `${stack.stackName}@${region ?? 'any region'}${context.timeseries ? ` (${context.timeseries})` : ''}`,
      };
    };
    deployments = {
      default: synth({}),
      timestream: synth({ timeseries: 'timestream' }),
      usEast1: synth({ region: 'us-east-1' }, 'us-east-1'),
      euWest1: synth({ region: 'eu-west-1' }, 'eu-west-1'),
      staging: synth({ region: 'us-east-1', stackName: 'VppStaging', sharedAccount: 'true' }, 'us-east-1'),
    };
  });

  it('finds nothing in the default and the Timestream template (worst-case region)', async () => {
    const findings = [...(await checkTemplate(deployments.default)), ...(await checkTemplate(deployments.timestream))];
    expect(formatFindings(findings)).toBe('');
  });

  it('finds nothing across one account holding the stack in us-east-1 and eu-west-1 and a second stack', async () => {
    const { usEast1, euWest1, staging } = deployments;
    expect(formatFindings(await checkAccount([usEast1, euWest1, staging]))).toBe('');
  });

  it("keeps the API function's resource-based policy to one statement, far under the limit", () => {
    for (const d of Object.values(deployments)) {
      const sizes = Object.values(lambdaPolicySizes(d));
      const largest = Math.max(...sizes.map((s) => s.bytes));
      expect(largest, d.label).toBeLessThan(LIMITS.lambdaPolicyBytes / 10);
    }
  });
});
