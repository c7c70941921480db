// The device fleet's identity side: thing type, thing group, the device policy and the account's data endpoint.
// One certificate per device: `provisionAws` (bin/provision-aws.ts) creates the thing, a key pair and certificate,
// attaches this policy to the certificate and the certificate to the thing.
import { Aws, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPolicy, CfnThingGroup, CfnThingType } from 'aws-cdk-lib/aws-iot';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { devicePolicy } from '../lambdas/core/contracts/policy.js';
import { basicIngestTopic, METERING_RULE, METERING_TOPIC, topics } from '../lambdas/core/contracts/topics.js';

const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';
/**
 * The topics' stand-in for the thing name. The Connect statement admits a client only with client id = its thing's
 * name (`client/${iot:Connection.Thing.ThingName}`, certificate attached to that thing), so on every connection the
 * policy lets exist `${iot:ClientId}` is that name: the same rights in 15 characters instead of 33, which keeps the
 * document inside IoT's 2,048 characters in every partition (see DEVICE_POLICY_MAX_CHARS).
 */
const CLIENT_ID_VARIABLE = '${iot:ClientId}';

/** IoT refuses a policy document over 2,048 characters (white space excluded); the stack keeps this much margin. */
export const DEVICE_POLICY_MAX_CHARS = 1800;

interface IotPolicyStatement {
  readonly Effect: 'Allow';
  readonly Action: string | string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

/**
 * Renders the shared device policy. `arnPrefix` is `arn:<partition>:iot:<region>:<account>`. A device connects only
 * as its own thing, with a certificate attached to it, and reaches only the topics the shared policy lists for it.
 * `meteringRule` is the deployed name of the metering rule, which its Basic Ingest topic carries.
 *
 * Subscribe and Receive share one statement and one resource per filter: IoT checks Subscribe against `topicfilter/`
 * ARNs only and Receive against `topic/` ARNs only, and the resource type `topic*` (an IoT policy wildcard, as in IAM)
 * is both and no other, so each action still reaches exactly its own list (the document fits the size limit).
 */
export function devicePolicyDocument(
  arnPrefix: string,
  meteringRule: string = METERING_RULE,
): { Version: '2012-10-17'; Statement: IotPolicyStatement[] } {
  const deployed = (p: string) =>
    p === topics.meteringBasicIngest ? basicIngestTopic(meteringRule, METERING_TOPIC) : p;
  const resources = (kind: 'topic' | 'topic*', patterns: readonly string[]) =>
    patterns.map((p) => `${arnPrefix}:${kind}/${deployed(p).replaceAll('{thing}', CLIENT_ID_VARIABLE)}`);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: [`${arnPrefix}:client/${THING_NAME_VARIABLE}`],
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: resources('topic', devicePolicy.publish) },
      {
        Effect: 'Allow',
        Action: ['iot:Subscribe', 'iot:Receive'],
        Resource: resources('topic*', devicePolicy.subscribe),
      },
    ],
  };
}

/** The longest `arn:<partition>:iot:<region>:<account>` of each partition the stack may deploy to. */
export const LONGEST_ARN_PREFIXES = [
  'arn:aws:iot:ap-southeast-5:123456789012',
  'arn:aws-cn:iot:cn-northwest-1:123456789012',
  'arn:aws-us-gov:iot:us-gov-west-1:123456789012',
] as const;

/** Characters IoT counts in a policy document: its JSON without white space. */
export function policyChars(document: object): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

export interface FleetProps {
  /** Deployed name of the metering rule (Basic Ingest). @default 'metering' */
  readonly meteringRuleName?: string;
}

export class Fleet extends Construct {
  readonly thingType: CfnThingType;
  readonly thingGroup: CfnThingGroup;
  readonly devicePolicy: CfnPolicy;
  /** The account's `iot:Data-ATS` host name, for devices (MQTT) and the IoT data-plane API (shadows). */
  readonly dataEndpoint: string;
  /** `arn:<partition>:iot:<region>:<account>`: prefix of every IoT resource ARN in this stack's account. */
  readonly arnPrefix = `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}`;

  /** Where devices publish metering through Basic Ingest: `$aws/rules/{metering rule}/volttron/metering`. */
  readonly meteringBasicIngestTopic: string;

  constructor(scope: Construct, id: string, props: FleetProps = {}) {
    super(scope, id);
    const meteringRule = props.meteringRuleName ?? METERING_RULE;
    this.meteringBasicIngestTopic = basicIngestTopic(meteringRule, METERING_TOPIC);
    this.thingType = new CfnThingType(this, 'DeviceType', {
      thingTypeProperties: { thingTypeDescription: 'VPP device: VEN, site gateway or Winter River node' },
    });
    this.thingGroup = new CfnThingGroup(this, 'Devices', {
      thingGroupProperties: { thingGroupDescription: 'Every VPP device' },
    });
    const longest = Math.max(
      ...LONGEST_ARN_PREFIXES.map((prefix) => policyChars(devicePolicyDocument(prefix, meteringRule))),
    );
    if (longest > DEVICE_POLICY_MAX_CHARS) {
      throw new Error(
        `The device policy would take ${longest} characters with the metering rule ${meteringRule} (IoT's limit is 2,048, the stack keeps under ${DEVICE_POLICY_MAX_CHARS}): use a shorter stackName`,
      );
    }
    this.devicePolicy = new CfnPolicy(this, 'DevicePolicy', {
      policyDocument: devicePolicyDocument(this.arnPrefix, meteringRule),
    });
    this.dataEndpoint = this.describeDataEndpoint();
  }

  /** IoT has no CloudFormation attribute for the data endpoint: ask the API once at deploy. */
  private describeDataEndpoint(): string {
    const logGroup = new LogGroup(this, 'DataEndpointLookupLogs', { retention: RetentionDays.ONE_WEEK });
    const role = new Role(this, 'DataEndpointLookupRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const call = {
      service: 'Iot',
      action: 'describeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: PhysicalResourceId.of('iot-data-ats-endpoint'),
    };
    const lookup = new AwsCustomResource(this, 'DataEndpointLookup', {
      onCreate: call,
      onUpdate: call,
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      role,
      logGroup,
      installLatestAwsSdk: false,
    });
    Validations.of(lookup).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'iot:DescribeEndpoint has no resource-level permissions; the IAM reference lists only "*".',
    });
    return lookup.getResponseField('endpointAddress');
  }
}
