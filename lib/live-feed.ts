// The operators' live feed: the dashboard subscribes to device topics on AWS IoT Core over MQTT-over-WSS with its
// Cognito access token and no AWS keys, through an IoT custom authorizer (lambdas/iot-authorizer) that answers a
// valid token with a read-only policy.
import { Aws, Duration } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnAuthorizer } from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.js';

export interface LiveFeedProps {
  /** Tokens of this pool, issued to this client (the dashboard's), are the only ones accepted. */
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** `arn:<partition>:iot:<region>:<account>` (Fleet.arnPrefix): the account whose topics the policy covers. */
  readonly iotArnPrefix: string;
  /**
   * Reserved concurrency: keeps a flood of connects to the public authorizer from taking the whole account's Lambda
   * concurrency (and the ingest path's with it). Opt-in: a new account's quota can be too small to reserve from.
   * @default none
   */
  readonly reservedConcurrency?: number;
}

/** Authorizer invocations in 5 minutes above which someone is probing: each operator tab connects once and reconnects every 5 minutes. */
export const AUTHORIZER_INVOCATIONS_PER_5_MIN = 300;

export class LiveFeed extends Construct {
  readonly handler: HandlerFunction;
  readonly authorizer: CfnAuthorizer;

  constructor(scope: Construct, id: string, props: LiveFeedProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'iot-authorizer',
      description: 'IoT custom authorizer of the operators live feed: Cognito access token to a read-only policy',
      // IoT Core waits at most 5 s for a custom authorizer.
      timeout: Duration.seconds(5),
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: {
        USER_POOL_ID: props.userPool.userPoolId,
        USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
        IOT_ARN_PREFIX: props.iotArnPrefix,
      },
    });
    // No AWS permissions beyond its logs: it verifies JWTs against the pool's public JWKS (HTTPS, no IAM).
    this.authorizer = new CfnAuthorizer(this, 'Authorizer', {
      authorizerFunctionArn: this.handler.function.functionArn,
      // The token is a Cognito JWT, verified by the Lambda; IoT's token signing is for tokens we would sign ourselves.
      signingDisabled: true,
      status: 'ACTIVE',
      // The policy grants MQTT actions only (no HTTP publish), so there is no HTTP result to cache.
      enableCachingForHttp: false,
    });
    this.handler.function.addPermission('InvokedByIotAuthorizer', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: this.authorizer.attrArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
  }

  /** What the browser passes as `x-amz-customauthorizer-name` (CloudFormation names it). */
  get authorizerName(): string {
    return this.authorizer.ref;
  }
}
