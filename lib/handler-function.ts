// One way to build a Lambda from `lambdas/<name>/handler.ts`: local esbuild (no Docker), Node 24 on Graviton, ESM,
// its own log group, and a role that may write that log group and nothing else until granted more.
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal, type IGrantable, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledTimeseriesDefine, type TimeseriesBackend } from '../lambdas/core/timeseries/timeseries-bundle.js';

/** The repository root, with a trailing slash. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * esbuild turns a CommonJS dependency's `require('node:…')` into a shim that throws in an ESM bundle; this banner
 * gives it a real `require`. No bundled dependency needs it today: it keeps the next one from failing at run time.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * Parts of the AWS SDK a handler reaches only through a dynamic `import()` that never or rarely runs in Lambda: the
 * credential providers after `fromEnv` (Lambda hands the role's credentials over in the environment) and the STS/SSO
 * clients they use, and the IoT control-plane client that only the admin's revocation routes load
 * (core/fleet/identities.ts). Left out of the bundle (about 90–125 KB each); when one is reached, the nodejs24.x runtime's
 * copy loads. Everything a handler imports statically stays bundled (see bundleAwsSDK below).
 */
export const LAZY_SDK_MODULES: readonly string[] = [
  '@aws-sdk/client-iot',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
];

/**
 * Ship the SDK version the code was tested with rather than the one the runtime happens to carry, and load it faster:
 * init 55 ms bundled against 124 ms from the runtime's copy (bench/REPORT.md, bench 4), paid on every cold start, at
 * the price of bundles over the 300 KB goal. externalModules (LAZY_SDK_MODULES) replaces the '@aws-sdk/*' this drops.
 */
export const BUNDLE_AWS_SDK = true;

/**
 * Packages no bundle carries in its `index.mjs`: a function that needs one names it in `packages`, and the package's
 * folder is copied to `node_modules/` beside the bundle, where Node resolves the handler's `import()` of it on first
 * use. For code that is large and rarely run: HiGHS's loader (about 100 KB of JavaScript, parsed on every cold start
 * when bundled) is needed only by the battery-schedule route, and its WebAssembly sits beside it in the package.
 */
export const SHIPPED_PACKAGES: readonly string[] = ['highs'];

/**
 * The esbuild options a handler's bundle differs by: its time-series backend. A function whose environment names
 * TIMESERIES_BACKEND (Storage.environment sets it from the stack's `timeseries` flag) gets a bundle with that
 * backend's adapter and clients (lambdas/core/timeseries/timeseries-store.ts), so the code cannot disagree with its
 * configuration; the others never load a time-series adapter.
 */
export function bundleOptionsFor(environment: Record<string, string> | undefined): {
  readonly timeseries?: TimeseriesBackend;
  readonly define: Record<string, string>;
} {
  const backend = environment?.TIMESERIES_BACKEND;
  if (backend === undefined) return { define: {} };
  if (backend !== 'dynamodb' && backend !== 'timestream') {
    throw new Error(`TIMESERIES_BACKEND=${backend}: expected dynamodb or timestream, known at synth time`);
  }
  return { timeseries: backend, define: bundledTimeseriesDefine(backend) };
}

export interface HandlerFunctionProps extends Pick<
  NodejsFunctionProps,
  | 'description'
  | 'environment'
  | 'timeout'
  | 'memorySize'
  | 'onFailure'
  | 'retryAttempts'
  | 'reservedConcurrentExecutions'
> {
  /** The folder under `lambdas/` holding `handler.ts`. */
  readonly handler: string;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** Packages from SHIPPED_PACKAGES the handler loads with `import()`: copied whole to `node_modules/` beside the bundle. */
  readonly packages?: readonly string[];
}

export class HandlerFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  /** The time-series backend its bundle carries, if it carries one. */
  readonly timeseries?: TimeseriesBackend;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const { handler, logRetention, environment, packages, ...rest } = props;
    const unknown = packages?.filter((p) => !SHIPPED_PACKAGES.includes(p)) ?? [];
    if (unknown.length)
      throw new Error(`${handler}: ${unknown.join(', ')} not in SHIPPED_PACKAGES, so bundled already`);
    const bundle = bundleOptionsFor(environment);
    this.timeseries = bundle.timeseries;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${handler} Lambda`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${PROJECT_ROOT}lambdas/${handler}/handler.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        define: bundle.define,
        externalModules: [...LAZY_SDK_MODULES, ...SHIPPED_PACKAGES],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: BUNDLE_AWS_SDK,
        forceDockerBundling: false,
        ...(packages?.length && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => [
              `mkdir -p "${outputDir}/node_modules"`,
              ...packages.map((p) => `cp -R "${inputDir}/node_modules/${p}" "${outputDir}/node_modules/${p}"`),
            ],
          },
        }),
      },
      ...rest,
    });
  }

  get grantPrincipal(): IPrincipal {
    return this.function.grantPrincipal;
  }
}
