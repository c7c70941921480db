import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { devicePolicy } from '../../lambdas/core/policy.js';
import { topics } from '../../lambdas/core/topics.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { resourcesOf, synthVpp } from './synth.js';

interface Statement {
  Effect: string;
  Action: string;
  Resource: string[];
  Condition?: unknown;
}

const THING = '${iot:Connection.Thing.ThingName}';
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
  const statement = (action: string) => statements.find((s) => s.Action === action)!;

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    const [policy, ...others] = Object.values(resourcesOf(template, 'AWS::IoT::Policy'));
    expect(others).toHaveLength(0);
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

  it('renders every shared publish pattern as a topic, the thing name as the policy variable', () => {
    const expected = devicePolicy.publish.map((p) => `${ARN_PREFIX}topic/${p.replaceAll('{thing}', THING)}`);
    expect(statement('iot:Publish').Resource).toEqual(expected);
  });

  it('renders every shared subscribe pattern as a topic filter (Subscribe) and a topic (Receive)', () => {
    const as = (kind: string) => devicePolicy.subscribe.map((p) => `${ARN_PREFIX}${kind}/${p.replaceAll('{thing}', THING)}`);
    expect(statement('iot:Subscribe').Resource).toEqual(as('topicfilter'));
    expect(statement('iot:Receive').Resource).toEqual(as('topic'));
  });

  it('never grants a bare wildcard, and scopes every per-device topic to the connected thing', () => {
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const resource of s.Resource) {
        expect(resource, s.Action).not.toBe('*');
        expect(resource, s.Action).not.toMatch(/:(topic|topicfilter|client)\/\*$/);
        expect(resource, s.Action).not.toMatch(/[+#]/);
      }
    }
    const shared = [':topic/volttron/metering', ':topic/$aws/rules/metering/volttron/metering'];
    const perDevice = statements.flatMap((s) => s.Resource).filter((r) => !shared.some((t) => r.endsWith(t)));
    for (const resource of perDevice) expect(resource).toContain(THING);
  });

  it('lets a device publish metering through Basic Ingest to the metering rule, and subscribe to or receive nothing there', () => {
    const basicIngest = `${ARN_PREFIX}topic/$aws/rules/metering/volttron/metering`;
    expect(topics.meteringBasicIngest).toBe('$aws/rules/metering/volttron/metering');
    expect(statement('iot:Publish').Resource).toContain(basicIngest);
    expect(statement('iot:Publish').Resource.filter((r) => r.includes('$aws/rules/'))).toEqual([basicIngest]);
    for (const action of ['iot:Subscribe', 'iot:Receive']) {
      expect(statement(action).Resource.filter((r) => r.includes('$aws/rules'))).toEqual([]);
    }
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.MeteringBasicIngestTopic!.Value).toBe('$aws/rules/metering/volttron/metering');
  });

  it("renders another stack's Basic Ingest resource with that stack's metering rule name", () => {
    const { template: other } = synthVpp({ stackName: 'VppStaging' });
    const [policy] = Object.values(resourcesOf(other, 'AWS::IoT::Policy'));
    const publish = (policy!.Properties.PolicyDocument.Statement as Statement[]).find((s) => s.Action === 'iot:Publish')!;
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
