// The AWS calls of the deployed functions' code in the local stack, recorded per function as IAM sees them in AWS and
// evaluated against the synthesized role policies (test/iam/). One stack runs a scenario through the rules, the
// housekeeping sweep, the rollup pass and the API, the device revocation route included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { certificateIdOf } from '../../bin/local/iot/cert-registry.js';
import type { AwsCall } from '../../bin/local/aws/aws-calls.js';
import { fixture } from '../fixture.js';
import { eventually, presenceConnected, startTestStack, type TestStack } from '../e2e/helpers.js';
import { deniedCalls, describeDenied } from './evaluate.js';
import { deployedRolePolicies, type RolePolicies } from './role-policies.js';

let stack: TestStack;
let policies: RolePolicies;
let certificateId: string;
const T0 = 1_729_700_000;

beforeAll(async () => {
  policies = await deployedRolePolicies();
  stack = await startTestStack({ commandSweepMs: 100 });
  certificateId = certificateIdOf(await readFile((await stack.provision('ven-iam-1')).certFile));
  await presenceConnected(stack, 'ven-iam-1');
  const metering = (timestamp: number) =>
    Buffer.from(JSON.stringify({ ...fixture('volttron-metering'), venId: 'ven-iam-1', timestamp }));
  await stack.deliverToRules('volttron/metering', metering(T0), 'ven-iam-1');
  await stack.deliverToRules('volttron/metering', metering(T0 + 5), 'ven-iam-1');
  await stack.settle();
  await eventually(
    async () =>
      (await stack.api(`/api/vens/ven-iam-1/telemetry?start=${T0 - 100}&end=${T0 + 100}`)).body?.items?.length === 2,
  );
  await stack.rollupPass();
});
afterAll(() => stack?.dispose());

const ARN = (service: string, rest: string) => `arn:aws:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`;
const callsOf = (fn: AwsCall['fn']) => stack.awsCalls.all().filter((c) => c.fn === fn);

describe('each deployed function records its own calls', () => {
  it('the rules, the sweep and the rollup pass: each under its own function, with the table its environment names', async () => {
    expect(callsOf('metering')).toContainEqual({
      fn: 'metering',
      action: 'dynamodb:PutItem',
      resource: ARN('dynamodb', 'table/${env:TIMESERIES_TABLE}'),
    });
    expect(callsOf('presence').map((c) => c.resource)).toContain(ARN('dynamodb', 'table/${env:DEVICES_TABLE}'));
    await eventually(() =>
      callsOf('command-timeouts').some(
        (c) =>
          c.action === 'dynamodb:Query' &&
          c.resource === ARN('dynamodb', 'table/${env:COMMANDS_TABLE}/index/byDeadline'),
      ),
    );
    expect(callsOf('rollups').map((c) => c.action)).toContain('dynamodb:Query');
    // the API answered the telemetry reads; the rules never touch the API's tables
    expect(callsOf('api')).toContainEqual({
      fn: 'api',
      action: 'dynamodb:Query',
      resource: ARN('dynamodb', 'table/${env:TIMESERIES_TABLE}'),
    });
    expect(callsOf('metering').map((c) => c.resource)).not.toContain(ARN('dynamodb', 'table/${env:IDEMPOTENCY_TABLE}'));
  });

  it('a refusal by a rule: the dead-letter queue send and the refusal log put, under the rule function', async () => {
    await stack.deliverToRules('volttron/metering', Buffer.from('{"venId":"ven-iam-1"}'), 'ven-iam-1');
    await stack.settle();
    await eventually(() => callsOf('metering').some((c) => c.action === 'sqs:SendMessage'));
    expect(callsOf('metering')).toEqual(
      expect.arrayContaining([
        { fn: 'metering', action: 'sqs:SendMessage', resource: ARN('sqs', '${env:ERROR_QUEUE_URL}') },
        { fn: 'metering', action: 'dynamodb:PutItem', resource: ARN('dynamodb', 'table/${env:REFUSALS_TABLE}') },
      ]),
    );
  });
});

describe('the paths few tests reach, each under its own function and allowed', () => {
  it('a refusal by the der and presence rules: each sends to the refusals queue and logs it, with its own role', async () => {
    await stack.deliverToRules('der/telemetry/gw-iam-1', Buffer.from('{"site_id":1}'), 'gw-iam-1');
    await stack.deliverToRules('$aws/events/presence/connected/ven-iam-1', Buffer.from('{"clientId":5}'), undefined);
    await stack.settle();
    for (const fn of ['der', 'presence'] as const) {
      await eventually(() => callsOf(fn).some((c) => c.action === 'sqs:SendMessage'));
      expect(callsOf(fn)).toEqual(
        expect.arrayContaining([
          { fn, action: 'sqs:SendMessage', resource: ARN('sqs', '${env:ERROR_QUEUE_URL}') },
          { fn, action: 'dynamodb:PutItem', resource: ARN('dynamodb', 'table/${env:REFUSALS_TABLE}') },
        ]),
      );
    }
    const denied = deniedCalls([...callsOf('der'), ...callsOf('presence')], policies);
    expect(denied, describeDenied(denied, policies)).toEqual([]);
  });

  it('a command whose publish fails (broker down): the API discards its record, a DeleteItem its role allows', async () => {
    await stack.parts.broker.stop();
    try {
      const res = await stack.api('/api/vens/ven-iam-1/restore', { method: 'POST' });
      expect(res.status).toBeGreaterThanOrEqual(500);
    } finally {
      await stack.parts.broker.start();
    }
    const discard = {
      fn: 'api',
      action: 'dynamodb:DeleteItem',
      resource: ARN('dynamodb', 'table/${env:COMMANDS_TABLE}'),
    };
    expect(callsOf('api')).toContainEqual(discard);
    expect(deniedCalls([discard as AwsCall], policies)).toEqual([]);
  });

  it('a scheduled event starting while publishes fail: the sweep discards its command, a DeleteItem its role allows', async () => {
    const online = async () => (await stack.api('/api/vens/ven-iam-1')).body?.online === true;
    await stack.parts.broker.stop();
    try {
      // the VEN counts as online (its connected event, as IoT sends it), so the sweep sends it the event's command
      const connected = { clientId: 'ven-iam-1', timestamp: Date.now(), eventType: 'connected' };
      await stack.deliverToRules(
        '$aws/events/presence/connected/ven-iam-1',
        Buffer.from(JSON.stringify(connected)),
        undefined,
      );
      await eventually(online);
      const now = Date.now();
      await stack.ports.fleetEvents.create({
        eventId: 'evt-iam-scheduled',
        requested_kw: 1,
        duration_sec: 600,
        startedAt: now + 200,
        endsAt: now + 600_000,
        scheduled: true,
        allocations: [{ venId: 'ven-iam-1', shed_kw: 1, correlationId: 'c-iam-scheduled' }],
        shortfall_kw: 0,
        excluded: [],
      });
      await eventually(() => callsOf('command-timeouts').some((c) => c.action === 'dynamodb:DeleteItem'), 20_000);
    } finally {
      await stack.parts.broker.start();
    }
    const discard = callsOf('command-timeouts').filter((c) => c.action === 'dynamodb:DeleteItem');
    expect(discard).toEqual([
      {
        fn: 'command-timeouts',
        action: 'dynamodb:DeleteItem',
        resource: ARN('dynamodb', 'table/${env:COMMANDS_TABLE}'),
      },
    ]);
    expect(deniedCalls(discard, policies)).toEqual([]);
  });
});

describe('the device revocation route against the API function policy', () => {
  it("revokes, detaches the device policy and the thing from the certificate, marks the thing: every call allowed by the API's grants", async () => {
    const res = await stack.api('/api/devices/ven-iam-1/revoke', { method: 'POST' });
    expect(res).toMatchObject({ status: 200, body: { certificateIds: [certificateId] } });
    const iot = callsOf('api').filter((c) => c.action.startsWith('iot:'));
    const cert = ARN('iot', `cert/${certificateId}`);
    expect(iot).toEqual(
      expect.arrayContaining([
        { fn: 'api', action: 'iot:ListThingPrincipals', resource: ARN('iot', 'thing/ven-iam-1') },
        { fn: 'api', action: 'iot:UpdateCertificate', resource: cert },
        { fn: 'api', action: 'iot:DetachPolicy', resource: cert },
        { fn: 'api', action: 'iot:DetachThingPrincipal', resource: cert },
        { fn: 'api', action: 'iot:UpdateThing', resource: ARN('iot', 'thing/ven-iam-1') },
      ]),
    );
    const denied = deniedCalls(iot, policies);
    expect(denied, describeDenied(denied, policies)).toEqual([]);
  });
});

describe('the event report in S3 against the deployed policies', () => {
  it("the sweep puts the report object at settlement, the API presigns its GET: both on the object's ARN, both allowed", async () => {
    const now = Date.now();
    const eventId = 'evt-iam-report';
    await stack.ports.fleetEvents.create({
      eventId,
      requested_kw: 1,
      duration_sec: 60,
      startedAt: now - 7 * 60_000,
      endsAt: now - 6 * 60_000,
      allocations: [{ venId: 'ven-iam-1', shed_kw: 1, correlationId: 'c-iam-report' }],
      shortfall_kw: 0,
      excluded: [],
    });
    const object = `arn:aws:s3:::\${env:REPORTS_BUCKET}/events/${eventId}/report.csv`;
    await eventually(
      () => callsOf('command-timeouts').some((c) => c.action === 's3:PutObject' && c.resource === object),
      20_000,
    );
    const link = await eventually(async () => {
      const res = await fetch(`${stack.config.apiUrl}/api/events/${eventId}/report.csv`, {
        headers: { authorization: `Bearer ${stack.config.token}`, accept: 'application/json' },
      });
      return res.status === 200 && ((await res.json()) as { url: string });
    });
    expect(link.url).toContain(`/events/${eventId}/report.csv?X-Amz-`);
    expect(callsOf('api')).toContainEqual({ fn: 'api', action: 's3:GetObject', resource: object });
    const s3 = stack.awsCalls.all().filter((c) => c.action.startsWith('s3:'));
    expect(s3.map((c) => `${c.fn} ${c.action}`).sort()).toEqual(['api s3:GetObject', 'command-timeouts s3:PutObject']);
    const denied = deniedCalls(s3, policies);
    expect(denied, describeDenied(denied, policies)).toEqual([]);
  });
});

describe('every call of the scenario against the deployed policies', () => {
  it('none would be denied', async () => {
    const denied = deniedCalls(stack.awsCalls.all(), policies);
    expect(denied, describeDenied(denied, policies)).toEqual([]);
  });
});
