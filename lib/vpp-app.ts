// The CDK app: the stack configured from context flags (`-c key=value`), checked by cdk-nag's AWS Solutions rules.
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import type { PowertoolsLogLevel } from './observability.js';
import type { IotLogLevel } from './operations.js';
import { checkRegionSupport } from './regions.js';
import type { TimeseriesBackend } from './storage.js';
import { VppStack, type VppStackProps } from './vpp-stack.js';
import { canonicalTimeZone } from '../lambdas/core/contracts/programs.js';

/** The context flags the app understands, with their defaults. */
export const CONTEXT_FLAGS = {
  stackName: 'Vpp',
  timeseries: 'dynamodb',
  retentionDays: '30',
  /** Days the ACK history and the transaction ledger are kept (DynamoDB TTL). */
  archiveRetentionDays: '730',
  /** The IANA time zone of the portfolio's daily and monthly rollups (a DST day is 23 or 25 hours). */
  portfolioTimeZone: 'UTC',
  logLevel: 'INFO',
  corsOrigins: '',
  alarmEmail: '',
  /** '' = web/dist */
  siteDir: '',
  /** '' = CDK_DEFAULT_REGION (the CLI's profile); neither = an environment-agnostic synth, unchecked. */
  region: '',
  /** 'true' acknowledges a second stack in an account and region that already has one (they cross-talk). */
  sharedAccount: 'false',
  /** 'true' lets `cdk destroy` delete the data stores; by default they outlive the stack. */
  destroyData: 'false',
  iotLogLevel: 'WARN',
  /** VENs the ingest path is sized for: the metering stream's shards (lambdas/core/contracts/rules.ts, shardsFor). */
  fleetSize: '1000',
  /** Hours each rule's stream keeps records, the window to redrive a failed batch in (lib/ingest.ts, DEFAULT_STREAM_RETENTION_HOURS). */
  streamRetentionHours: '168',
  /** Reserved concurrency of the live-feed authorizer; '' = none (a new account's quota may leave no room: docs/operate.md). */
  authorizerConcurrency: '',
} as const;

const TIMESERIES: readonly TimeseriesBackend[] = ['dynamodb', 'timestream'];
const LOG_LEVELS: readonly PowertoolsLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
const IOT_LOG_LEVELS: readonly IotLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'DISABLED'];
const BOOLEANS = ['true', 'false'];

/**
 * Why a second stack name needs `-c sharedAccount=true`: topics, thing names, the device policy's reach and the IoT
 * account settings are account-wide, so two stacks in one account and region see each other's devices.
 */
export const SHARED_ACCOUNT_REFUSAL =
  'one environment is one AWS account: a second stack in the same account and region shares its devices (thing names, topics and policies are account-wide; both stacks\' rules read the same topics and both APIs command the same things). Deploy each environment to its own account with the default stackName, or pass -c sharedAccount=true to accept the cross-talk (docs/deploy.md, "One environment, one account")';

export function stackPropsFromContext(node: Node): VppStackProps & { stackName: string } {
  type Flag = keyof typeof CONTEXT_FLAGS;
  const flag = (key: Flag): string => String(node.tryGetContext(key) ?? CONTEXT_FLAGS[key]).trim();
  const fail = (key: Flag, expected: string): never => {
    throw new Error(`Context flag ${key}=${flag(key)} is invalid: expected ${expected}`);
  };

  const timeseries = flag('timeseries') as TimeseriesBackend;
  if (!TIMESERIES.includes(timeseries)) fail('timeseries', TIMESERIES.join(' or '));
  const days = (key: 'retentionDays' | 'archiveRetentionDays') => {
    const n = Number(flag(key));
    if (!Number.isInteger(n) || n < 1 || n > 3650) fail(key, 'a whole number of days from 1 to 3650');
    return n;
  };
  const retentionDays = days('retentionDays');
  const archiveRetentionDays = days('archiveRetentionDays');
  const portfolioTimeZone =
    canonicalTimeZone(flag('portfolioTimeZone')) ??
    fail('portfolioTimeZone', 'an IANA time zone such as America/Los_Angeles or UTC');
  const logLevel = flag('logLevel').toUpperCase() as PowertoolsLogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail('logLevel', LOG_LEVELS.join(', '));
  const corsOrigins = flag('corsOrigins')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (corsOrigins.some((origin) => !/^https?:\/\/[^/]+$/.test(origin))) {
    fail('corsOrigins', 'comma-separated origins like http://localhost:5173');
  }

  const bool = (key: Flag): boolean => {
    const value = flag(key).toLowerCase();
    if (!BOOLEANS.includes(value)) fail(key, 'true or false');
    return value === 'true';
  };
  const iotLogLevel = flag('iotLogLevel').toUpperCase() as IotLogLevel;
  if (!IOT_LOG_LEVELS.includes(iotLogLevel)) fail('iotLogLevel', IOT_LOG_LEVELS.join(', '));
  const fleetSize = Number(flag('fleetSize'));
  if (!Number.isInteger(fleetSize) || fleetSize < 1 || fleetSize > 1_000_000)
    fail('fleetSize', 'a whole number of VENs from 1 to 1000000');
  const streamRetentionHours = Number(flag('streamRetentionHours'));
  if (!Number.isInteger(streamRetentionHours) || streamRetentionHours < 24 || streamRetentionHours > 8760) {
    fail('streamRetentionHours', 'a whole number of hours from 24 to 8760');
  }
  const concurrency = flag('authorizerConcurrency');
  const authorizerConcurrency = concurrency === '' ? undefined : Number(concurrency);
  if (
    authorizerConcurrency !== undefined &&
    (!Number.isInteger(authorizerConcurrency) || authorizerConcurrency < 1 || authorizerConcurrency > 1000)
  ) {
    fail('authorizerConcurrency', 'a whole number from 1 to 1000, or empty for none');
  }
  const region = flag('region') || process.env.CDK_DEFAULT_REGION || undefined;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) fail('region', 'a region name like eu-west-1');

  const stackName = flag('stackName');
  const sharedAccount = bool('sharedAccount');
  if (stackName !== CONTEXT_FLAGS.stackName && !sharedAccount) {
    throw new Error(`Context flag stackName=${stackName} is refused: ${SHARED_ACCOUNT_REFUSAL}`);
  }
  return {
    stackName,
    // A region known at synth is checked against the resource types the stack uses (lib/regions.ts).
    env: region ? { account: process.env.CDK_DEFAULT_ACCOUNT, region } : undefined,
    // The default stack keeps the shared metering rule name (the Basic Ingest topic agents use by default); another stack in
    // the same account and region gets its own (`metering_vppstaging`).
    ruleNameSuffix:
      stackName === CONTEXT_FLAGS.stackName ? '' : `_${stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`,
    description: 'Virtual Power Plant on AWS IoT',
    timeseries,
    retentionDays,
    archiveRetentionDays,
    portfolioTimeZone,
    logLevel,
    extraCorsOrigins: corsOrigins,
    alarmEmail: flag('alarmEmail') || undefined,
    siteDir: flag('siteDir') || undefined,
    destroyData: bool('destroyData'),
    iotLogLevel,
    fleetSize,
    streamRetentionHours,
    authorizerConcurrency,
    // The account-wide IoT settings (logging, Device Defender audit) have one owner per account and region: the stack
    // with the default name. A second stack acknowledged with sharedAccount leaves them alone.
    accountSettings: stackName === CONTEXT_FLAGS.stackName,
  };
}

export function createVppApp(props?: AppProps): { app: App; stack: VppStack } {
  const app = new App(props);
  const { stackName, ...stackProps } = stackPropsFromContext(app.node);
  const stack = new VppStack(app, stackName, { stackName, ...stackProps });
  checkRegionSupport(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
