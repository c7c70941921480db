import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROVISIONING_ROLE_ACTIONS } from '../../lib/provisioning.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { actionsOf, resourcesOf, statementsOf, synthVpp } from './synth.js';

/** A resolved `Fn::Join` (or string) with each `Ref` shown as `{LogicalId}` and each `Fn::GetAtt` as `{LogicalId.Attr}`. */
const rendered = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) {
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    return v.Ref ? `{${v.Ref}}` : v['Fn::GetAtt'] ? `{${v['Fn::GetAtt'].join('.')}}` : JSON.stringify(value);
  }
  return join[1].map(rendered).join(join[0]);
};

describe('given the stack, when synthesized, then fleet provisioning by claim', () => {
  let stack: VppStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthVpp());
  });

  it('has an enabled fleet provisioning template whose pre-provisioning hook is the allow-list Lambda', () => {
    template.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      Enabled: true,
      TemplateType: 'FLEET_PROVISIONING',
      ProvisioningRoleArn: stack.resolve(stack.provisioning.role.roleArn),
      PreProvisioningHook: {
        TargetArn: stack.resolve(stack.provisioning.hook.function.functionArn),
        PayloadVersion: '2020-04-01',
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.provisioning.hook.role.roleArn),
      Environment: {
        Variables: Match.objectLike({ ALLOW_LIST_TABLE: stack.resolve(stack.storage.tables.allowList.tableName) }),
      },
    });
  });

  it("makes the thing named after the serial, of the stack's thing type, in its thing group, with the device policy", () => {
    const [resource] = Object.values(resourcesOf(template, 'AWS::IoT::ProvisioningTemplate'));
    const body = JSON.parse(rendered(stack.resolve(resource!.Properties.TemplateBody)));
    expect(body.Parameters).toEqual({
      SerialNumber: { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    });
    expect(body.Resources.thing.Properties).toEqual({
      ThingName: { Ref: 'SerialNumber' },
      ThingTypeName: `{${stack.getLogicalId(stack.fleet.thingType)}}`,
      ThingGroups: [`{${stack.getLogicalId(stack.fleet.thingGroup)}}`],
    });
    expect(body.Resources.certificate.Properties).toEqual({
      CertificateId: { Ref: 'AWS::IoT::Certificate::Id' },
      Status: 'ACTIVE',
    });
    expect(body.Resources.policy.Properties).toEqual({
      PolicyName: `{${stack.getLogicalId(stack.fleet.devicePolicy)}}`,
    });
  });

  it('lets the hook update (claim) one item of the allow-list table and nothing else', () => {
    const hookRole = stack.resolve(stack.provisioning.hook.role.roleName);
    const statements = statementsOf(template, hookRole).filter((s) => !String(s.Action).startsWith('logs:'));
    expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
      ['dynamodb:UpdateItem', stack.resolve(stack.storage.tables.allowList.tableArn)],
    ]);
  });

  it("lets only this account's provisioning templates invoke the hook", () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: stack.resolve(stack.provisioning.hook.function.functionArn),
      Principal: 'iot.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':provisioningtemplate/*'])]) }),
    });
  });

  it("gives the template a role IoT assumes for this account only, with the registration actions on this stack's resources", () => {
    const role = stack.resolve(stack.provisioning.role.roleName);
    expect(actionsOf(template, role).sort()).toEqual([...PROVISIONING_ROLE_ACTIONS].sort());
    const resources = statementsOf(template, role).map((s) => rendered(stack.resolve(s.Resource)));
    expect(resources).not.toContain('*');
    expect(resources.some((r) => r.endsWith(`:policy/{${stack.getLogicalId(stack.fleet.devicePolicy)}}`))).toBe(true);
    const [roleResource] = Object.entries(resourcesOf(template, 'AWS::IAM::Role')).filter(
      ([logicalId]) => logicalId === role.Ref,
    );
    expect(roleResource![1].Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'iot.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it("gives the claim certificate's policy only the provisioning topics of this template, as claim-<serial>", () => {
    const [policy] = Object.entries(resourcesOf(template, 'AWS::IoT::Policy')).filter(
      ([logicalId]) => logicalId === stack.getLogicalId(stack.provisioning.claimPolicy),
    );
    const statements = stack.resolve(policy![1].Properties.PolicyDocument).Statement as {
      Action: string;
      Resource: unknown[];
    }[];
    const prefix = 'arn:{AWS::Partition}:iot:{AWS::Region}:{AWS::AccountId}';
    const tpl = `{${stack.getLogicalId(stack.provisioning.template)}}`;
    expect(statements.map((s) => [s.Action, s.Resource.map(rendered)])).toEqual([
      ['iot:Connect', [`${prefix}:client/claim-*`]],
      [
        'iot:Publish',
        [
          `${prefix}:topic/$aws/certificates/create-from-csr/json`,
          `${prefix}:topic/$aws/provisioning-templates/${tpl}/provision/json`,
        ],
      ],
      [
        'iot:Subscribe',
        [
          `${prefix}:topicfilter/$aws/certificates/create-from-csr/json/accepted`,
          `${prefix}:topicfilter/$aws/certificates/create-from-csr/json/rejected`,
          `${prefix}:topicfilter/$aws/provisioning-templates/${tpl}/provision/json/accepted`,
          `${prefix}:topicfilter/$aws/provisioning-templates/${tpl}/provision/json/rejected`,
        ],
      ],
      [
        'iot:Receive',
        [
          `${prefix}:topic/$aws/certificates/create-from-csr/json/accepted`,
          `${prefix}:topic/$aws/certificates/create-from-csr/json/rejected`,
          `${prefix}:topic/$aws/provisioning-templates/${tpl}/provision/json/accepted`,
          `${prefix}:topic/$aws/provisioning-templates/${tpl}/provision/json/rejected`,
        ],
      ],
    ]);
  });

  it('outputs the template, the claim policy and the allow-list table', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.ProvisioningTemplateName.Value).toEqual(stack.resolve(stack.provisioning.template.ref));
    expect(outputs.ClaimPolicyName.Value).toEqual(stack.resolve(stack.provisioning.claimPolicy.ref));
    expect(outputs.AllowListTableName.Value).toEqual(stack.resolve(stack.storage.tables.allowList.tableName));
  });
});
