// The IAM evaluation the local stack's recorded calls go through: IAM's wildcards, an explicit Deny over an Allow,
// the function's environment resolving a symbolic name, conditions listed rather than evaluated, unused grants.
import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import { evaluate, readableResource, resourceMatches, unusedGrants } from './evaluate.js';
import { resolve, rolePoliciesOf, type RolePolicies } from './role-policies.js';

const TABLE = 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Devices1A2B3C4D}';
const policies: RolePolicies = {
  api: {
    environment: { DEVICES_TABLE: '${Devices1A2B3C4D}' },
    managedPolicies: [],
    statements: [
      {
        id: 'P[0]',
        effect: 'Allow',
        actions: ['dynamodb:Get*', 'dynamodb:Query'],
        resources: [TABLE, `${TABLE}/index/*`],
      },
      {
        id: 'P[1]',
        effect: 'Allow',
        actions: ['iot:Publish'],
        resources: ['arn:aws:iot:${AWS::Region}:${AWS::AccountId}:topic/ven/cmd/?/x'],
      },
      { id: 'P[2]', effect: 'Deny', actions: ['dynamodb:GetItem'], resources: [`${TABLE}/index/secret`] },
      {
        id: 'P[3]',
        effect: 'Allow',
        actions: ['iot:UpdateThing'],
        resources: ['*'],
        condition: { StringEquals: { 'aws:ResourceTag/x': 'y' } },
      },
    ],
  },
};
const call = (action: string, resource: string, fn: AwsCall['fn'] = 'api'): AwsCall => ({ fn, action, resource });
const table = 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:DEVICES_TABLE}';

describe('evaluating a recorded call against its function policy', () => {
  it('allows what a statement grants, resolving the table from the function environment and action wildcards case-insensitively', () => {
    expect(evaluate(call('dynamodb:GetItem', table), policies)).toMatchObject({
      allowed: true,
      why: 'allowed by P[0]',
    });
    expect(evaluate(call('DynamoDB:getitem', `${table}/index/byKind`), policies).allowed).toBe(true);
  });

  it('denies an action granted on other resources, saying where it is granted', () => {
    const v = evaluate(
      call('dynamodb:Query', 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/other'),
      policies,
    );
    expect(v.allowed).toBe(false);
    expect(v.why).toContain(`granted only on ${TABLE}`);
  });

  it('denies an action no statement grants, an explicit Deny over an Allow, and a name the environment lacks', () => {
    expect(evaluate(call('dynamodb:PutItem', table), policies)).toMatchObject({
      allowed: false,
      why: 'no statement grants dynamodb:PutItem',
    });
    expect(evaluate(call('dynamodb:GetItem', `${table}/index/secret`), policies)).toMatchObject({
      allowed: false,
      why: 'explicitly denied by P[2]',
    });
    expect(
      evaluate(
        call('dynamodb:GetItem', 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:LEDGER_TABLE}'),
        policies,
      ),
    ).toMatchObject({
      allowed: false,
      why: 'the deployed function has no LEDGER_TABLE in its environment',
    });
    expect(evaluate(call('dynamodb:GetItem', table, 'metering'), policies).allowed).toBe(false);
  });

  it('matches ? as one character and keeps wildcards within their ARN segment', () => {
    const topic = (t: string) => `arn:aws:iot:\${AWS::Region}:\${AWS::AccountId}:topic/${t}`;
    expect(evaluate(call('iot:Publish', topic('ven/cmd/a/x')), policies).allowed).toBe(true);
    expect(evaluate(call('iot:Publish', topic('ven/cmd/ab/x')), policies).allowed).toBe(false);
    expect(resourceMatches('arn:aws:iot:*:1:topic/*', 'arn:aws:iot:eu-west-1:1:topic/a/b')).toBe(true);
    expect(resourceMatches('arn:aws:iot:*:1:topic/*', 'arn:aws:iot:eu-west-1:2:topic/a')).toBe(false);
    expect(resourceMatches('arn:aws:*:us-east-1:1:x', 'arn:aws:iot:us-east-1:1:x')).toBe(true);
  });

  it('takes a conditional Allow as written and lists the condition it did not evaluate', () => {
    const v = evaluate(call('iot:UpdateThing', 'arn:aws:iot:${AWS::Region}:${AWS::AccountId}:thing/ven-1'), policies);
    expect(v.allowed).toBe(true);
    expect(v.unevaluatedConditions).toEqual(['P[3] {"StringEquals":{"aws:ResourceTag/x":"y"}}']);
  });
});

describe('unused grants', () => {
  it('lists each (action × resource) of an Allow no recorded call matched, in readable form', () => {
    const unused = unusedGrants(
      [
        call('dynamodb:GetItem', table),
        call('iot:Publish', 'arn:aws:iot:${AWS::Region}:${AWS::AccountId}:topic/ven/cmd/a/x'),
      ],
      policies,
    );
    expect(unused.map((g) => `${g.action} ${readableResource(g.resource, policies.api)}`)).toEqual([
      'dynamodb:Get* arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:DEVICES_TABLE}/index/*',
      'dynamodb:Query arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:DEVICES_TABLE}',
      'dynamodb:Query arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${env:DEVICES_TABLE}/index/*',
      'iot:UpdateThing *',
    ]);
  });
});

describe('resolving a synthesized template to the symbolic form', () => {
  it('resolves Ref, Fn::GetAtt of a table or queue ARN, Fn::Join and Fn::Sub; a role policy belongs to its role only', () => {
    const Resources = {
      T: { Type: 'AWS::DynamoDB::Table' },
      Q: { Type: 'AWS::SQS::Queue' },
      F: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { T_TABLE: { Ref: 'T' }, N: '3' } } },
      },
      R: { Type: 'AWS::IAM::Role' },
      Other: { Type: 'AWS::IAM::Role' },
      P: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'R' }],
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'dynamodb:Query',
                Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['T', 'Arn'] }, '/index/*']] },
              },
              {
                Effect: 'Allow',
                Action: ['sqs:SendMessage'],
                Resource: [
                  { 'Fn::GetAtt': ['Q', 'Arn'] },
                  { 'Fn::Sub': 'arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:thing/*' },
                ],
              },
            ],
          },
        },
      },
      P2: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'Other' }],
          PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      },
    };
    const resolved = rolePoliciesOf({ Resources }, { f: { functionId: 'F', roleId: 'R' } });
    expect(resolved.f).toEqual({
      environment: { T_TABLE: '${T}', N: '3' },
      managedPolicies: [],
      statements: [
        {
          id: 'P[0]',
          effect: 'Allow',
          actions: ['dynamodb:Query'],
          resources: ['arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}/index/*'],
        },
        {
          id: 'P[1]',
          effect: 'Allow',
          actions: ['sqs:SendMessage'],
          resources: [
            'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Q}',
            'arn:aws:iot:${AWS::Region}:${AWS::AccountId}:thing/*',
          ],
        },
      ],
    });
    expect(resolve({ 'Fn::Select': [0, ['a']] }, Resources)).toMatch(/^\$\{\?/);
  });
});
