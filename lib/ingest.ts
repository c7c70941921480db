// The IoT rules from the shared definitions, each invoking its handler Lambda, with one dead-letter queue as the
// error sink for the rules (errorAction), the Lambdas' async failures (on-failure destination) and refused messages,
// which the Lambdas also append to the refusals table.
// Beside them, the sweep that closes commands no ACK answered in time.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IOT_SQL_VERSION, rules, type RuleDefinition, type RuleHandler } from '../lambdas/core/rules.js';
import { tables } from '../lambdas/core/tables.js';
import { HandlerFunction } from './handler-function.js';
import type { Storage } from './storage.js';

export interface IngestProps {
  readonly storage: Storage;
  /**
   * Appended to every rule's shared name (`metering` + suffix): AWS rule names are unique per account and region,
   * and Basic Ingest topics carry them (`$aws/rules/{name}/...`). @default '' (the names of lambdas/core/rules.ts)
   */
  readonly ruleNameSuffix?: string;
}

/** What each rule's Lambda may touch: ingest only ever writes. */
const grants: Record<RuleHandler, (fn: HandlerFunction, storage: Storage) => void> = {
  metering: (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantWrite(fn, 'devices');
  },
  ack: (fn, storage) => {
    storage.grantWrite(fn, 'events');
    storage.grantWrite(fn, 'commands');
  },
  'winter-river': (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantWrite(fn, 'devices');
  },
  presence: (fn, storage) => storage.grantWrite(fn, 'devices'),
};

export class Ingest extends Construct {
  readonly deadLetterQueue: Queue;
  readonly functions: Record<RuleHandler, HandlerFunction>;
  readonly topicRules: Record<string, CfnTopicRule> = {};
  /** Deployed AWS rule name of each shared rule, by its name in lambdas/core/rules.ts. */
  readonly ruleNames: Record<string, string> = {};
  /** Marks `sent` commands past their expiry `timed-out` (lambdas/command-timeouts), once a minute. */
  readonly commandTimeouts: HandlerFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue: IoT rule errorActions, Lambda on-failure destinations and refused messages land here (nag only recognises SQS redrive and Lambda DeadLetterConfig).',
    });
    const errorActionRole = new Role(this, 'ErrorActionRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com'),
      description: 'Lets IoT rules send failed actions to the dead-letter queue',
    });
    this.deadLetterQueue.grantSendMessages(errorActionRole);

    this.functions = {} as Record<RuleHandler, HandlerFunction>;
    for (const rule of rules) {
      const fn = this.handlerFunction(rule, props.storage);
      const ruleName = `${rule.name}${props.ruleNameSuffix ?? ''}`;
      this.ruleNames[rule.name] = ruleName;
      this.topicRules[rule.name] = this.topicRule(rule, ruleName, fn, errorActionRole);
    }
    this.commandTimeouts = this.commandSweep(props.storage);
  }

  private commandSweep(storage: Storage): HandlerFunction {
    const fn = new HandlerFunction(this, 'CommandTimeouts', {
      handler: 'command-timeouts',
      description: 'Marks commands nobody acknowledged in time as timed-out',
      environment: { [tables.commands.env]: storage.tables.commands.tableName },
      // The next run a minute later is the retry; a failing sweep raises the Errors alarm.
      retryAttempts: 0,
    });
    storage.grantRead(fn, 'commands');
    storage.grantWrite(fn, 'commands');
    new Rule(this, 'CommandTimeoutsSchedule', {
      description: 'Runs the command time-out sweep',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
    return fn;
  }

  private handlerFunction(rule: RuleDefinition, storage: Storage): HandlerFunction {
    const existing = this.functions[rule.handler];
    if (existing) return existing;
    const fn = new HandlerFunction(this, pascal(rule.handler), {
      handler: rule.handler,
      description: rule.description,
      environment: { ...storage.environment, ERROR_QUEUE_URL: this.deadLetterQueue.queueUrl },
      // IoT invokes asynchronously: after two retries the event goes to the queue instead of being dropped.
      retryAttempts: 2,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.deadLetterQueue.grantSendMessages(fn);
    storage.grantAppend(fn, 'refusals'); // every refusal is also logged for the operators (GET /api/refused)
    grants[rule.handler](fn, storage);
    this.functions[rule.handler] = fn;
    return fn;
  }

  private topicRule(rule: RuleDefinition, ruleName: string, fn: HandlerFunction, errorActionRole: Role): CfnTopicRule {
    const topicRule = new CfnTopicRule(this, `${pascal(rule.name)}Rule`, {
      // Named, not generated: devices address the metering rule by name through Basic Ingest.
      ruleName,
      topicRulePayload: {
        description: rule.description,
        sql: rule.sql,
        awsIotSqlVersion: IOT_SQL_VERSION,
        ruleDisabled: false,
        actions: [{ lambda: { functionArn: fn.function.functionArn } }],
        errorAction: {
          sqs: { queueUrl: this.deadLetterQueue.queueUrl, roleArn: errorActionRole.roleArn, useBase64: false },
        },
      },
    });
    fn.function.addPermission(`Invoke${pascal(rule.name)}Rule`, {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: topicRule.attrArn,
      sourceAccount: Stack.of(this).account,
    });
    return topicRule;
  }
}

const pascal = (name: string) => name.replace(/(^|[-_])(\w)/g, (_, __, c: string) => c.toUpperCase());
