// DynamoDB tables from the shared layouts, and the time series on Timestream or on a DynamoDB table.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
  type CfnTable as CfnDynamoTable,
} from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-timestream';
import { Construct, type IConstruct } from 'constructs';
import { SERIES, tables, type SeriesName, type TableDefinition } from '../lambdas/core/contracts/tables.js';

export type TimeseriesBackend = 'timestream' | 'dynamodb';
/** Every table but the time series, which exists only with `timeseries: 'dynamodb'`. */
export type RegistryTable = Exclude<keyof typeof tables, 'timeseries'>;
export const REGISTRY_TABLES = (Object.keys(tables) as (keyof typeof tables)[]).filter(
  (name): name is RegistryTable => name !== 'timeseries',
);
/** A Lambda (or anything with a role) that is also a construct, so grants can carry their nag acknowledgements. */
export type Grantee = IGrantable & IConstruct;

export interface StorageProps {
  readonly timeseries: TimeseriesBackend;
  /** How long time-series data is kept (Timestream magnetic store, DynamoDB TTL). */
  readonly retentionDays: number;
  /** How long the ACK history and the transaction ledger are kept (DynamoDB TTL). @default 730 (2 years) */
  readonly archiveRetentionDays?: number;
  /** PORTFOLIO_TIME_ZONE of every Lambda: the rollups' local days and months. */
  readonly portfolioTimeZone?: string;
  /**
   * What `cdk destroy` (or a replacement) does to every table and the Timestream database: the data outlives the
   * stack unless this says DESTROY (`-c destroyData=true`). @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Timestream keeps a day in memory for fast queries; a device's offline buffer replays older data to magnetic. */
export const MEMORY_STORE_HOURS = 24;

export class Storage extends Construct {
  readonly tables: Record<RegistryTable, Table>;
  /** Set with `timeseries: 'dynamodb'`. */
  readonly timeseriesTable?: Table;
  /** Set with `timeseries: 'timestream'`. */
  readonly timestreamDatabase?: CfnDatabase;
  readonly timestreamTables: Partial<Record<SeriesName, CfnTable>> = {};

  /** Of every table and the Timestream database. */
  readonly removalPolicy: RemovalPolicy;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: StorageProps,
  ) {
    super(scope, id);
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.tables = Object.fromEntries(
      REGISTRY_TABLES.map((name) => [name, this.table(name[0]!.toUpperCase() + name.slice(1), tables[name])]),
    ) as Record<RegistryTable, Table>;
    if (props.timeseries === 'dynamodb') {
      this.timeseriesTable = this.table('Timeseries', tables.timeseries);
    } else {
      this.timestreamDatabase = this.timestream(props.retentionDays);
    }
  }

  /** The environment every Lambda reads its stores from (lambdas/core/common/config.ts). */
  get environment(): Record<string, string> {
    return {
      ...Object.fromEntries(REGISTRY_TABLES.map((name) => [tables[name].env, this.tables[name].tableName])),
      TIMESERIES_BACKEND: this.props.timeseries,
      RETENTION_DAYS: String(this.props.retentionDays),
      ARCHIVE_RETENTION_DAYS: String(this.props.archiveRetentionDays ?? 730),
      PORTFOLIO_TIME_ZONE: this.props.portfolioTimeZone ?? 'UTC',
      ...(this.timeseriesTable && { [tables.timeseries.env]: this.timeseriesTable.tableName }),
      ...(this.timestreamDatabase && { TIMESTREAM_DATABASE: this.timestreamDatabase.ref }),
    };
  }

  /**
   * Exactly the item actions a function's code makes on the table, and `Query` on its indexes when `indexes` is set:
   * no more. The IAM-checked runs (docs/develop-iam-checks.md) fail on a grant no recorded call uses.
   */
  grantCalls(grantee: Grantee, table: RegistryTable, actions: readonly ItemAction[], opts: { indexes?: boolean } = {}) {
    if (actions.length > 0)
      this.grantItemActions(
        grantee,
        table,
        actions.map((a) => `dynamodb:${a}`),
      );
    if (!opts.indexes) return;
    if (!(tables[table] as TableDefinition).indexes?.length)
      throw new Error(`the ${table} table has no index to query`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${this.tables[table].tableArn}/index/*`] }),
    );
    this.acknowledgeIndexes(grantee, table);
  }

  private grantItemActions(grantee: Grantee, table: RegistryTable, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions, resources: [this.tables[table].tableArn] }),
    );
  }

  /** The samples are put, never updated or deleted (lambdas/core/timeseries/timeseries-dynamodb.ts). */
  grantTimeseriesWrite(grantee: Grantee): void {
    if (this.timeseriesTable)
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.timeseriesTable.tableArn] }),
      );
    else this.grantTimestream(grantee, 'timestream:WriteRecords');
  }

  /** The samples are read by Query alone (a series' buckets in a time range). */
  grantTimeseriesRead(grantee: Grantee): void {
    if (this.timeseriesTable)
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: [this.timeseriesTable.tableArn] }),
      );
    else this.grantTimestream(grantee, 'timestream:Select');
  }

  private grantTimestream(grantee: Grantee, action: string): void {
    const tableArns = Object.values(this.timestreamTables).map((t) => t.attrArn);
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: [action], resources: tableArns }));
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] }),
    );
    Validations.of(grantee).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'timestream:DescribeEndpoints (endpoint discovery, which the Timestream SDK requires) has no resource-level permissions: IAM accepts only "*".',
    });
  }

  /** A read grant queries the table's own indexes, `<table>/index/*`, which nag reports as a wildcard. */
  private acknowledgeIndexes(grantee: Grantee, name: RegistryTable): void {
    const def: TableDefinition = tables[name];
    if (!def.indexes?.length) return;
    const table = this.tables[name];
    const logicalId = Stack.of(table).getLogicalId(table.node.defaultChild as CfnDynamoTable);
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
      reason: `Only the global secondary indexes of the ${name} table (${def.indexes.map((i) => i.name).join(', ')}), Query only.`,
    });
  }

  private table(id: string, def: TableDefinition): Table {
    const key = (name: string) => ({
      name,
      type: def.numberKeys?.includes(name) ? AttributeType.NUMBER : AttributeType.STRING,
    });
    const table = new Table(this, id, {
      partitionKey: key(def.partitionKey),
      sortKey: def.sortKey ? key(def.sortKey) : undefined,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: def.timeToLive,
      removalPolicy: this.removalPolicy,
      // RETAIN guards against `cdk destroy`; deletion protection against a console or API DeleteTable too
      deletionProtection: this.removalPolicy !== RemovalPolicy.DESTROY,
    });
    for (const index of def.indexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: key(index.partitionKey),
        sortKey: index.sortKey ? key(index.sortKey) : undefined,
        projectionType: ProjectionType.ALL,
      });
    }
    return table;
  }

  private timestream(retentionDays: number): CfnDatabase {
    const database = new CfnDatabase(this, 'TimestreamDatabase');
    for (const series of SERIES) {
      this.timestreamTables[series] = new CfnTable(this, `Timestream-${series}`, {
        databaseName: database.ref,
        tableName: series,
        retentionProperties: {
          MemoryStoreRetentionPeriodInHours: String(MEMORY_STORE_HOURS),
          MagneticStoreRetentionPeriodInDays: String(retentionDays),
        },
        magneticStoreWriteProperties: { EnableMagneticStoreWrites: true },
      });
    }
    for (const resource of [database, ...Object.values(this.timestreamTables)]) {
      // An L1 resource is deleted with the stack unless told otherwise: the same rule as the DynamoDB tables.
      resource.applyRemovalPolicy(this.removalPolicy);
      Validations.of(resource).acknowledge({
        id: 'CloudFormation-Validate::W3697',
        reason:
          'Timestream is in maintenance mode (closed to new accounts), so it is one choice, not the only one: deploy with -c timeseries=dynamodb where it cannot be created.',
      });
    }
    Validations.of(database).acknowledge({
      id: 'AwsSolutions-TS3',
      reason:
        'Encrypted at rest with the AWS managed Timestream key; a customer managed key adds cost and key administration that meter readings do not call for.',
    });
    return database;
  }
}

/** A DynamoDB item action (IAM's name without the `dynamodb:` prefix). */
export type ItemAction =
  'GetItem' | 'BatchGetItem' | 'Query' | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';
