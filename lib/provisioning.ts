// Fleet provisioning by claim: factory-made devices share a claim certificate that carries the claim policy (only the
// provisioning topics of this template, as `claim-<serial>`). With it a device exchanges its own CSR for a
// certificate and calls RegisterThing; the template's pre-provisioning hook (lambdas/provisioning-hook) allows only a
// serial on the allow-list table, once, and the template then makes the thing (named after the serial, of the stack's thing
// type, in its thing group) and attaches the device policy and the certificate. The same topics and hook logic run on
// the local stack (bin/local/iot/provisioning-service.ts).
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPolicy, CfnProvisioningTemplate } from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { CLAIM_CLIENT_PREFIX, claimPolicy } from '../lambdas/core/contracts/policy.js';
import { SERIAL_PARAMETER } from '../lambdas/core/fleet/provisioning-hook.js';
import { tables } from '../lambdas/core/contracts/tables.js';
import type { Fleet } from './fleet.js';
import { HandlerFunction } from './handler-function.js';
import { iotAccountPrincipal } from './iot-service-role.js';
import type { Storage } from './storage.js';

export interface ProvisioningProps {
  readonly fleet: Fleet;
  readonly storage: Storage;
}

/**
 * What RegisterThing does with this template's resources (create or update the thing, attach certificate and
 * policy), by the resource type IAM authorizes each action on (Service Authorization Reference, AWS IoT).
 */
export const PROVISIONING_ROLE_GRANTS = {
  thing: [
    'iot:CreateThing',
    'iot:DescribeThing',
    'iot:UpdateThing',
    'iot:ListThingGroupsForThing',
    'iot:ListThingPrincipals',
    'iot:AddThingToThingGroup',
  ],
  thinggroup: ['iot:AddThingToThingGroup'],
  cert: ['iot:AttachThingPrincipal', 'iot:DescribeCertificate', 'iot:UpdateCertificate', 'iot:AttachPolicy'],
  policy: ['iot:GetPolicy'],
} as const;

export const PROVISIONING_ROLE_ACTIONS = [...new Set(Object.values(PROVISIONING_ROLE_GRANTS).flat())];

export class Provisioning extends Construct {
  readonly template: CfnProvisioningTemplate;
  readonly hook: HandlerFunction;
  readonly role: Role;
  readonly claimPolicy: CfnPolicy;

  constructor(scope: Construct, id: string, props: ProvisioningProps) {
    super(scope, id);
    const { fleet, storage } = props;
    this.hook = new HandlerFunction(this, 'Hook', {
      handler: 'provisioning-hook',
      description: 'Fleet provisioning pre-provisioning hook: allows serials on the allow-list only',
      environment: { [tables.allowList.env]: storage.tables.allowList.tableName },
      retryAttempts: 0,
      // IoT waits 5 s for a pre-provisioning hook and refuses the device after that: longer runs help nobody
      timeout: Duration.seconds(5),
    });
    // one conditional UpdateItem per RegisterThing (the serial claimed once): nothing else on the table
    this.hook.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [storage.tables.allowList.tableArn] }),
    );

    const iot = (resource: string) => `${fleet.arnPrefix}:${resource}`;
    this.role = new Role(this, 'Role', {
      assumedBy: iotAccountPrincipal(),
      description: 'Lets AWS IoT fleet provisioning create the things of this stack and attach certificate and policy',
    });
    // The thing type needs no grant: CreateThing is authorized on the thing it creates.
    const resources: Record<keyof typeof PROVISIONING_ROLE_GRANTS, string> = {
      thing: iot('thing/*'),
      thinggroup: fleet.thingGroup.attrArn,
      cert: iot('cert/*'),
      policy: iot(`policy/${fleet.devicePolicy.ref}`),
    };
    for (const [type, actions] of Object.entries(PROVISIONING_ROLE_GRANTS) as [
      keyof typeof PROVISIONING_ROLE_GRANTS,
      readonly string[],
    ][]) {
      this.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: [resources[type]] }));
    }

    for (const resource of ['thing', 'cert']) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:${resource}/*]`,
        reason: `The things (named after each device's serial) and certificates (made from each device's CSR) RegisterThing acts on do not exist at deploy; only this account and region's ${resource}s.`,
      });
    }

    this.template = new CfnProvisioningTemplate(this, 'Template', {
      description: 'VPP devices by claim: a serial on the allow-list becomes a thing with its own certificate',
      enabled: true,
      templateType: 'FLEET_PROVISIONING',
      provisioningRoleArn: this.role.roleArn,
      preProvisioningHook: { targetArn: this.hook.function.functionArn, payloadVersion: '2020-04-01' },
      templateBody: Stack.of(this).toJsonString(templateBody(fleet)),
    });
    // IoT invokes the hook for this account's provisioning templates only
    this.hook.function.addPermission('IotInvoke', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: iot('provisioningtemplate/*'),
    });
    this.template.node.addDependency(this.role);

    this.claimPolicy = new CfnPolicy(this, 'ClaimPolicy', {
      policyDocument: claimPolicyDocument(fleet.arnPrefix, this.template.ref),
    });
  }
}

/** The claim certificate's rights: connect as `claim-<anything>`, and the provisioning topics of one template. */
export function claimPolicyDocument(arnPrefix: string, templateName: string) {
  const resources = (kind: 'topic' | 'topicfilter', patterns: readonly string[]) =>
    patterns.map((p) => `${arnPrefix}:${kind}/${p.replaceAll('{template}', templateName)}`);
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: [`${arnPrefix}:client/${CLAIM_CLIENT_PREFIX}*`] },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: resources('topic', claimPolicy.publish) },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: resources('topicfilter', claimPolicy.subscribe) },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: resources('topic', claimPolicy.subscribe) },
    ],
  };
}

/** The provisioning template: the thing is named after the serial, of the stack's type, in its group, with the device policy. */
function templateBody(fleet: Fleet) {
  return {
    Parameters: {
      [SERIAL_PARAMETER]: { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { Ref: SERIAL_PARAMETER },
          ThingTypeName: fleet.thingType.ref,
          ThingGroups: [fleet.thingGroup.ref],
        },
        OverrideSettings: { ThingTypeName: 'REPLACE', ThingGroups: 'MERGE', AttributePayload: 'MERGE' },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: fleet.devicePolicy.ref } },
    },
  };
}
