// The platform in one stack: storage, ingest, fleet, API and sign-in, dashboard hosting, its live feed and
// observability.
import { Annotations, Aws, CfnOutput, RemovalPolicy, Stack, Tags, Token, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AgentUpdates } from './agent-updates.js';
import { Api } from './api.js';
import { Dashboard } from './dashboard.js';
import { Fleet } from './fleet.js';
import { PROJECT_ROOT } from './handler-function.js';
import { Ingest } from './ingest.js';
import { Provisioning } from './provisioning.js';
import { Reports } from './reports.js';
import { AUTHORIZER_INVOCATIONS_PER_5_MIN, LiveFeed } from './live-feed.js';
import { Observability, type PowertoolsLogLevel } from './observability.js';
import { DEFENDER_RESOURCE_TYPES, Operations, type IotLogLevel } from './operations.js';
import { unavailableResourceTypes } from './regions.js';
import { Storage, type TimeseriesBackend } from './storage.js';
import { METERING_RULE } from '../lambdas/core/contracts/topics.js';
import { loadTopologyFile } from '../lambdas/core/power-system/topology-file.js';

export interface VppStackProps extends StackProps {
  readonly timeseries: TimeseriesBackend;
  /** Days of time-series data kept. */
  readonly retentionDays: number;
  /** Days the ACK history and the ledger are kept. @default 730 */
  readonly archiveRetentionDays?: number;
  /** The portfolio's time zone: the days and months of the rollups (default UTC). */
  readonly portfolioTimeZone?: string;
  /** @default 'INFO' */
  readonly logLevel?: PowertoolsLogLevel;
  /** Browser origins allowed beside the dashboard's own (e.g. a local Vite server). */
  readonly extraCorsOrigins?: string[];
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /** The built dashboard; synth fails without its index.html. @default web/dist */
  readonly siteDir?: string;
  /** Appended to the IoT rule names (unique per account and region). @default '' */
  readonly ruleNameSuffix?: string;
  /** Let `cdk destroy` delete the tables, the Timestream database, the log bucket and the user pool. @default false */
  readonly destroyData?: boolean;
  /** IoT Core's log level. @default 'WARN' */
  readonly iotLogLevel?: IotLogLevel;
  /** The Winter River power chain (YAML); synth fails on a bad one. @default device/winter-river.topology.yaml */
  readonly topologyFile?: string;
  /** VENs the ingest path is sized for (the metering stream's shards). @default 1,000 */
  readonly fleetSize?: number;
  /** Whether this stack owns the account's IoT logging and audit settings in its region. @default true */
  readonly accountSettings?: boolean;
  /** Hours each rule's stream keeps records. @default 168 */
  readonly streamRetentionHours?: number;
  /** Reserved concurrency of the live-feed authorizer. @default none */
  readonly authorizerConcurrency?: number;
}

/** The cost allocation tags of every resource (activate them once in the Billing console to see costs by them). */
export const COST_TAGS = { project: 'vpp', stack: (stackName: string) => stackName } as const;

export class VppStack extends Stack {
  readonly storage: Storage;
  readonly ingest: Ingest;
  readonly fleet: Fleet;
  readonly provisioning: Provisioning;
  readonly dashboard: Dashboard;
  readonly api: Api;
  readonly liveFeed: LiveFeed;
  readonly observability: Observability;
  readonly operations: Operations;
  readonly agentUpdates: AgentUpdates;
  readonly reports: Reports;

  constructor(scope: Construct, id: string, props: VppStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', COST_TAGS.project);
    Tags.of(this).add('stack', COST_TAGS.stack(this.stackName));
    // Data outlives the stack unless the operator says otherwise: one rule for every store.
    const dataRemovalPolicy = props.destroyData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.storage = new Storage(this, 'Storage', {
      timeseries: props.timeseries,
      retentionDays: props.retentionDays,
      archiveRetentionDays: props.archiveRetentionDays,
      portfolioTimeZone: props.portfolioTimeZone,
      removalPolicy: dataRemovalPolicy,
    });
    this.ingest = new Ingest(this, 'Ingest', {
      storage: this.storage,
      ruleNameSuffix: props.ruleNameSuffix,
      fleetSize: props.fleetSize,
      streamRetentionHours: props.streamRetentionHours,
    });
    this.fleet = new Fleet(this, 'Fleet', { meteringRuleName: this.ingest.ruleNames[METERING_RULE] });
    this.provisioning = new Provisioning(this, 'Provisioning', { fleet: this.fleet, storage: this.storage });
    const topology = loadTopologyFile(props.topologyFile ?? `${PROJECT_ROOT}device/winter-river.topology.yaml`);
    this.ingest.connectWinterRiver({
      arnPrefix: this.fleet.arnPrefix,
      dataEndpoint: this.fleet.dataEndpoint,
      topology,
    });
    this.ingest.connectHousekeeping({ arnPrefix: this.fleet.arnPrefix, dataEndpoint: this.fleet.dataEndpoint });
    // The dashboard's hosting comes first: its URL is the API's CORS origin and the sign-in's callback URL. Its
    // config.json, which names the API, the app client and the authorizer, is published once they exist.
    this.dashboard = new Dashboard(this, 'Dashboard', {
      siteDir: props.siteDir ?? `${PROJECT_ROOT}web/dist`,
      logRemovalPolicy: dataRemovalPolicy,
    });
    this.api = new Api(this, 'Api', {
      storage: this.storage,
      fleet: this.fleet,
      topology,
      corsOrigins: [this.dashboard.url, ...(props.extraCorsOrigins ?? [])],
      userPoolRemovalPolicy: dataRemovalPolicy,
    });
    this.liveFeed = new LiveFeed(this, 'LiveFeed', {
      userPool: this.api.userPool,
      userPoolClient: this.api.userPoolClient,
      iotArnPrefix: this.fleet.arnPrefix,
      reservedConcurrency: props.authorizerConcurrency,
    });
    this.dashboard.publish({
      mode: 'aws',
      apiUrl: this.api.url,
      region: Aws.REGION,
      iotEndpoint: this.fleet.dataEndpoint,
      iotAuthorizerName: this.liveFeed.authorizerName,
      userPoolId: this.api.userPool.userPoolId,
      userPoolClientId: this.api.userPoolClient.userPoolClientId,
      authDomain: this.api.authUrl,
    });
    this.observability = new Observability(this, 'Observability', {
      deadLetterQueue: this.ingest.deadLetterQueue,
      functions: {
        ...this.ingest.functions,
        'command-timeouts': this.ingest.commandTimeouts,
        rollups: this.ingest.rollups,
        api: this.api.handler,
        'iot-authorizer': this.liveFeed.handler,
        'provisioning-hook': this.provisioning.hook,
      },
      logLevel: props.logLevel,
      alarmEmail: props.alarmEmail,
      authorizer: { function: this.liveFeed.handler.function, invocationsPer5Min: AUTHORIZER_INVOCATIONS_PER_5_MIN },
    });
    this.operations = new Operations(this, 'Operations', {
      ruleNames: this.ingest.ruleNames,
      functions: Object.fromEntries(Object.entries(this.ingest.functions).map(([name, fn]) => [name, fn.function])),
      streams: this.ingest.streams,
      deadLetterQueue: this.ingest.deadLetterQueue,
      thingGroup: this.fleet.thingGroup,
      alarmTopic: this.observability.alarmTopic,
      iotLogLevel: props.iotLogLevel,
      accountSettings: props.accountSettings,
      deviceDefender: this.offersDeviceDefender(),
    });
    this.operations.dashboard.addWidgets(this.observability.commandAckLatencyWidget());
    this.agentUpdates = new AgentUpdates(this, 'AgentUpdates', {
      accessLogsBucket: this.dashboard.logBucket,
      removalPolicy: dataRemovalPolicy,
    });
    this.reports = new Reports(this, 'Reports', {
      accessLogsBucket: this.dashboard.logBucket,
      retentionDays: props.archiveRetentionDays,
      removalPolicy: dataRemovalPolicy,
      writer: this.ingest.commandTimeouts,
      reader: this.api.handler,
    });
    this.outputs();
  }

  /**
   * Device Defender is a safeguard, not the platform: where CloudFormation lacks its types (sa-east-1, for one) the
   * stack deploys without it and says so, rather than refusing the region. Unknown region: included (unchecked).
   */
  private offersDeviceDefender(): boolean {
    if (Token.isUnresolved(this.region)) return true;
    const missing = unavailableResourceTypes(DEFENDER_RESOURCE_TYPES, this.region);
    if (missing.length === 0) return true;
    Annotations.of(this).addWarningV2(
      'vpp:no-device-defender',
      `CloudFormation has no ${missing.join(', ')} in ${this.region}: deployed without the Device Defender audit and security profile; configure them in the console or CLI.`,
    );
    return false;
  }

  private outputs(): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('ApiUrl', this.api.url, 'Base URL of the HTTP API');
    out('DashboardUrl', this.dashboard.url, 'The operator dashboard');
    out('UserPoolId', this.api.userPool.userPoolId, 'Cognito user pool of the operators');
    out('UserPoolClientId', this.api.userPoolClient.userPoolClientId, 'Cognito app client of the dashboard');
    out('AuthDomain', this.api.authUrl, 'Hosted sign-in of the operators (authorization code + PKCE)');
    out(
      'IotAuthorizerName',
      this.liveFeed.authorizerName,
      'IoT custom authorizer of the dashboard live feed (x-amz-customauthorizer-name)',
    );
    out('IotDataEndpoint', this.fleet.dataEndpoint, 'MQTT (8883) and device shadow endpoint of this account');
    out('DevicePolicyName', this.fleet.devicePolicy.ref, 'IoT policy to attach to every device certificate');
    out('ThingTypeName', this.fleet.thingType.ref, 'Thing type of VPP devices');
    out('ThingGroupName', this.fleet.thingGroup.ref, 'Thing group of VPP devices');
    out(
      'ThingGroupArn',
      this.fleet.thingGroup.attrArn,
      'Target of agent update jobs (npm run job -- create --aws --group-arn)',
    );
    out(
      'AgentReleaseBucketName',
      this.agentUpdates.bucket.bucketName,
      'Agent releases and their job document (README: Updating agents)',
    );
    out(
      'AgentJobTemplateArn',
      this.agentUpdates.jobTemplate.attrArn,
      'Job template of agent updates (npm run job -- create --aws --template)',
    );
    out(
      'ProvisioningTemplateName',
      this.provisioning.template.ref,
      'Fleet provisioning by claim (agent: PROVISIONING_TEMPLATE)',
    );
    out(
      'ClaimPolicyName',
      this.provisioning.claimPolicy.ref,
      'IoT policy of the claim certificate: the provisioning topics only',
    );
    out('AllowListTableName', this.storage.tables.allowList.tableName, 'Serials that may be provisioned by claim');
    out(
      'MeteringBasicIngestTopic',
      this.fleet.meteringBasicIngestTopic,
      'Metering without messaging charges (agent: BASIC_INGEST=1, or METERING_TOPIC=this)',
    );
    out(
      'InventoryTableName',
      this.storage.tables.inventory.tableName,
      'Load the asset inventory with npm run inventory',
    );
    out(
      'DeadLetterQueueUrl',
      this.ingest.deadLetterQueue.queueUrl,
      'Failed rule actions and stream batches given up on (npm run redrive)',
    );
    out(
      'RefusalsQueueUrl',
      this.ingest.refusalsQueue.queueUrl,
      'Refused device input, as the refusals table and GET /api/refused also hold it',
    );
    out('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'Alarms publish here; subscribe on-call to it');
    out('OperationsDashboardName', this.operations.dashboard.dashboardName, 'CloudWatch dashboard of the ingest path');
  }
}
