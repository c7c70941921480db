// The event reports' bucket in the stack: private, SSE, TLS only, public access blocked, logged, reports expired with
// their events; the housekeeping sweep may only put report objects, the API only get them (to presign), both named
// in their environment.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPORT_OBJECTS } from '../../lib/reports.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { functionResource, resourcesOf, statementsOf, synthVpp, type Synthesized } from './synth.js';

describe('given the stack, when synthesized, then the event reports', () => {
  let synth: Synthesized;
  let stack: VppStack;
  let template: Template;
  let bucketRef: { Ref: string };

  beforeAll(() => {
    synth = synthVpp();
    ({ stack, template } = synth);
    bucketRef = stack.resolve(stack.reports.bucket.bucketName);
  });

  it('are kept in a private, encrypted, TLS-only, logged bucket whose objects expire with their events', () => {
    const resource = template.toJSON().Resources[bucketRef.Ref];
    const bucket = resource.Properties;
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.LoggingConfiguration.DestinationBucketName).toEqual(
      stack.resolve(stack.dashboard.logBucket.bucketName),
    );
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        ExpirationInDays: 730,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
    expect(resource.DeletionPolicy).toBe('Retain');
    const policies = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(bucketRef),
    );
    expect(policies[0]!.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('are put by the housekeeping sweep and presigned by the API, each with its one action on the report objects alone', () => {
    const objects = JSON.stringify(stack.resolve(stack.reports.bucket.arnForObjects(REPORT_OBJECTS)));
    for (const [fn, action] of [
      [stack.ingest.commandTimeouts, 's3:PutObject'],
      [stack.api.handler, 's3:GetObject'],
    ] as const) {
      const s3 = statementsOf(template, stack.resolve(fn.role.roleName)).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('s3:')),
      );
      expect(s3.map((s) => s.Action)).toEqual([action]);
      expect(JSON.stringify(s3[0]!.Resource)).toBe(objects);
      const env = functionResource(synth, fn).Properties as unknown as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(env.Environment.Variables.REPORTS_BUCKET).toEqual(bucketRef);
    }
    // nobody else touches the bucket
    const others = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties).includes(bucketRef.Ref),
    );
    expect(others).toHaveLength(2);
  });
});
