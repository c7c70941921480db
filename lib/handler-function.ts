// One way to build a Lambda from `lambdas/<name>/handler.ts`: local esbuild (no Docker), Node 22 on Graviton, ESM,
// its own log group, and a role that may write that log group and nothing else until granted more.
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal, type IGrantable, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root, with a trailing slash. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * esbuild turns a CommonJS dependency's `require('node:…')` into a shim that throws in an ESM bundle; this banner
 * gives it a real `require`. No bundled dependency needs it today: it keeps the next one from failing at run time.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface HandlerFunctionProps
  extends Pick<NodejsFunctionProps, 'description' | 'environment' | 'timeout' | 'memorySize' | 'onFailure' | 'retryAttempts'> {
  /** The folder under `lambdas/` holding `handler.ts`. */
  readonly handler: string;
  /** @default one month */
  readonly logRetention?: RetentionDays;
}

export class HandlerFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const { handler, logRetention, environment, ...rest } = props;
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
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Ship the SDK version the code was tested with rather than the one the runtime happens to carry.
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
      ...rest,
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the platform\'s declared Lambda runtime (ARCHITECTURE.md), supported by AWS Lambda until 2027; moving to a newer Node is a deliberate, tested upgrade.',
    });
  }

  get grantPrincipal(): IPrincipal {
    return this.function.grantPrincipal;
  }
}
