// The operator dashboard: a private bucket behind CloudFront (origin access control), with the build of web/
// and a config.json that tells the browser where the API, IoT and Cognito are.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BOOTSTRAP_QUALIFIER_CONTEXT,
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import {
  Distribution,
  HttpVersion,
  PriceClass,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  S3OriginAccessControl,
  Signing,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source, type ISource } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { AwsDashboardConfig } from '../web/src/config.js';

/** What the browser reads from `/config.json` at start-up: the dashboard's own contract (web/src/config.ts). */
export type DashboardConfig = AwsDashboardConfig;

export interface DashboardProps {
  /** The built dashboard (`npm run web:build` writes `web/dist`); its `index.html` must exist at synth. */
  readonly siteDir: string;
  /**
   * What `cdk destroy` does to the access-log bucket (the audit trail; the site bucket holds only build output and
   * always goes). DESTROY empties it first. @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A name for a resource whose names are global to the account (CloudFront policies and origin access controls):
 * `<stack>-<region>-<what>`, so the same stack deploys to a second region of the account. CloudFront allows 64
 * characters for a response headers policy name and an origin access control name.
 */
export function globalName(stack: Stack, what: string): string {
  const region = Token.isUnresolved(stack.region) ? 14 : stack.region.length; // the longest region name is 14 characters
  return `${stack.stackName.slice(0, 64 - region - what.length - 2)}-${stack.region}-${what}`;
}

export class Dashboard extends Construct {
  readonly bucket: Bucket;
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  private readonly siteDir: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    // Never deploy a stand-in: a stack without the real dashboard would look deployed and not work.
    if (!existsSync(join(props.siteDir, 'index.html'))) {
      throw new Error(
        `No dashboard build at ${props.siteDir} (index.html is missing): build the dashboard: npm run web:build`,
      );
    }
    this.siteDir = props.siteDir;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.logBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes through bucket ACLs.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Access logs are an audit trail: they outlive the stack unless -c destroyData=true says otherwise.
      removalPolicy: logRemovalPolicy,
      autoDeleteObjects: logRemovalPolicy === RemovalPolicy.DESTROY,
    });
    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      // Only build output lives here: `cdk destroy` may empty and remove it.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'VPP operator dashboard',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessControl: new S3OriginAccessControl(this, 'OriginAccess', {
            originAccessControlName: globalName(Stack.of(this), 'dashboard-oac'),
            signing: Signing.SIGV4_ALWAYS,
          }),
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: this.securityHeaders(),
      },
      // The dashboard routes in the browser: unknown paths serve the app.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.minutes(5),
      })),
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'Served on the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes; attach a custom domain with an ACM certificate to set TLSv1.2_2021.',
      },
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Static assets only, for operators wherever they are; the data behind them is gated by Cognito sign-in on the API.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static assets only, no server-side logic to protect; the API is JWT-authorised and throttled. Add a WAF web ACL where policy requires one.',
      },
    );
  }

  /**
   * The page runs no inline script and talks only to its API, IoT Core's WebSocket and the Cognito domain of its own
   * region. Wildcards rather than the exact hosts: the API and the user pool client already depend on this
   * distribution's domain, so naming them here would be a dependency cycle.
   */
  private securityHeaders(): ResponseHeadersPolicy {
    const region = Stack.of(this).region;
    const csp = [
      "default-src 'self'",
      "img-src 'self' data:",
      "style-src 'self'",
      `connect-src 'self' https://*.execute-api.${region}.amazonaws.com wss://*.iot.${region}.amazonaws.com https://*.auth.${region}.amazoncognito.com`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ].join('; ');
    return new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      // CloudFront names are global to the account: the region keeps the same stack in two regions apart
      responseHeadersPolicyName: globalName(Stack.of(this), 'dashboard-headers'),
      comment: 'VPP dashboard: CSP and the usual security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Publishes the site and its `config.json` in one deployment, so neither prunes the other. */
  publish(config: DashboardConfig): BucketDeployment {
    const site: ISource = Source.asset(this.siteDir);
    const logGroup = new LogGroup(this, 'DeploymentLogs', { retention: RetentionDays.ONE_MONTH });
    const role = new Role(this, 'DeploymentRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const deployment = new BucketDeployment(this, 'Deployment', {
      sources: [site, Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      outputObjectKeys: false,
      memoryLimit: 512,
      role,
      logGroup,
    });
    this.acknowledgeDeployment(role);
    return deployment;
  }

  private acknowledgeDeployment(role: Role): void {
    const stack = Stack.of(this);
    const qualifier =
      stack.node.tryGetContext(BOOTSTRAP_QUALIFIER_CONTEXT) ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const siteBucket = stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    // nag names the asset bucket as the template does: with literals once the stack's environment is known
    const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const copy =
      'BucketDeployment copies the build from the CDK asset bucket into the site bucket and prunes stale files';
    const findings: Record<string, string> = {
      'Action::s3:GetObject*': `${copy}: CDK's read grant on the asset object.`,
      'Action::s3:GetBucket*': `${copy}: CDK's read grant on the asset bucket.`,
      'Action::s3:List*': `${copy}: listing the source and the site bucket.`,
      'Action::s3:DeleteObject*': `${copy}: pruning removes files of earlier builds from the site bucket only.`,
      'Action::s3:Abort*': `${copy}: aborting a failed multipart upload to the site bucket.`,
      [`Resource::arn:${literal(stack.partition, 'Partition')}:s3:::cdk-${qualifier}-assets-${literal(stack.account, 'AccountId')}-${literal(stack.region, 'Region')}/*`]: `${copy}: the bootstrap asset bucket holds the zipped build under a content hash key.`,
      [`Resource::<${siteBucket}.Arn>/*`]: `${copy}: every object of the site bucket is part of the site.`,
      'Resource::*':
        'cloudfront:CreateInvalidation/GetInvalidation, granted by CDK on "*"; invalidation is the only CloudFront action.',
    };
    for (const [finding, reason] of Object.entries(findings)) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    const provider = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          "The BucketDeployment provider is aws-cdk-lib's own function; its runtime is chosen by, and upgraded with, aws-cdk-lib.",
      });
    }
  }
}
