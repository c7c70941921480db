// The event reports' bucket: a settled event's CSV (lambdas/core/dr/report-files.ts), written once by the housekeeping
// sweep, downloaded through a link the API presigns, never through the API's own response (Lambda caps that at 6 MB).
// Private, SSE-S3, TLS only, public access blocked, access-logged, objects expired with the events they belong to.
// The writer may only PutObject, the API only GetObject (the signature of its links), both on the report keys alone.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type CfnBucket,
  type IBucket,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { HandlerFunction } from './handler-function.js';

/** The report objects' keys (report-files.ts: `events/<eventId>/report.csv`). */
export const REPORT_OBJECTS = 'events/*/report.csv';

export interface ReportsProps {
  /** Where the bucket writes its access logs. */
  readonly accessLogsBucket: IBucket;
  /** Days a report is kept: as long as its event (the fleet events' TTL). @default 730 */
  readonly retentionDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Writes each settled event's CSV (the housekeeping sweep). */
  readonly writer: HandlerFunction;
  /** Presigns downloads (the API). */
  readonly reader: HandlerFunction;
}

export class Reports extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ReportsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'event-reports/',
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
      lifecycleRules: [
        {
          expiration: Duration.days(props.retentionDays ?? 730),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    const objects = this.bucket.arnForObjects(REPORT_OBJECTS);
    const logicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    for (const [fn, action] of [
      [props.writer, 's3:PutObject'],
      [props.reader, 's3:GetObject'],
    ] as const) {
      fn.function.addEnvironment('REPORTS_BUCKET', this.bucket.bucketName);
      fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [action], resources: [objects] }));
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${REPORT_OBJECTS}]`,
        reason: 'The report objects only (one per event, named by event ids that do not exist at deploy time).',
      });
    }
  }
}
