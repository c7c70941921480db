// Agent updates over IoT Jobs (AWS side): the release bucket and the job template operators create update jobs from.
// Devices need no S3 rights: IoT puts a presigned URL (signed with the template's role, valid one hour) in each
// device's copy of the job document, which names the release by `${aws:iot:s3-presigned-url:…}`.
// Releasing: upload agent-<version>.mjs and its job document (`npm run job -- document`) as JOB_DOCUMENT_KEY, then
// `npm run job -- create --aws --template <AgentJobTemplateArn> --group-arn <ThingGroupArn>`.
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { CfnJobTemplate } from 'aws-cdk-lib/aws-iot';
import { BlockPublicAccess, Bucket, BucketEncryption, CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createOnlyDigest } from './create-only.js';
import { iotAccountPrincipal } from './iot-service-role.js';

/** Where releases go in the bucket, and the job document the template reads when a job is created. */
export const RELEASES_PREFIX = 'agent/';
export const JOB_DOCUMENT_KEY = `${RELEASES_PREFIX}job-document.json`;

/** How an update rolls out over the fleet, and when it stops. */
export const ROLLOUT = {
  /** Start with 5 devices a minute, double after every 5 successes, never more than 50 a minute. */
  exponentialRate: { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } },
  maximumPerMinute: 50,
  /** Cancel the job once 10 % of at least 5 executions failed or timed out: a bad release stops early. */
  abortThresholdPercentage: 10,
  abortMinExecutedThings: 5,
  /** An execution not finished by then is TIMED_OUT (download, restart and health check take about a minute). */
  inProgressTimeoutMinutes: 15,
  presignedUrlExpiresSec: 3600,
} as const;

export interface AgentUpdatesProps {
  /** Where the release bucket writes its access logs. */
  readonly accessLogsBucket: IBucket;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class AgentUpdates extends Construct {
  readonly bucket: Bucket;
  readonly jobTemplate: CfnJobTemplate;
  /** The role IoT presigns release URLs with: read on the releases, nothing else. */
  readonly presignRole: Role;

  constructor(scope: Construct, id: string, props: AgentUpdatesProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new Bucket(this, 'Releases', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'agent-releases/',
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });
    this.presignRole = new Role(this, 'PresignRole', {
      assumedBy: iotAccountPrincipal(),
      description: 'AWS IoT Jobs presigns agent release URLs with this role',
    });
    this.presignRole.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${RELEASES_PREFIX}agent-*.mjs`)],
      }),
    );
    Validations.of(this.presignRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/${RELEASES_PREFIX}agent-*.mjs]`,
      reason: 'Read on the release files only (agent-<version>.mjs): each job presigns the one its document names.',
    });
    // CfnJobTemplate types these four as `any`: CDK passes them through as written, so they are in CloudFormation's case
    const failed = (FailureType: 'FAILED' | 'TIMED_OUT') => ({
      Action: 'CANCEL',
      FailureType,
      MinNumberOfExecutedThings: ROLLOUT.abortMinExecutedThings,
      ThresholdPercentage: ROLLOUT.abortThresholdPercentage,
    });
    const rate = ROLLOUT.exponentialRate;
    // Every property of a job template is create-only (a change replaces it) and CloudFormation requires its id: the
    // id carries a digest of the other properties, so a changed template is a new one under a new id rather than a
    // replacement CloudFormation refuses for a custom-named resource. Jobs name it by AgentJobTemplateArn.
    const stack = Stack.of(this);
    const template = {
      description: 'Update the VPP device agent: the job document names the release, its sha256 and Ed25519 signature',
      documentSource: `https://s3.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.bucket.bucketName}/${JOB_DOCUMENT_KEY}`,
      presignedUrlConfig: { RoleArn: this.presignRole.roleArn, ExpiresInSec: ROLLOUT.presignedUrlExpiresSec },
      jobExecutionsRolloutConfig: {
        ExponentialRolloutRate: {
          BaseRatePerMinute: rate.baseRatePerMinute,
          IncrementFactor: rate.incrementFactor,
          RateIncreaseCriteria: { NumberOfSucceededThings: rate.rateIncreaseCriteria.numberOfSucceededThings },
        },
        MaximumPerMinute: ROLLOUT.maximumPerMinute,
      },
      abortConfig: { CriteriaList: [failed('FAILED'), failed('TIMED_OUT')] },
      timeoutConfig: { InProgressTimeoutInMinutes: ROLLOUT.inProgressTimeoutMinutes },
    };
    // in CloudFormation's order of the create-only properties (test/lib/aws-rules.ts, CREATE_ONLY)
    const digest = createOnlyDigest(
      stack.resolve([
        template.description,
        template.documentSource,
        template.timeoutConfig,
        template.jobExecutionsRolloutConfig,
        template.abortConfig,
        template.presignedUrlConfig,
      ]),
    );
    this.jobTemplate = new CfnJobTemplate(this, 'AgentUpdate', {
      jobTemplateId: `${stack.stackName.slice(0, 64 - '-agent-update-12345678'.length)}-agent-update-${digest}`,
      ...template,
    });
  }
}
