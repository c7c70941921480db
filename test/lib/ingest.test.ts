import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_FLEET_SIZE,
  IOT_SQL_VERSION,
  rules,
  shardsFor,
  VENS_PER_METERING_SHARD,
} from '../../lambdas/core/contracts/rules.js';
import { DEFAULT_STREAM_RETENTION_HOURS } from '../../lib/ingest.js';
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

  const ruleNamesOf = (t: Template) =>
    Object.fromEntries(
      Object.entries(resourcesOf(t, 'AWS::IoT::TopicRule')).map(([id, r]) => [id, r.Properties.RuleName]),
    );

  it('names only the metering rule (its Basic Ingest topic carries the name); CloudFormation names the others', () => {
    const names = ruleNamesOf(template);
    expect(Object.values(names).filter(Boolean)).toEqual(['metering']);
    expect(Object.keys(names)).toHaveLength(rules.length);
    // the other rules' deployed names are their Ref, which the alarms and the dashboard use
    const refs = rules.filter((r) => r.name !== 'metering').map((r) => stack.resolve(stack.ingest.ruleNames[r.name]));
    expect(refs).toEqual(
      rules
        .filter((r) => r.name !== 'metering')
        .map((r) => ({ Ref: stack.getLogicalId(stack.ingest.topicRules[r.name]!) })),
    );
    expect(stack.ingest.ruleNames.metering).toBe('metering');
  });

  it('gives another stack in the same account its own metering rule name; no rule name is shared between them', () => {
    const { template: other } = synthVpp({ stackName: 'Vpp-Staging', sharedAccount: 'true' });
    expect(Object.values(ruleNamesOf(other)).filter(Boolean)).toEqual(['metering_vpp_staging']);
  });

  const streamOf = (rule: string) => stack.resolve(stack.ingest.streams[rule]!.streamName);
  const streamArnOf = (rule: string) => stack.resolve(stack.ingest.streams[rule]!.streamArn);

  it.each(rules)(
    'rule $name: SQL version 2016-03-23, a put into its own stream by device as action, the dead-letter queue as errorAction',
    (rule) => {
      expect(IOT_SQL_VERSION).toBe('2016-03-23');
      template.hasResourceProperties('AWS::IoT::TopicRule', {
        TopicRulePayload: Match.objectLike({
          Sql: rule.sql,
          AwsIotSqlVersion: '2016-03-23',
          RuleDisabled: false,
          Actions: [
            {
              Kinesis: {
                StreamName: streamOf(rule.name),
                PartitionKey: rule.partitionKey,
                RoleArn: stack.resolve(stack.ingest.ruleActionRole.roleArn),
              },
            },
          ],
          ErrorAction: { Sqs: Match.objectLike({ QueueUrl: deadLetterQueue, UseBase64: false }) },
        }),
      });
    },
  );

  it('partitions every stream by device: the sender, or for presence events the client they describe', () => {
    expect(Object.fromEntries(rules.map((r) => [r.name, r.partitionKey]))).toEqual({
      metering: '${clientid()}',
      ack: '${clientid()}',
      winter_river: '${clientid()}',
      presence: '${clientId}',
      der: '${clientid()}',
      edge: '${clientid()}',
    });
  });

  it('gives every rule its own stream (ACKs and presence never wait behind metering), provisioned, encrypted with aws/kinesis', () => {
    const streams = resourcesOf(template, 'AWS::Kinesis::Stream');
    expect(Object.keys(streams)).toHaveLength(rules.length);
    expect(new Set(rules.map((r) => JSON.stringify(streamOf(r.name)))).size).toBe(rules.length);
    for (const rule of rules) {
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        Name: Match.absent(),
        ShardCount: shardsFor(rule, DEFAULT_FLEET_SIZE),
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: DEFAULT_STREAM_RETENTION_HOURS,
      });
    }
  });

  it('sizes the metering stream for the fleet (-c fleetSize): 100,000 VENs get 80 shards, the other streams stay at theirs', () => {
    const shardsOf = (t: Template) =>
      Object.fromEntries(
        rules.map((r) => {
          const id = stack.getLogicalId(stack.ingest.streams[r.name]!.node.defaultChild as never);
          return [r.name, resourcesOf(t, 'AWS::Kinesis::Stream')[id]?.Properties.ShardCount];
        }),
      );
    expect(shardsOf(template)).toEqual({ metering: 1, ack: 1, winter_river: 1, der: 1, edge: 1, presence: 1 });
    const { template: big } = synthVpp({ fleetSize: '100000' });
    expect(shardsOf(big)).toEqual({ metering: 80, ack: 1, winter_river: 1, der: 1, edge: 1, presence: 1 });
    // what a shard carries, against the quota: ~510 B/s per VEN at 5 s (bench/cost-model.ts measures the records)
    expect(VENS_PER_METERING_SHARD * 510).toBeLessThanOrEqual(0.8 * 1_000_000);
    expect(
      synthVpp({ fleetSize: '1251' }).template.findResources('AWS::Kinesis::Stream', { Properties: { ShardCount: 2 } }),
    ).not.toEqual({});
  });

  it.each(rules)(
    'rule $name: its Lambda reads its stream in batches, reports partial failures, bisects, retries, then tells the dead-letter queue',
    (rule) => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: stack.resolve(stack.ingest.functions[rule.handler].function.functionName),
        EventSourceArn: streamArnOf(rule.name),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: rule.stream.batchSize,
        MaximumBatchingWindowInSeconds: rule.stream.maxBatchingWindowSec,
        ParallelizationFactor: rule.stream.parallelization,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: rule.stream.retryAttempts,
        MaximumRecordAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: deadLetterQueueArn } },
      });
    },
  );

  it('batches metering by the minute (2,000 records, 60 s window, 10 lanes per shard), other telemetry by the second, and invokes ACKs and presence as soon as they arrive', () => {
    const byRule = Object.fromEntries(
      rules.map((r) => [r.name, [r.stream.batchSize, r.stream.maxBatchingWindowSec, r.stream.parallelization]]),
    );
    expect(byRule).toEqual({
      metering: [2000, 60, 10],
      winter_river: [500, 1, 4],
      der: [500, 1, 4],
      edge: [500, 1, 4],
      ack: [100, 0, 1],
      presence: [100, 0, 1],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: stack.resolve(stack.ingest.functions.metering.function.functionName),
      BatchSize: 2000,
      MaximumBatchingWindowInSeconds: 60,
      ParallelizationFactor: 10,
    });
    // a lane's minute of VOLTTRON VENs (12 records of ~2.6 KB each, base64 in the event) fits one batch and Lambda's 6 MB
    const metering = rules.find((r) => r.name === 'metering')!.stream;
    const lanesMinute = (VENS_PER_METERING_SHARD / metering.parallelization) * 12;
    expect(lanesMinute).toBeLessThanOrEqual(metering.batchSize);
    expect(lanesMinute * ((2_600 * 4) / 3 + 200)).toBeLessThan(6 * 1024 * 1024);
  });

  it('lets the rules put records into their streams and do nothing else; nobody invokes the rule Lambdas but their mappings', () => {
    const statements = statementsOf(template, stack.resolve(stack.ingest.ruleActionRole.roleName));
    expect(statements).toHaveLength(rules.length);
    expect(statements).toEqual(
      expect.arrayContaining(
        rules.map((r) => expect.objectContaining({ Action: 'kinesis:PutRecord', Resource: streamArnOf(r.name) })),
      ),
    );
    const ruleFunctions = rules.map((r) => JSON.stringify(fnArn(r.handler)));
    const invokers = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter((p) =>
      ruleFunctions.includes(JSON.stringify(p.Properties.FunctionName)),
    );
    expect(invokers).toEqual([]);
  });

  it.each(rules)('rule $name: its Lambda may read its own stream and no other', (rule) => {
    const statements = statementsOf(template, stack.resolve(stack.ingest.functions[rule.handler].role.roleName));
    const kinesis = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('kinesis:')));
    expect(kinesis.length).toBeGreaterThan(0);
    for (const st of kinesis) {
      expect([st.Action].flat().filter((a) => /^kinesis:(Put|Delete|Create|Update|Merge|Split)/.test(a))).toEqual([]);
      expect(JSON.stringify(st.Resource)).toBe(JSON.stringify(streamArnOf(rule.name)));
    }
  });

  it('gives every rule Lambda the refusals queue as ERROR_QUEUE_URL, not the dead-letter queue whose depth is alarmed', () => {
    const refusalsQueue = stack.resolve(stack.ingest.refusalsQueue.queueUrl);
    expect(refusalsQueue).not.toEqual(deadLetterQueue);
    for (const { handler } of rules) {
      const fn = stack.ingest.functions[handler];
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: stack.resolve(fn.role.roleArn),
        Environment: { Variables: Match.objectLike({ ERROR_QUEUE_URL: refusalsQueue }) },
      });
      const sends = statementsOf(template, stack.resolve(fn.role.roleName)).filter((st) =>
        [st.Action].flat().includes('sqs:SendMessage'),
      );
      expect(sends.map((st) => JSON.stringify(st.Resource)).sort()).toEqual(
        [stack.resolve(stack.ingest.refusalsQueue.queueArn), stack.resolve(stack.ingest.deadLetterQueue.queueArn)]
          .map((r) => JSON.stringify(r))
          .sort(),
      );
      // on either queue the function only sends (the handler has the URL; the mapping's on-failure destination sends
      // with the role): no GetQueueUrl, no GetQueueAttributes
      for (const queue of [stack.ingest.refusalsQueue, stack.ingest.deadLetterQueue]) {
        const on = statementsOf(template, stack.resolve(fn.role.roleName)).filter(
          (st) => JSON.stringify(st.Resource) === JSON.stringify(stack.resolve(queue.queueArn)),
        );
        expect(
          on.flatMap((st) => [st.Action].flat()),
          handler,
        ).toEqual(['sqs:SendMessage']);
      }
    }
    // the only queue-depth alarm is the dead-letter queue's
    const depthAlarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(depthAlarms.map((a) => a.Properties.Dimensions)).toEqual([
      [{ Name: 'QueueName', Value: stack.resolve(stack.ingest.deadLetterQueue.queueName) }],
    ]);
  });

  it('lets ingest Lambdas write and never query: they only record what devices send (der reads the inventory; two read back one item)', () => {
    for (const { handler } of rules.filter((r) => r.handler !== 'der')) {
      const statements = statementsOf(template, stack.resolve(stack.ingest.functions[handler].role.roleName));
      // each statement's read actions (CDK merges a table's write and read statements when their resources are the same)
      const reads = statements.flatMap((st) => {
        const read = [st.Action].flat().filter((a: string) => /^dynamodb:(Get|Query|Scan|BatchGet)/.test(a));
        return read.length ? [{ Action: read, Resource: st.Resource }] : [];
      });
      const actions = actionsOf(template, stack.resolve(stack.ingest.functions[handler].role.roleName));
      // the Winter River controller reads back the one system item it rewrites, presence a device's state item
      const expected =
        {
          'winter-river': [
            { Action: ['dynamodb:GetItem'], Resource: stack.resolve(stack.storage.tables.powerSystem.tableArn) },
          ],
          presence: [{ Action: ['dynamodb:GetItem'], Resource: stack.resolve(stack.storage.tables.devices.tableArn) }],
          // the ack rule appends command outcomes to the ledger: it reads the node's head entry, on that table only
          ack: [{ Action: ['dynamodb:Query'], Resource: stack.resolve(stack.storage.tables.ledger.tableArn) }],
          // and so does the edge rule, for its nodes' command ACKs; it reads a node's state item to fold its status in, as presence does
          edge: [
            expect.objectContaining({
              Action: ['dynamodb:GetItem'],
              Resource: stack.resolve(stack.storage.tables.devices.tableArn),
            }),
            expect.objectContaining({
              Action: ['dynamodb:Query'],
              Resource: stack.resolve(stack.storage.tables.ledger.tableArn),
            }),
          ],
        }[handler as string] ?? [];
      expect(reads, handler).toEqual(expected);
      expect(
        actions.some((a) => /^dynamodb:(PutItem|UpdateItem|BatchWriteItem)$/.test(a)),
        handler,
      ).toBe(true);
    }
  });

  it('lets the Winter River controller publish only on the command topics of the nodes of its topology, and names the topology to it', () => {
    const fn = stack.ingest.functions['winter-river'];
    const publishes = statementsOf(template, stack.resolve(fn.role.roleName)).filter((st) =>
      [st.Action].flat().includes('iot:Publish'),
    );
    const topicsOf = publishes
      .flatMap((st) => [st.Resource].flat())
      .map((r: unknown) => JSON.stringify(r).match(/:topic\/([^"]+)"/)?.[1]);
    expect(topicsOf.sort()).toEqual(
      ['dist_a', 'gen_a', 'pdu_a', 'srv_a', 'sw_a', 'trf_a', 'ups_a', 'util_a'].map(
        (id) => `winter-river/${id}/command`,
      ),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(fn.role.roleArn),
      Environment: {
        Variables: Match.objectLike({
          POWER_SYSTEM_TABLE: stack.resolve(stack.storage.tables.powerSystem.tableName),
          WINTER_RIVER_TOPOLOGY: Match.stringLikeRegexp('"id":"util_a"'),
          IOT_DATA_ENDPOINT: Match.anyValue(),
        }),
      },
    });
  });

  it("lets only the ack rules (VENs' and edge nodes') touch the ledger, with Query and PutItem on the table alone (no update, no delete, no index)", () => {
    const ledgerArn = JSON.stringify(stack.resolve(stack.storage.tables.ledger.tableArn));
    for (const { handler } of rules) {
      const onLedger = statementsOf(template, stack.resolve(stack.ingest.functions[handler].role.roleName)).filter(
        (st) => JSON.stringify(st.Resource).includes(ledgerArn),
      );
      expect(onLedger, handler).toEqual(
        handler === 'ack' || handler === 'edge'
          ? [
              expect.objectContaining({
                Action: ['dynamodb:PutItem', 'dynamodb:Query'],
                Resource: stack.resolve(stack.storage.tables.ledger.tableArn),
              }),
            ]
          : [],
      );
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
      const onRefusals = statementsOf(template, stack.resolve(fn.role.roleName)).filter((st) =>
        JSON.stringify(st.Resource).includes(arn),
      );
      expect(onRefusals, handler).toEqual([
        expect.objectContaining({ Action: 'dynamodb:PutItem', Resource: stack.resolve(refusals.tableArn) }),
      ]);
    }
  });

  it('schedules the housekeeping sweep every minute and the rollup pass every 15 minutes, each with no retry (the next run is the retry)', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).map((r) => r.Properties);
    const target = (fn: { function: { functionArn: string } }) => stack.resolve(fn.function.functionArn);
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ScheduleExpression: 'rate(1 minute)',
          Targets: [
            expect.objectContaining({
              Arn: target(stack.ingest.commandTimeouts),
              RetryPolicy: { MaximumRetryAttempts: 0 },
            }),
          ],
        }),
        expect.objectContaining({
          ScheduleExpression: 'rate(15 minutes)',
          Targets: [
            expect.objectContaining({ Arn: target(stack.ingest.rollups), RetryPolicy: { MaximumRetryAttempts: 0 } }),
          ],
        }),
      ]),
    );
  });

  it('runs the housekeeping sweep every minute: commands, the ledger, and fleet events, metadata and time series read to settle', () => {
    const sweep = stack.ingest.commandTimeouts;
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: stack.resolve(sweep.function.functionArn) })],
    });
    const t = stack.storage.tables;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: stack.resolve(sweep.role.roleArn),
      Environment: {
        Variables: Match.objectLike({
          COMMANDS_TABLE: stack.resolve(t.commands.tableName),
          LEDGER_TABLE: stack.resolve(t.ledger.tableName),
          FLEET_EVENTS_TABLE: stack.resolve(t.fleetEvents.tableName),
          METADATA_TABLE: stack.resolve(t.metadata.tableName),
        }),
      },
    });
    const json = (x: unknown) => JSON.stringify(stack.resolve(x));
    const statements = statementsOf(template, stack.resolve(sweep.role.roleName)).filter((st) =>
      [st.Action].flat().some((a) => a.startsWith('dynamodb:')),
    );
    const on = (arn: string) => statements.filter((st) => JSON.stringify(st.Resource).includes(json(arn)));
    expect(on(t.ledger.tableArn)).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:Query'],
        Resource: stack.resolve(t.ledger.tableArn),
      }),
    ]);
    expect(on(t.metadata.tableArn)).toEqual([
      expect.objectContaining({ Action: 'dynamodb:GetItem', Resource: stack.resolve(t.metadata.tableArn) }),
    ]);
    const onEvents = on(t.fleetEvents.tableArn);
    expect(onEvents.flatMap((st) => [st.Action].flat()).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(JSON.stringify(onEvents.find((st) => st.Action === 'dynamodb:Query')!.Resource)).toContain('/index/byMonth');
    const others = statements.filter(
      (st) =>
        ![t.ledger, t.metadata, t.fleetEvents, t.commands].some((table) =>
          JSON.stringify(st.Resource).includes(json(table.tableArn)),
        ),
    );
    // the rest: the time series, read only
    for (const st of others)
      expect(
        [st.Action].flat().every((a: string) => !/Put|Update|Delete|Write/.test(a)),
        JSON.stringify(st.Action),
      ).toBe(true);
  });

  it("deploys rule der on the gateways' der/telemetry/+ into its own stream, its Lambda reading the inventory and nothing else", () => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: Match.absent(),
      TopicRulePayload: Match.objectLike({ Sql: Match.stringLikeRegexp("FROM 'der/telemetry/\\+'$") }),
    });
    expect(stack.ingest.streams['der']).toBeDefined();
    const fn = stack.ingest.functions.der;
    const inventory = stack.storage.tables.inventory;
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Role: stack.resolve(fn.role.roleArn),
      Environment: { Variables: Match.objectLike({ INVENTORY_TABLE: stack.resolve(inventory.tableName) }) },
    });
    const statements = statementsOf(template, stack.resolve(fn.role.roleName));
    const reads = statements.filter((st) =>
      [st.Action].flat().some((a: string) => /^dynamodb:(Get|Query|Scan|BatchGet)/.test(a)),
    );
    expect(reads.length).toBeGreaterThan(0);
    for (const st of reads)
      expect(JSON.stringify(st.Resource)).toContain(JSON.stringify(stack.resolve(inventory.tableArn)).slice(1, -1));
  });
});
