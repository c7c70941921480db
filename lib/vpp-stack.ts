// The platform in one stack: storage, ingest, fleet, API and sign-in, dashboard hosting, its live feed and
// observability.
import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Api } from './api.js';
import { Dashboard } from './dashboard.js';
import { Fleet } from './fleet.js';
import { PROJECT_ROOT } from './handler-function.js';
import { Ingest } from './ingest.js';
import { LiveFeed } from './live-feed.js';
import { Observability, type PowertoolsLogLevel } from './observability.js';
import { Storage, type TimeseriesBackend } from './storage.js';
import { METERING_RULE } from '../lambdas/core/topics.js';

export interface VppStackProps extends StackProps {
  readonly timeseries: TimeseriesBackend;
  /** Days of time-series data kept. */
  readonly retentionDays: number;
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
}

export class VppStack extends Stack {
  readonly storage: Storage;
  readonly ingest: Ingest;
  readonly fleet: Fleet;
  readonly dashboard: Dashboard;
  readonly api: Api;
  readonly liveFeed: LiveFeed;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: VppStackProps) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage', { timeseries: props.timeseries, retentionDays: props.retentionDays });
    this.ingest = new Ingest(this, 'Ingest', { storage: this.storage, ruleNameSuffix: props.ruleNameSuffix });
    this.fleet = new Fleet(this, 'Fleet', { meteringRuleName: this.ingest.ruleNames[METERING_RULE] });
    // The dashboard's hosting comes first: its URL is the API's CORS origin and the sign-in's callback URL. Its
    // config.json, which names the API, the app client and the authorizer, is published once they exist.
    this.dashboard = new Dashboard(this, 'Dashboard', { siteDir: props.siteDir ?? `${PROJECT_ROOT}web/dist` });
    this.api = new Api(this, 'Api', {
      storage: this.storage,
      fleet: this.fleet,
      corsOrigins: [this.dashboard.url, ...(props.extraCorsOrigins ?? [])],
    });
    this.liveFeed = new LiveFeed(this, 'LiveFeed', {
      userPool: this.api.userPool,
      userPoolClient: this.api.userPoolClient,
      iotArnPrefix: this.fleet.arnPrefix,
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
        api: this.api.handler,
        'iot-authorizer': this.liveFeed.handler,
      },
      logLevel: props.logLevel,
      alarmEmail: props.alarmEmail,
    });
    this.outputs();
  }

  private outputs(): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('ApiUrl', this.api.url, 'Base URL of the HTTP API');
    out('DashboardUrl', this.dashboard.url, 'The operator dashboard');
    out('UserPoolId', this.api.userPool.userPoolId, 'Cognito user pool of the operators');
    out('UserPoolClientId', this.api.userPoolClient.userPoolClientId, 'Cognito app client of the dashboard');
    out('AuthDomain', this.api.authUrl, 'Hosted sign-in of the operators (authorization code + PKCE)');
    out('IotAuthorizerName', this.liveFeed.authorizerName, 'IoT custom authorizer of the dashboard live feed (x-amz-customauthorizer-name)');
    out('IotDataEndpoint', this.fleet.dataEndpoint, 'MQTT (8883) and device shadow endpoint of this account');
    out('DevicePolicyName', this.fleet.devicePolicy.ref, 'IoT policy to attach to every device certificate');
    out('ThingTypeName', this.fleet.thingType.ref, 'Thing type of VPP devices');
    out('ThingGroupName', this.fleet.thingGroup.ref, 'Thing group of VPP devices');
    out('MeteringBasicIngestTopic', this.fleet.meteringBasicIngestTopic, 'Metering without messaging charges (agent: BASIC_INGEST=1, or METERING_TOPIC=this)');
    out('InventoryTableName', this.storage.tables.inventory.tableName, 'Load the asset inventory with npm run inventory');
    out('DeadLetterQueueUrl', this.ingest.deadLetterQueue.queueUrl, 'Refused device input and failed rule actions');
    out('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'Alarms publish here; subscribe on-call to it');
  }
}
