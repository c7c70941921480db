// The CDK app: the stack configured from context flags (`-c key=value`), checked by cdk-nag's AWS Solutions rules.
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Node } from 'constructs';
import type { PowertoolsLogLevel } from './observability.js';
import type { TimeseriesBackend } from './storage.js';
import { VppStack, type VppStackProps } from './vpp-stack.js';

/** The context flags the app understands, with their defaults. */
export const CONTEXT_FLAGS = {
  stackName: 'Vpp',
  timeseries: 'dynamodb',
  retentionDays: '30',
  logLevel: 'INFO',
  corsOrigins: '',
  alarmEmail: '',
  /** '' = web/dist */
  siteDir: '',
} as const;

const TIMESERIES: readonly TimeseriesBackend[] = ['dynamodb', 'timestream'];
const LOG_LEVELS: readonly PowertoolsLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

export function stackPropsFromContext(node: Node): VppStackProps & { stackName: string } {
  type Flag = keyof typeof CONTEXT_FLAGS;
  const flag = (key: Flag): string => String(node.tryGetContext(key) ?? CONTEXT_FLAGS[key]).trim();
  const fail = (key: Flag, expected: string): never => {
    throw new Error(`Context flag ${key}=${flag(key)} is invalid: expected ${expected}`);
  };

  const timeseries = flag('timeseries') as TimeseriesBackend;
  if (!TIMESERIES.includes(timeseries)) fail('timeseries', TIMESERIES.join(' or '));
  const retentionDays = Number(flag('retentionDays'));
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    fail('retentionDays', 'a whole number of days from 1 to 3650');
  }
  const logLevel = flag('logLevel').toUpperCase() as PowertoolsLogLevel;
  if (!LOG_LEVELS.includes(logLevel)) fail('logLevel', LOG_LEVELS.join(', '));
  const corsOrigins = flag('corsOrigins').split(',').map((o) => o.trim()).filter(Boolean);
  if (corsOrigins.some((origin) => !/^https?:\/\/[^/]+$/.test(origin))) {
    fail('corsOrigins', 'comma-separated origins like http://localhost:5173');
  }

  const stackName = flag('stackName');
  return {
    stackName,
    // The default stack keeps the shared rule names (the Basic Ingest topic agents use by default); another stack in
    // the same account and region gets its own (`metering_vppstaging`).
    ruleNameSuffix: stackName === CONTEXT_FLAGS.stackName ? '' : `_${stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`,
    description: 'Virtual Power Plant on AWS IoT',
    timeseries,
    retentionDays,
    logLevel,
    extraCorsOrigins: corsOrigins,
    alarmEmail: flag('alarmEmail') || undefined,
    siteDir: flag('siteDir') || undefined,
  };
}

export function createVppApp(props?: AppProps): { app: App; stack: VppStack } {
  const app = new App(props);
  const { stackName, ...stackProps } = stackPropsFromContext(app.node);
  const stack = new VppStack(app, stackName, { stackName, ...stackProps });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
