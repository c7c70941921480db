// Agent updates over IoT Jobs in the stack: the release bucket, the presigning role and the job template.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_DOCUMENT_KEY, ROLLOUT } from '../../lib/agent-updates.js';
import type { VppStack } from '../../lib/vpp-stack.js';
import { resourcesOf, statementsOf, synthVpp } from './synth.js';

describe('given the stack, when synthesized, then agent updates', () => {
  let stack: VppStack;
  let template: Template;
  const only = (type: string) => {
    const all = Object.values(resourcesOf(template, type));
    expect(all).toHaveLength(1);
    return all[0]!.Properties;
  };

  beforeAll(() => {
    ({ stack, template } = synthVpp());
  });

  it('keep releases in a bucket that is encrypted, private, TLS only, versioned and logged', () => {
    const bucketRef = stack.resolve(stack.agentUpdates.bucket.bucketName);
    const bucket = template.toJSON().Resources[bucketRef.Ref].Properties;
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LoggingConfiguration.DestinationBucketName).toEqual(
      stack.resolve(stack.dashboard.logBucket.bucketName),
    );
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
    expect(template.toJSON().Resources[bucketRef.Ref].DeletionPolicy).toBe('Retain');
  });

  it('have a job template reading the job document from the bucket, presigning through a read-only role for this account', () => {
    const t = only('AWS::IoT::JobTemplate');
    expect(JSON.stringify(t.DocumentSource)).toContain(JOB_DOCUMENT_KEY);
    expect(JSON.stringify(t.DocumentSource)).toContain(
      JSON.stringify(stack.resolve(stack.agentUpdates.bucket.bucketName)).slice(1, -1),
    );
    expect(t.PresignedUrlConfig).toEqual({
      RoleArn: stack.resolve(stack.agentUpdates.presignRole.roleArn),
      ExpiresInSec: 3600,
    });
    const roleRef = stack.resolve(stack.agentUpdates.presignRole.roleName);
    const role = template.toJSON().Resources[roleRef.Ref].Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'iot.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    const statements = statementsOf(template, roleRef);
    expect(statements.map((s) => s.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(statements[0]!.Resource)).toContain('/agent/agent-*.mjs');
  });

  it('roll out gradually, cancel a job when too many devices fail or time out, and time a stuck device out', () => {
    const t = only('AWS::IoT::JobTemplate');
    expect(t.JobExecutionsRolloutConfig).toEqual({
      ExponentialRolloutRate: {
        BaseRatePerMinute: 5,
        IncrementFactor: 2,
        RateIncreaseCriteria: { NumberOfSucceededThings: 5 },
      },
      MaximumPerMinute: ROLLOUT.maximumPerMinute,
    });
    expect(t.AbortConfig.CriteriaList).toEqual(
      ['FAILED', 'TIMED_OUT'].map((FailureType) => ({
        Action: 'CANCEL',
        FailureType,
        MinNumberOfExecutedThings: 5,
        ThresholdPercentage: 10,
      })),
    );
    expect(t.TimeoutConfig).toEqual({ InProgressTimeoutInMinutes: 15 });
  });

  it('let a device use its own jobs topics only (${iot:ClientId}), with no S3 right at all', () => {
    const policy = JSON.stringify(
      resourcesOf(template, 'AWS::IoT::Policy')[stack.getLogicalId(stack.fleet.devicePolicy)]!.Properties
        .PolicyDocument,
    );
    expect(policy).toContain('topic/$aws/things/${iot:ClientId}/*');
    expect(policy).toContain('topic*/$aws/things/${iot:ClientId}/*');
    expect(policy).not.toMatch(/\$aws\/things\/\*|\$aws\/things\/\+|s3:/);
  });

  it('output the bucket, the template and the thing group ARN that jobs target', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AgentReleaseBucketName!.Value).toEqual(stack.resolve(stack.agentUpdates.bucket.bucketName));
    expect(outputs.AgentJobTemplateArn!.Value).toEqual(stack.resolve(stack.agentUpdates.jobTemplate.attrArn));
    expect(outputs.ThingGroupArn!.Value).toEqual(stack.resolve(stack.fleet.thingGroup.attrArn));
  });
});
