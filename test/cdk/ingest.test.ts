import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { IOT_SQL_VERSION, rules } from '../../lambdas/core/rules.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { actionsOf, resourcesOf, statementsOf, synthVpp } from './synth.js';

describe('given the stack, when synthesized, then ingest', () => {
  let stack: VppStack;
  let template: Template;
  let deadLetterQueue: { Ref: string };
  let deadLetterQueueArn: unknown;
  const fnArn = (handler: string) => stack.resolve(stack.ingest.functions[handler as 'ack'].function.functionArn);

  beforeAll(() => {
    ({ stack, template } = synthVpp());
    deadLetterQueue = stack.resolve(stack.ingest.deadLetterQueue.queueUrl);
    deadLetterQueueArn = stack.resolve(stack.ingest.deadLetterQueue.queueArn);
  });

  it('deploys exactly the shared rule definitions, SQL for SQL', () => {
    const deployed = Object.values(resourcesOf(template, 'AWS::IoT::TopicRule')).map(
      (r) => r.Properties.TopicRulePayload.Sql,
    );
    expect(deployed.sort()).toEqual(rules.map((r) => r.sql).sort());
  });

  it('names each rule as lambdas/core/rules.ts does, so the metering rule answers its Basic Ingest topic', () => {
    const names = Object.values(resourcesOf(template, 'AWS::IoT::TopicRule')).map((r) => r.Properties.RuleName);
    expect(names.sort()).toEqual(rules.map((r) => r.name).sort());
    expect(stack.ingest.ruleNames).toEqual(Object.fromEntries(rules.map((r) => [r.name, r.name])));
  });

  it('gives another stack in the same account its own rule names (AWS rule names are unique per region)', () => {
    const { template: other } = synthVpp({ stackName: 'Vpp-Staging' });
    const names = Object.values(resourcesOf(other, 'AWS::IoT::TopicRule')).map((r) => r.Properties.RuleName);
    expect(names.sort()).toEqual(rules.map((r) => `${r.name}_vpp_staging`).sort());
  });

  it.each(rules)('rule $name: SQL version 2016-03-23, its Lambda as action, the dead-letter queue as errorAction', (rule) => {
    expect(IOT_SQL_VERSION).toBe('2016-03-23');
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: rule.sql,
        AwsIotSqlVersion: '2016-03-23',
        RuleDisabled: false,
        Actions: [{ Lambda: { FunctionArn: fnArn(rule.handler) } }],
        ErrorAction: { Sqs: Match.objectLike({ QueueUrl: deadLetterQueue, UseBase64: false }) },
      }),
    });
  });

  it.each(rules)('rule $name: only that rule may invoke its Lambda (iot.amazonaws.com, by source ARN)', (rule) => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'iot.amazonaws.com',
      FunctionName: fnArn(rule.handler),
      SourceArn: stack.resolve(stack.ingest.topicRules[rule.name]!.attrArn),
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it.each(rules)('rule $name: async failures go to the dead-letter queue after two retries', (rule) => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(stack.ingest.functions[rule.handler].function.functionName),
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: deadLetterQueueArn } },
    });
  });

  it('gives every rule Lambda the dead-letter queue as ERROR_QUEUE_URL, and lets it send there', () => {
    for (const { handler } of rules) {
      const fn = stack.ingest.functions[handler];
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role.roleArn),
        Environment: { Variables: Match.objectLike({ ERROR_QUEUE_URL: deadLetterQueue }) },
      });
      expect(actionsOf(template, stack.resolve(fn.role.roleName))).toContain('sqs:SendMessage');
    }
  });

  it('lets ingest Lambdas write and never read: they only record what devices send', () => {
    for (const { handler } of rules) {
      const actions = actionsOf(template, stack.resolve(stack.ingest.functions[handler].role.roleName));
      expect(actions.filter((a) => /^dynamodb:(Get|Query|Scan|BatchGet)/.test(a)), handler).toEqual([]);
      expect(actions.some((a) => /^dynamodb:(PutItem|UpdateItem|BatchWriteItem)$/.test(a)), handler).toBe(true);
    }
  });

  it('lets every rule Lambda append to the refusal log (PutItem only) and names the table to it', () => {
    const refusals = stack.storage.tables.refusals;
    const arn = JSON.stringify(stack.resolve(refusals.tableArn));
    for (const { handler } of rules) {
      const fn = stack.ingest.functions[handler];
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role.roleArn),
        Environment: { Variables: Match.objectLike({ REFUSALS_TABLE: stack.resolve(refusals.tableName) }) },
      });
      const onRefusals = statementsOf(template, stack.resolve(fn.role.roleName)).filter((st) => JSON.stringify(st.Resource).includes(arn));
      expect(onRefusals, handler).toEqual([expect.objectContaining({ Action: 'dynamodb:PutItem', Resource: stack.resolve(refusals.tableArn) })]);
    }
  });

  it('runs the command time-out sweep every minute, on the commands table only', () => {
    const sweep = stack.ingest.commandTimeouts;
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: stack.resolve(sweep.function.functionArn) })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(sweep.role.roleArn),
      Environment: { Variables: Match.objectLike({ COMMANDS_TABLE: stack.resolve(stack.storage.tables.commands.tableName) }) },
    });
    const commandsTable = JSON.stringify(stack.resolve(stack.storage.tables.commands.tableArn));
    const resources = statementsOf(template, stack.resolve(sweep.role.roleName))
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')))
      .flatMap((st) => [st.Resource].flat());
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) expect(JSON.stringify(resource)).toContain(commandsTable.slice(1, -1));
  });
});
