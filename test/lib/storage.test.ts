import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERIES, tables, type TableDefinition } from '../../lambdas/core/contracts/tables.js';
import { REGISTRY_TABLES, type RegistryTable } from '../../lib/storage.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { handlerFunctions, resourcesOf, statementsOf, synthVpp } from './synth.js';

const timestreamTypes = (template: Template) =>
  Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
    .map((r) => r.Type)
    .filter((t) => t.startsWith('AWS::Timestream::'));

const lambdaEnvironments = (template: Template) =>
  Object.values(resourcesOf(template, 'AWS::Lambda::Function'))
    .map((f) => f.Properties.Environment?.Variables as Record<string, unknown> | undefined)
    .filter((env): env is Record<string, unknown> => !!env?.DEVICES_TABLE);

describe('given -c timeseries=timestream, when synthesized', () => {
  let stack: VppStack;
  let template: Template;
  beforeAll(() => ({ stack, template } = synthVpp({ timeseries: 'timestream' })));

  it('then one Timestream database holds a table per series, with retention and late writes', () => {
    template.resourceCountIs('AWS::Timestream::Database', 1);
    template.resourceCountIs('AWS::Timestream::Table', SERIES.length);
    for (const series of SERIES) {
      template.hasResourceProperties('AWS::Timestream::Table', {
        TableName: series,
        DatabaseName: stack.resolve(stack.storage.timestreamDatabase!.ref),
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: '24', MagneticStoreRetentionPeriodInDays: '30' },
        MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
      });
    }
  });

  it('then there is no DynamoDB time-series table and the Lambdas are told to use Timestream', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', REGISTRY_TABLES.length);
    for (const env of lambdaEnvironments(template)) {
      expect(env).toMatchObject({
        TIMESERIES_BACKEND: 'timestream',
        TIMESTREAM_DATABASE: stack.resolve(stack.storage.timestreamDatabase!.ref),
      });
      expect(env).not.toHaveProperty('TIMESERIES_TABLE');
    }
  });

  it('then writers may write only the series tables, and discover endpoints', () => {
    const arns = SERIES.map((s) => JSON.stringify(stack.resolve(stack.storage.timestreamTables[s]!.attrArn)));
    const writer = stack.ingest.functions.metering.role;
    const grants = statementsOf(template, stack.resolve(writer.roleName)).flatMap((st) =>
      [st.Action]
        .flat()
        .filter((a) => a.startsWith('timestream:'))
        .map((action) => [action, JSON.stringify(st.Resource)]),
    );
    expect(grants.sort()).toEqual(
      [...arns.map((arn) => ['timestream:WriteRecords', arn]), ['timestream:DescribeEndpoints', '"*"']].sort(),
    );
  });

  it('then -c retentionDays sets the magnetic store retention', () => {
    const { template: longer } = synthVpp({ timeseries: 'timestream', retentionDays: '365' });
    longer.hasResourceProperties('AWS::Timestream::Table', {
      RetentionProperties: Match.objectLike({ MagneticStoreRetentionPeriodInDays: '365' }),
    });
  });
});

describe('given the default context (timeseries=dynamodb), when synthesized', () => {
  let stack: VppStack;
  let template: Template;
  beforeAll(() => ({ stack, template } = synthVpp()));

  it('then every function gets only the DynamoDB item actions the handlers call, and writes never name an index', () => {
    const used = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ];
    for (const [name, fn] of handlerFunctions(stack)) {
      for (const st of statementsOf(template, stack.resolve(fn.role.roleName))) {
        const dynamo = [st.Action].flat().filter((a) => a.startsWith('dynamodb:'));
        // one Scan: the API lists the few DR programs whole
        const scansPrograms = name === 'api' && JSON.stringify(st.Resource).includes('Programs');
        expect(
          dynamo.filter((a) => !used.includes(a) && !(scansPrograms && a === 'dynamodb:Scan')),
          `${name}: ${JSON.stringify(st.Resource)}`,
        ).toEqual([]);
        if (JSON.stringify(st.Resource).includes('/index/'))
          expect(dynamo, `${name}: ${JSON.stringify(st.Resource)}`).toEqual(['dynamodb:Query']);
      }
    }
  });

  it('then there is no Timestream resource at all', () => {
    expect(timestreamTypes(template)).toEqual([]);
  });

  it('then the time series lives in a DynamoDB table with TTL retention, named to the Lambdas', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: tables.timeseries.partitionKey, KeyType: 'HASH' },
        { AttributeName: tables.timeseries.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: tables.timeseries.timeToLive, Enabled: true },
    });
    const timeseriesTable = stack.resolve(stack.storage.timeseriesTable!.tableName);
    const envs = lambdaEnvironments(template);
    expect(envs).toHaveLength(9); // the rules' six, the API, the housekeeping sweep (it reads metering to settle events), the rollup pass
    for (const env of envs)
      expect(env).toMatchObject({ TIMESERIES_BACKEND: 'dynamodb', TIMESERIES_TABLE: timeseriesTable });
  });

  it('then telemetry is kept 30 days and the ACK history, ledger and rollups 2 years, each changed by its own flag', () => {
    for (const env of lambdaEnvironments(template))
      expect(env).toMatchObject({ RETENTION_DAYS: '30', ARCHIVE_RETENTION_DAYS: '730', PORTFOLIO_TIME_ZONE: 'UTC' });
    const { template: other } = synthVpp({
      retentionDays: '7',
      archiveRetentionDays: '3650',
      portfolioTimeZone: 'America/Los_Angeles',
    });
    for (const env of lambdaEnvironments(other))
      expect(env).toMatchObject({
        RETENTION_DAYS: '7',
        ARCHIVE_RETENTION_DAYS: '3650',
        PORTFOLIO_TIME_ZONE: 'America/Los_Angeles',
      });
    for (const name of ['events', 'fleetEvents', 'ledger', 'rollups'] as const) {
      const { Ref } = stack.resolve(stack.storage.tables[name].tableName) as { Ref: string };
      expect(resourcesOf(template, 'AWS::DynamoDB::Table')[Ref]!.Properties.TimeToLiveSpecification).toEqual({
        AttributeName: 'expiresAt',
        Enabled: true,
      });
    }
  });

  it('then every shared table exists, on demand, point-in-time recoverable, encrypted and unnamed', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(tables).length);
    for (const table of Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      expect(table.Properties).not.toHaveProperty('TableName');
    }
  });

  it.each(Object.entries(tables))(
    'then table %s has the shared keys, indexes and TTL',
    (name, def: TableDefinition) => {
      const table =
        name === 'timeseries' ? stack.storage.timeseriesTable! : stack.storage.tables[name as RegistryTable];
      const { Ref } = stack.resolve(table.tableName) as { Ref: string };
      const keys = (pk: string, sk?: string) => [
        { AttributeName: pk, KeyType: 'HASH' },
        ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' }] : []),
      ];
      const properties = (template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>)[Ref]!
        .Properties;
      expect(properties.KeySchema).toEqual(keys(def.partitionKey, def.sortKey));
      const keyNames = [
        def.partitionKey,
        def.sortKey,
        ...(def.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
      ];
      expect(properties.AttributeDefinitions).toEqual(
        expect.arrayContaining(
          [...new Set(keyNames.filter((k) => k !== undefined))].map((k) => ({
            AttributeName: k,
            AttributeType: def.numberKeys?.includes(k) ? 'N' : 'S',
          })),
        ),
      );
      expect(properties.TimeToLiveSpecification).toEqual(
        def.timeToLive ? { AttributeName: def.timeToLive, Enabled: true } : undefined,
      );
      expect(properties.GlobalSecondaryIndexes).toEqual(
        def.indexes?.map((i) => ({
          IndexName: i.name,
          KeySchema: keys(i.partitionKey, i.sortKey),
          Projection: { ProjectionType: 'ALL' },
        })),
      );
    },
  );

  it('then the time series is keyed by series, device and day, and by bucket; the registry by device and part', () => {
    const keysOf = (table: { tableName: string }) => {
      const { Ref } = stack.resolve(table.tableName) as { Ref: string };
      const { KeySchema, GlobalSecondaryIndexes } = (
        template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>
      )[Ref]!.Properties;
      return { KeySchema, GlobalSecondaryIndexes };
    };
    expect(keysOf(stack.storage.timeseriesTable!)).toEqual({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'bucket', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: undefined,
    });
    expect(keysOf(stack.storage.tables.devices)).toEqual({
      KeySchema: [
        { AttributeName: 'deviceId', KeyType: 'HASH' },
        { AttributeName: 'part', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byKind',
          KeySchema: [
            { AttributeName: 'kindShard', KeyType: 'HASH' },
            { AttributeName: 'deviceId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});
