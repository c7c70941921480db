// What the first production deploy needs beyond "it deploys": MFA, runtimes, time-outs AWS enforces, data that
// survives a mistake, a redrive window, and an alarm on everything that can pile up.
import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { ITERATOR_AGE_ALARM } from '../../lib/operations.js';
import { AUTHORIZER_INVOCATIONS_PER_5_MIN } from '../../lib/live-feed.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { handlerFunctions, resourcesOf, synthVpp } from './synth.js';

describe('given the stack with its defaults, when synthesized', () => {
  let stack: VppStack;
  let template: Template;
  let optedIn: Template;

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    ({ template: optedIn } = synthVpp({ streamRetentionHours: '24', authorizerConcurrency: '5', destroyData: 'true' }));
  });

  it('then operators sign in with a TOTP second factor, always, and never by SMS', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  it("then every Node.js Lambda runs nodejs24.x, ours and CDK's own", () => {
    const runtimes = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).map(
      (f) => f.Properties.Runtime as string,
    );
    expect(runtimes.filter((r) => r.startsWith('nodejs')).length).toBeGreaterThanOrEqual(
      handlerFunctions(stack).length,
    );
    for (const runtime of runtimes.filter((r) => r.startsWith('nodejs'))) expect(runtime).toBe('nodejs24.x');
  });

  it('then the pre-provisioning hook gives up within the 5 s IoT waits for it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.provisioning.hook.role.roleArn),
      Timeout: 5,
    });
  });

  it('then every table has deletion protection, unless -c destroyData=true lets the stack delete it', () => {
    const tables = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(tables.length).toBeGreaterThan(10);
    for (const table of tables) expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    for (const table of Object.values(resourcesOf(optedIn, 'AWS::DynamoDB::Table')))
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('then each stream keeps its records 7 days for the redrive path, 24 h with -c streamRetentionHours=24', () => {
    for (const s of Object.values(resourcesOf(template, 'AWS::Kinesis::Stream')))
      expect(s.Properties.RetentionPeriodHours).toBe(168);
    for (const s of Object.values(resourcesOf(optedIn, 'AWS::Kinesis::Stream')))
      expect(s.Properties.RetentionPeriodHours).toBe(24);
  });

  it("then an alarm watches each stream-fed Lambda's iterator age", () => {
    for (const [, fn] of Object.entries(stack.ingest.functions)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Statistic: 'Maximum',
        Dimensions: [{ Name: 'FunctionName', Value: stack.resolve(fn.function.functionName) }],
        Threshold: ITERATOR_AGE_ALARM.toMilliseconds(),
      });
    }
  });

  it("then an alarm watches the public live-feed authorizer's invocations; reserved concurrency only when asked", () => {
    const authorizer = stack.resolve(stack.liveFeed.handler.function.functionName);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: authorizer }],
      Threshold: AUTHORIZER_INVOCATIONS_PER_5_MIN,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.liveFeed.handler.role.roleArn),
      ReservedConcurrentExecutions: Match.absent(),
    });
    optedIn.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(stack.liveFeed.handler.role.roleArn),
      ReservedConcurrentExecutions: 5,
    });
    expect(handlerFunctions(stack).length).toBe(11);
  });

  it('then every alarm in the template has its runbook line in docs/operate.md', () => {
    const alarms = stack.node.findAll().filter((c): c is Alarm => c instanceof Alarm);
    expect(alarms).toHaveLength(Object.keys(resourcesOf(template, 'AWS::CloudWatch::Alarm')).length);
    const operate = readFileSync(new URL('../../docs/operate.md', import.meta.url), 'utf8');
    const runbook = operate.slice(
      operate.indexOf('## Runbook'),
      operate.indexOf('\n## ', operate.indexOf('## Runbook') + 1),
    );
    const rows = runbook.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(
      rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1])),
    );
    const missing = alarms.map((a) => a.node.id).filter((id) => !documented.has(id));
    expect(missing).toEqual([]);
    // and each row says what it means and what to do
    for (const row of rows) expect(row.split(' | ').length, row.slice(0, 40)).toBe(3);
  });
});
