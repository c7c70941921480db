// The IoT rules from the shared definitions. Store before processing: each rule's action puts the message into
// its own Kinesis data stream (partition key = the device), and the rule's Lambda reads that stream in batches
// (event source mapping with partial batch responses). One dead-letter queue is the error sink for the rules
// (errorAction: a failed put), for batches the stream gave up on (the mapping's on-failure destination) and for
// refused messages, which the Lambdas also append to the refusals table.
// Beside them, the housekeeping sweep (it closes commands no ACK answered in time and settles ended fleet DR events)
// and the rollup pass every 15 minutes.
import { Duration, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { iotRulesPrincipal } from './iot-service-role.js';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { StartingPosition, type IEventSourceDlq } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEFAULT_FLEET_SIZE,
  IOT_SQL_VERSION,
  rules,
  shardsFor,
  type RuleDefinition,
  type RuleHandler,
} from '../lambdas/core/contracts/rules.js';
import { METERING_RULE } from '../lambdas/core/contracts/topics.js';
import { topologyJson, type Topology } from '../lambdas/core/contracts/topology.js';
import { topics } from '../lambdas/core/contracts/topics.js';
import { HandlerFunction } from './handler-function.js';
import type { Storage } from './storage.js';

export interface IngestProps {
  readonly storage: Storage;
  /**
   * Appended to the metering rule's name (`metering` + suffix), the one rule with a fixed name: devices address it by
   * its Basic Ingest topic (`$aws/rules/{name}/...`), and AWS rule names are unique per account and region. The other
   * rules get names CloudFormation generates, so no two stacks or regions collide on them. @default ''
   */
  readonly ruleNameSuffix?: string;
  /** VENs the ingest path is sized for: the metering stream gets ⌈fleetSize / VENS_PER_METERING_SHARD⌉ shards. @default DEFAULT_FLEET_SIZE */
  readonly fleetSize?: number;
  /** How long each rule's stream keeps its records: the window a failed batch can be redriven in. @default DEFAULT_STREAM_RETENTION_HOURS */
  readonly streamRetentionHours?: number;
}

/**
 * Seven days: a batch that failed on a Friday evening is still in the stream on Monday for `npm run redrive` (the
 * dead-letter queue keeps only where the batch was). Kinesis prices retention beyond 24 h per shard-hour, the same
 * for 25 h as for 168 h (0.02 USD in us-east-1: 5 one-shard streams, about 73 USD a month), so the longest of that
 * tier. `-c streamRetentionHours=24` saves it and leaves 18 hours to redrive after the 6-hour maximum record age.
 */
export const DEFAULT_STREAM_RETENTION_HOURS = 168;
/** The event source mapping gives up on a record this old and sends where it was to the dead-letter queue. */
export const MAX_RECORD_AGE = Duration.hours(6);

/**
 * What each rule's Lambda may touch: ingest only ever writes, and each grant is an item action its code makes (a
 * registry heartbeat is an UpdateItem; a late sample's rollup bucket marked dirty a PutItem).
 */
const grants: Record<RuleHandler, (fn: HandlerFunction, storage: Storage) => void> = {
  metering: (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantCalls(fn, 'devices', ['UpdateItem']);
    storage.grantCalls(fn, 'rollups', ['PutItem']);
  },
  // the ACK history appended; the command completed by a conditional update; its outcome in the node's ledger (reads
  // the node's head entry, then a conditional put)
  ack: (fn, storage) => {
    storage.grantCalls(fn, 'events', ['PutItem']);
    storage.grantCalls(fn, 'commands', ['UpdateItem']);
    storage.grantCalls(fn, 'ledger', ['Query', 'PutItem']);
  },
  // and the power system's one item: read, then a conditional put (iot:Publish of its commands: connectWinterRiver)
  'winter-river': (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantCalls(fn, 'devices', ['UpdateItem']);
    storage.grantCalls(fn, 'rollups', ['PutItem']);
    storage.grantCalls(fn, 'powerSystem', ['GetItem', 'PutItem']);
  },
  // and reads back the device's state item to fold the event into its recent sessions
  presence: (fn, storage) => {
    storage.grantCalls(fn, 'devices', ['GetItem', 'UpdateItem']);
  },
  // checks each reading's asset and site against the inventory (one GetItem each)
  der: (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantCalls(fn, 'devices', ['UpdateItem']);
    storage.grantCalls(fn, 'rollups', ['PutItem']);
    storage.grantCalls(fn, 'inventory', ['GetItem']);
  },
  // an edge node's telemetry and status into the time series and the registry (a status is folded into its recent
  // sessions as presence is: one GetItem of its state item); its ACKs complete its commands
  edge: (fn, storage) => {
    storage.grantTimeseriesWrite(fn);
    storage.grantCalls(fn, 'devices', ['GetItem', 'UpdateItem']);
    storage.grantCalls(fn, 'commands', ['UpdateItem']);
    storage.grantCalls(fn, 'ledger', ['Query', 'PutItem']);
    storage.grantCalls(fn, 'rollups', ['PutItem']); // a late sample's bucket marked dirty
  },
};

export class Ingest extends Construct {
  /** Real failures only: rule actions that failed (errorAction) and batches the stream gave up on (on-failure). Alarmed. */
  readonly deadLetterQueue: Queue;
  /**
   * Device input the Lambdas refused (a bad schema, a clock ahead, a foreign asset), each also in the refusals table
   * the operators read. A device's mistake, not the platform's: no depth alarm, kept 4 days.
   */
  readonly refusalsQueue: Queue;
  readonly functions: Record<RuleHandler, HandlerFunction>;
  /** Each rule's stream, by its name in lambdas/core/contracts/rules.ts. */
  readonly streams: Record<string, Stream> = {};
  /** May put records into the rules' streams, nothing else: the role of the rules' Kinesis actions. */
  readonly ruleActionRole: Role;
  readonly topicRules: Record<string, CfnTopicRule> = {};
  /** Deployed AWS rule name of each shared rule (a token for the generated ones), by its name in lambdas/core/contracts/rules.ts. */
  readonly ruleNames: Record<string, string> = {};
  /** The housekeeping sweep, once a minute: command time-outs, fleet event settlement (lambdas/command-timeouts). */
  readonly commandTimeouts: HandlerFunction;
  /** The rollup pass (lambdas/rollups), every 15 minutes. */
  readonly rollups: HandlerFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue: IoT rule errorActions and Lambda on-failure destinations land here (nag only recognises SQS redrive and Lambda DeadLetterConfig).',
    });
    this.refusalsQueue = new Queue(this, 'RefusalsQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
    });
    Validations.of(this.refusalsQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the sink of refused device input (ERROR_QUEUE_URL); nothing consumes it to fail again.',
    });
    const errorActionRole = new Role(this, 'ErrorActionRole', {
      assumedBy: iotRulesPrincipal(),
      description: 'Lets IoT rules send failed actions to the dead-letter queue',
    });
    this.deadLetterQueue.grantSendMessages(errorActionRole);
    this.ruleActionRole = new Role(this, 'RuleActionRole', {
      assumedBy: iotRulesPrincipal(),
      description: 'Lets the IoT rules put messages into their Kinesis streams',
    });

    this.functions = {} as Record<RuleHandler, HandlerFunction>;
    for (const rule of rules) {
      const stream = this.ruleStream(
        rule,
        shardsFor(rule, props.fleetSize ?? DEFAULT_FLEET_SIZE),
        props.streamRetentionHours ?? DEFAULT_STREAM_RETENTION_HOURS,
      );
      this.handlerFunction(rule, stream, props.storage);
      const fixedName = rule.name === METERING_RULE ? `${rule.name}${props.ruleNameSuffix ?? ''}` : undefined;
      const topicRule = this.topicRule(rule, fixedName, stream, errorActionRole);
      this.topicRules[rule.name] = topicRule;
      this.ruleNames[rule.name] = fixedName ?? topicRule.ref; // Ref of a topic rule is its name
    }
    this.commandTimeouts = this.commandSweep(props.storage);
    this.rollups = this.rollupPass(props.storage);
  }

  /**
   * The Winter River controller publishes its commands through the IoT data plane: to the command topic of each
   * node of its topology, and no other (the fleet comes after ingest: it names the metering rule).
   */
  connectWinterRiver({
    arnPrefix,
    dataEndpoint,
    topology,
  }: {
    arnPrefix: string;
    dataEndpoint: string;
    topology: Topology;
  }): void {
    const fn = this.functions['winter-river'];
    fn.function.addEnvironment('IOT_DATA_ENDPOINT', `https://${dataEndpoint}`);
    fn.function.addEnvironment('WINTER_RIVER_TOPOLOGY', topologyJson(topology));
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iot:Publish'],
        resources: topology.nodes.map((n) => `${arnPrefix}:topic/${topics.winterRiverCommand(n.id)}`),
      }),
    );
  }

  /**
   * The housekeeping sweep starts scheduled fleet DR events: it publishes their VENs' commands (on the VEN command
   * topics only) and reads whether each VEN is online (the fleet comes after ingest: it owns the data endpoint).
   */
  connectHousekeeping({ arnPrefix, dataEndpoint }: { arnPrefix: string; dataEndpoint: string }): void {
    const fn = this.commandTimeouts;
    fn.function.addEnvironment('IOT_DATA_ENDPOINT', `https://${dataEndpoint}`);
    const venCommands = `topic/${topics.command('*')}`;
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['iot:Publish'], resources: [`${arnPrefix}:${venCommands}`] }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:${venCommands}]`,
      reason:
        'iot:Publish only, on the VEN command topics: a scheduled fleet event commands whichever VENs it was allocated.',
    });
  }

  /**
   * The one-minute housekeeping (lambdas/command-timeouts): command time-outs, the start of scheduled fleet DR events
   * (connectHousekeeping), then the settlement of ended ones (lambdas/core/dr/settlement.ts).
   */
  private commandSweep(storage: Storage): HandlerFunction {
    const fn = new HandlerFunction(this, 'CommandTimeouts', {
      handler: 'command-timeouts',
      description: 'Marks commands nobody acknowledged in time as timed-out; settles ended fleet DR events',
      environment: storage.environment,
      // Settling a day-long event over a large fleet reads each VEN's metering: minutes, not seconds. A run still going
      // when the next starts is harmless (the report is stored once, each entry appended once).
      timeout: Duration.minutes(5),
      // The next run a minute later is the retry; a failing sweep raises the Errors alarm.
      retryAttempts: 0,
    });
    // the due commands by their deadline index; each read, marked timed-out; a scheduled event's commands recorded
    // (and discarded again if their publish fails)
    storage.grantCalls(fn, 'commands', ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'], { indexes: true });
    storage.grantCalls(fn, 'ledger', ['Query', 'PutItem']); // each time-out and each settlement in the node's ledger
    storage.grantCalls(fn, 'metadata', ['GetItem']); // each VEN's tariff
    storage.grantTimeseriesRead(fn); // the metering an event's report is computed from
    // whether a scheduled event's VENs are online at its start: one device's items (identity, state), by its key
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [storage.tables.devices.tableArn] }),
    );
    const fleetEvents = storage.tables.fleetEvents;
    // fleet events: listed by month, each read, its report stored beside it (its parts read back for the CSV file) and the
    // event marked settled; no Scan, no Delete
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${fleetEvents.tableArn}/index/byMonth`] }),
    );
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [fleetEvents.tableArn],
      }),
    );
    this.schedule(
      'CommandTimeoutsSchedule',
      fn,
      Duration.minutes(1),
      'Runs the housekeeping sweep: command time-outs, fleet event settlement',
    );
    return fn;
  }

  private rollupPass(storage: Storage): HandlerFunction {
    const fn = new HandlerFunction(this, 'Rollups', {
      handler: 'rollups',
      description:
        'Closes the 15-minute rollup buckets, recomputes late ones, and the hours, days and months above them',
      environment: storage.environment,
      timeout: Duration.minutes(10),
      // the next pass 15 minutes later is the retry: it starts from the watermark and finds the markers still there
      retryAttempts: 0,
    });
    // rows written in batches, read by Query and BatchGetItem; the watermark's item read and put; markers deleted
    storage.grantCalls(fn, 'rollups', ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'DeleteItem', 'BatchWriteItem']);
    storage.grantTimeseriesRead(fn);
    storage.grantCalls(fn, 'devices', ['BatchGetItem'], { indexes: true }); // the VENs and Winter River nodes (byKind)
    storage.grantCalls(fn, 'inventory', ['Query']); // the DER assets and their sites
    this.schedule('RollupsSchedule', fn, Duration.minutes(15), 'Runs the rollup pass');
    return fn;
  }

  /** Runs `fn` every `rate` (EventBridge); no retry: the next run is the retry. */
  private schedule(id: string, fn: HandlerFunction, rate: Duration, description: string): void {
    new Rule(this, id, {
      description,
      schedule: Schedule.rate(rate),
      targets: [new LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
  }

  /** Provisioned (a shard-hour is cheaper than on-demand's stream-hour at this volume), encrypted with aws/kinesis. */
  private ruleStream(rule: RuleDefinition, shardCount: number, retentionHours: number): Stream {
    const stream = new Stream(this, `${pascal(rule.name)}Stream`, {
      streamMode: StreamMode.PROVISIONED,
      shardCount,
      encryption: StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(retentionHours),
    });
    // PutRecord only: the IoT Kinesis action writes one record per message
    this.ruleActionRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [stream.streamArn] }),
    );
    this.streams[rule.name] = stream;
    return stream;
  }

  private handlerFunction(rule: RuleDefinition, stream: Stream, storage: Storage): HandlerFunction {
    if (this.functions[rule.handler])
      throw new Error(`two rules share the handler ${rule.handler}: give each rule its own`);
    const fn = new HandlerFunction(this, pascal(rule.handler), {
      handler: rule.handler,
      description: rule.description,
      // refusals go to their own queue: a device's bad message must not hold the failure alarm red
      environment: { ...storage.environment, ERROR_QUEUE_URL: this.refusalsQueue.queueUrl },
    });
    fn.function.addEventSource(
      new KinesisEventSource(stream, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: rule.stream.batchSize,
        maxBatchingWindow: Duration.seconds(rule.stream.maxBatchingWindowSec),
        parallelizationFactor: rule.stream.parallelization,
        // a failing batch is split in two until the failing record is alone; the handler names the records that
        // failed, so the retry starts at the first of them
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: rule.stream.retryAttempts,
        // the records stay in the stream for its retention: the dead-letter queue gets where they are
        maxRecordAge: MAX_RECORD_AGE,
        onFailure: sendOnlyDlq(this.deadLetterQueue),
      }),
    );
    // SendMessage alone: grantSendMessages adds GetQueueAttributes and GetQueueUrl, which the handler never calls (it has the URL)
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.refusalsQueue.queueArn] }),
    );
    storage.grantCalls(fn, 'refusals', ['PutItem']); // every refusal is also logged for the operators (GET /api/refused)
    grants[rule.handler](fn, storage);
    this.functions[rule.handler] = fn;
    return fn;
  }

  private topicRule(
    rule: RuleDefinition,
    ruleName: string | undefined,
    stream: Stream,
    errorActionRole: Role,
  ): CfnTopicRule {
    return new CfnTopicRule(this, `${pascal(rule.name)}Rule`, {
      // Only the metering rule is named: devices address it by name through Basic Ingest. The others are generated.
      ...(ruleName && { ruleName }),
      topicRulePayload: {
        description: rule.description,
        sql: rule.sql,
        awsIotSqlVersion: IOT_SQL_VERSION,
        ruleDisabled: false,
        actions: [
          {
            kinesis: {
              streamName: stream.streamName,
              partitionKey: rule.partitionKey,
              roleArn: this.ruleActionRole.roleArn,
            },
          },
        ],
        errorAction: {
          sqs: { queueUrl: this.deadLetterQueue.queueUrl, roleArn: errorActionRole.roleArn, useBase64: false },
        },
      },
    });
  }
}

const pascal = (name: string) => name.replace(/(^|[-_])(\w)/g, (_, __, c: string) => c.toUpperCase());

/**
 * The mapping's on-failure destination with sqs:SendMessage alone, all Lambda uses it for (CDK's SqsDlq grants
 * GetQueueAttributes and GetQueueUrl too).
 */
function sendOnlyDlq(queue: IQueue): IEventSourceDlq {
  return {
    bind: (_mapping, handler) => {
      handler.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      return { destination: queue.queueArn };
    },
  };
}
