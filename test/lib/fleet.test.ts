import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Stack } from 'aws-cdk-lib';
import { devicePolicy, isAllowed, isDeviceRequest, type PolicyAction } from '../../lambdas/core/contracts/policy.js';
import {
  DEVICE_POLICY_MAX_CHARS,
  Fleet,
  LONGEST_ARN_PREFIXES,
  devicePolicyDocument,
  policyChars,
} from '../../lib/fleet.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { resourcesOf, synthVpp } from './synth.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string[];
  Condition?: unknown;
}

const THING = '${iot:Connection.Thing.ThingName}';
/** Pinned to THING by the Connect statement (client id = thing name): the topics' shorter stand-in for it. */
const CLIENT = '${iot:ClientId}';
const ARN_PREFIX = 'arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:';

/** `Fn::Join` of literals and pseudo-parameter refs back to one readable string. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(flatten).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `\${${ref}}`;
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

describe('given the stack, when synthesized, then the device IoT policy', () => {
  let stack: VppStack;
  let template: Template;
  let statements: Statement[];
  const statement = (action: string) => statements.find((s) => [s.Action].flat().includes(action))!;
  /** Resources of one kind (`topic`, `topicfilter`, `client`) in the statement granting `action`. */

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    // beside it only the claim certificate's policy (provisioning.test.ts)
    const [policy, ...others] = Object.entries(resourcesOf(template, 'AWS::IoT::Policy'))
      .sort(([a]) => (a === stack.getLogicalId(stack.fleet.devicePolicy) ? -1 : 1))
      .map(([, resource]) => resource);
    expect(others).toHaveLength(1);
    statements = (policy!.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
      ...s,
      Resource: s.Resource.map(flatten),
    }));
  });

  it('lets a device connect only as its own thing, with a certificate attached to that thing', () => {
    expect(statement('iot:Connect')).toEqual({
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: [`${ARN_PREFIX}client/${THING}`],
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    });
  });

  it('renders every shared publish pattern as a topic, the client id (= thing name) as the policy variable', () => {
    const expected = devicePolicy.publish.map((p) => `${ARN_PREFIX}topic/${p.replaceAll('{thing}', CLIENT)}`);
    expect(statement('iot:Publish').Resource).toEqual(expected);
    expect(statement('iot:Publish').Action).toBe('iot:Publish');
  });

  it('renders every shared subscribe pattern once, as a topic filter (Subscribe) and a topic (Receive): `topic*/`, in one statement of those two actions', () => {
    expect(statement('iot:Subscribe')).toBe(statement('iot:Receive'));
    expect(statement('iot:Subscribe').Action).toEqual(['iot:Subscribe', 'iot:Receive']);
    expect(statement('iot:Subscribe').Resource).toEqual(
      devicePolicy.subscribe.map((p) => `${ARN_PREFIX}topic*/${p.replaceAll('{thing}', CLIENT)}`),
    );
  });

  it('never grants a bare wildcard, and scopes every per-device topic to the connected thing', () => {
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const resource of s.Resource) {
        expect(resource, String(s.Action)).not.toBe('*');
        expect(resource, String(s.Action)).not.toMatch(/:(topic\*?|topicfilter|client)\/\*$/);
        expect(resource, String(s.Action)).not.toMatch(/[+#]/);
      }
    }
    const shared = [':topic/volttron/metering', ':topic/$aws/rules/metering/volttron/metering'];
    const perDevice = statements.flatMap((s) => s.Resource).filter((r) => !shared.some((t) => r.endsWith(t)));
    for (const resource of perDevice) expect(resource).toMatch(resource.includes(':client/') ? THING : CLIENT);
    // the client id stands for the thing name only because Connect pins one to the other
    expect(statement('iot:Connect').Resource).toEqual([`${ARN_PREFIX}client/${THING}`]);
  });

  it('lets a device publish metering through Basic Ingest to the metering rule, and subscribe to or receive nothing there', () => {
    const basicIngest = `${ARN_PREFIX}topic/$aws/rules/metering/volttron/metering`;
    expect(topics.meteringBasicIngest).toBe('$aws/rules/metering/volttron/metering');
    expect(statement('iot:Publish').Resource).toContain(basicIngest);
    expect(statement('iot:Publish').Resource.filter((r) => r.includes('$aws/rules/'))).toEqual([basicIngest]);
    expect(statement('iot:Subscribe').Resource.filter((r) => r.includes('$aws/rules'))).toEqual([]);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.MeteringBasicIngestTopic!.Value).toBe('$aws/rules/metering/volttron/metering');
  });

  it("renders another stack's Basic Ingest resource with that stack's metering rule name", () => {
    const { template: other } = synthVpp({ stackName: 'VppStaging', sharedAccount: 'true' });
    const [policy] = Object.values(resourcesOf(other, 'AWS::IoT::Policy'));
    const publish = (policy!.Properties.PolicyDocument.Statement as Statement[]).find(
      (s) => s.Action === 'iot:Publish',
    )!;
    expect(publish.Resource.map(flatten).filter((r) => r.includes('$aws/rules/'))).toEqual([
      `${ARN_PREFIX}topic/$aws/rules/metering_vppstaging/volttron/metering`,
    ]);
  });

  it('outputs the policy name, the thing type, the thing group and the data endpoint for provisioning', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.DevicePolicyName!.Value).toEqual(stack.resolve(stack.fleet.devicePolicy.ref));
    expect(outputs.ThingTypeName!.Value).toEqual(stack.resolve(stack.fleet.thingType.ref));
    expect(outputs.ThingGroupName!.Value).toEqual(stack.resolve(stack.fleet.thingGroup.ref));
    expect(outputs.IotDataEndpoint!.Value).toEqual(stack.resolve(stack.fleet.dataEndpoint));
  });

  it('looks the iot:Data-ATS endpoint up at deploy time, not at synth', () => {
    template.hasResourceProperties('Custom::AWS', {
      Create: JSON.stringify({
        service: 'Iot',
        action: 'describeEndpoint',
        parameters: { endpointType: 'iot:Data-ATS' },
        physicalResourceId: { id: 'iot-data-ats-endpoint' },
      }),
    });
  });
});

/**
 * A device's rights under a rendered policy, as IoT evaluates it: `*` matches any characters, variables are the thing;
 * on its reserved `$aws/things/…` topics IoT takes a device's publish only for requests, whatever the policy.
 */
function allowedByDocument(
  statements: Statement[],
  action: PolicyAction | 'receive',
  thing: string,
  topic: string,
): boolean {
  if (action === 'publish' && !isDeviceRequest(topic)) return false;
  const [iotAction, kind] = {
    publish: ['iot:Publish', 'topic'],
    subscribe: ['iot:Subscribe', 'topicfilter'],
    receive: ['iot:Receive', 'topic'],
  }[action];
  const escape = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  // the whole ARN against each resource, `*` any characters (the resource type's too: `topic*`)
  const arn = `arn:aws:iot:eu-west-1:123456789012:${kind}/${topic}`;
  return statements
    .filter((s) => [s.Action].flat().includes(iotAction!))
    .flatMap((s) => s.Resource)
    .map((r) => r.replaceAll(THING, thing).replaceAll(CLIENT, thing))
    .some((pattern) => new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`).test(arn));
}

describe('given the device policy rendered for a deployment', () => {
  const statements = devicePolicyDocument('arn:aws:iot:eu-west-1:123456789012').Statement as Statement[];
  const thing = 'ven-001';
  const topicsToTry = [
    ...[...devicePolicy.publish, ...devicePolicy.subscribe].flatMap((p) => [
      p.replaceAll('{thing}', thing),
      p.replaceAll('{thing}', 'ven-002'),
    ]),
    '$aws/things/ven-001/shadow/update/accepted',
    '$aws/things/ven-001/shadow/name/x/update',
    '$aws/things/ven-002/shadow/update/accepted',
    '$aws/things/ven-001/jobs/notify-next',
    '$aws/things/ven-001/jobs/$next/get',
    '$aws/things/ven-001/jobs/$next/get/accepted',
    '$aws/things/ven-001/jobs/update-1/update',
    '$aws/things/ven-002/jobs/update-1/update',
    '$aws/things/ven-002/jobs/notify-next',
    'ven/cmd/+',
    'ven/cmd/#',
    'ven/telemetry/ven-001/extra',
    '$aws/rules/metering/volttron/metering',
    '$aws/rules/ack/ven/ack/ven-001',
  ];

  it.each(['publish', 'subscribe'] as const)(
    'when a device tries to %s, then IoT allows exactly what the local broker allows (isAllowed)',
    (action) => {
      for (const topic of topicsToTry) {
        expect(allowedByDocument(statements, action, thing, topic), `${action} ${topic}`).toBe(
          isAllowed(action, thing, topic),
        );
      }
    },
  );

  it('when the broker delivers to a device, then it receives exactly the topics it may subscribe to', () => {
    for (const topic of topicsToTry) {
      expect(allowedByDocument(statements, 'receive', thing, topic), topic).toBe(isAllowed('subscribe', thing, topic));
    }
  });

  const partitions = ['aws', 'aws-cn', 'aws-us-gov'];
  it.each(partitions)(
    'in every region of partition %s, then the document stays under 1,800 characters (IoT refuses over 2,048)',
    (partition) => {
      const regions = RegionInfo.regions.filter((r) => r.partition === partition).map((r) => r.name);
      expect(regions.length).toBeGreaterThan(1);
      for (const region of regions) {
        for (const rule of ['metering', 'metering_vppstaging']) {
          const chars = policyChars(devicePolicyDocument(`arn:${partition}:iot:${region}:123456789012`, rule));
          expect(chars, `${region} ${rule}`).toBeLessThanOrEqual(DEVICE_POLICY_MAX_CHARS);
        }
      }
      expect(DEVICE_POLICY_MAX_CHARS).toBeLessThanOrEqual(1800);
    },
  );

  it('then the synth-time guard measures the longest ARN prefix of each partition', () => {
    for (const partition of partitions) {
      const longest = Math.max(
        ...RegionInfo.regions
          .filter((r) => r.partition === partition)
          .map((r) => `arn:${partition}:iot:${r.name}:123456789012`.length),
      );
      expect(LONGEST_ARN_PREFIXES.find((p) => p.startsWith(`arn:${partition}:`))!.length).toBe(longest);
    }
  });

  it('when the metering rule takes its longest name (128), then the document still stays under the margin', () => {
    for (const prefix of LONGEST_ARN_PREFIXES)
      expect(policyChars(devicePolicyDocument(prefix, 'm'.repeat(128)))).toBeLessThanOrEqual(DEVICE_POLICY_MAX_CHARS);
  });

  it('when a rule name would push the document past the margin, then the synth refuses it', () => {
    expect(() => new Fleet(new Stack(), 'Fleet', { meteringRuleName: 'm'.repeat(400) })).toThrow(
      /device policy would take \d+ characters/,
    );
  });

  it("then a device may ask for its own jobs and take their answers, and never another thing's", () => {
    expect(isAllowed('publish', thing, topics.jobs(thing, '$next/get'))).toBe(true);
    expect(isAllowed('publish', thing, topics.jobs(thing, 'job-1/update'))).toBe(true);
    expect(isAllowed('subscribe', thing, topics.jobs(thing, 'notify-next'))).toBe(true);
    expect(isAllowed('subscribe', thing, topics.jobs(thing, '$next/get/accepted'))).toBe(true);
    expect(isAllowed('publish', thing, topics.jobs(thing, 'notify-next'))).toBe(false);
    expect(isAllowed('publish', thing, topics.jobs(thing, 'job-1/update/accepted'))).toBe(false);
    expect(isAllowed('publish', thing, topics.jobs('ven-002', 'job-1/update'))).toBe(false);
    expect(isAllowed('subscribe', thing, topics.jobs('ven-002', 'notify-next'))).toBe(false);
    expect(isAllowed('subscribe', thing, '$aws/things/+/jobs/notify-next')).toBe(false);
  });
});
