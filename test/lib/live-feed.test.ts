import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VppStack } from '../../lib/vpp-stack.js';
import { actionsOf, resourcesOf, synthVpp } from './synth.js';

describe('given the stack, when synthesized, then the dashboard live feed', () => {
  let stack: VppStack;
  let template: Template;
  let authorizerId: string;

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    [authorizerId] = Object.keys(resourcesOf(template, 'AWS::IoT::Authorizer')) as [string];
  });

  it('has one active IoT custom authorizer, without token signing, on the authorizer Lambda', () => {
    const authorizers = Object.values(resourcesOf(template, 'AWS::IoT::Authorizer'));
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]!.Properties).toEqual({
      AuthorizerFunctionArn: stack.resolve(stack.liveFeed.handler.function.functionArn),
      SigningDisabled: true,
      Status: 'ACTIVE',
      EnableCachingForHttp: false,
      Tags: expect.any(Array), // the stack's cost allocation tags (app.test.ts)
    });
    // No physical name: CloudFormation names it and config.json tells the browser.
    expect(authorizers[0]!.Properties).not.toHaveProperty('AuthorizerName');
  });

  it('lets IoT invoke the Lambda for this authorizer only, from this account', () => {
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName) ===
        JSON.stringify(stack.resolve(stack.liveFeed.handler.function.functionArn)),
    );
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: stack.resolve(stack.liveFeed.handler.function.functionArn),
        Principal: 'iot.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [authorizerId, 'Arn'] },
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    ]);
  });

  it("tells the Lambda the user pool, the dashboard client and the account's IoT ARN prefix, and gives it 5 s", () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[
      (stack.resolve(stack.liveFeed.handler.function.functionName) as { Ref: string }).Ref
    ]!;
    expect(fn.Properties.Timeout).toBe(5);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      USER_POOL_ID: stack.resolve(stack.api.userPool.userPoolId),
      USER_POOL_CLIENT_ID: stack.resolve(stack.api.userPoolClient.userPoolClientId),
      IOT_ARN_PREFIX: stack.resolve(stack.fleet.arnPrefix),
    });
  });

  it('gives the Lambda no AWS permission but its own logs', () => {
    const actions = actionsOf(template, stack.resolve(stack.liveFeed.handler.role.roleName));
    expect([...new Set(actions)].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});
